import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../../core/errors.js';
import { described } from '../openapi/route-doc.js';

/**
 * The operator console (docs/console.md): plain HTML, CSS and ES modules from the package's
 * top-level `console/` folder (one level above src/ and dist/, so the same path from both), read
 * once when the app is built and served from memory. The page is public: it shows nothing until
 * the user gives a token, and every figure comes from the token-protected APIs it then calls.
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

/**
 * Nothing inline and nothing from elsewhere: scripts, styles and API calls only from this origin,
 * so an error text a receiver sent cannot run as script even if it reached the page as markup.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** Every servable file of `dir` (one flat folder), by name; none when the folder is missing. */
export function readConsoleAssets(dir: string = CONSOLE_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (entry.isFile() && type) assets.set(entry.name, { type, body: readFileSync(join(dir, entry.name)) });
  }
  return assets;
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  return (
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      // Revalidated on each load, so a page and its modules never mix two versions after an upgrade.
      .header('cache-control', 'no-cache')
      .type(asset.type)
      .send(asset.body)
  );
}

export function consoleRoutes(app: FastifyInstance, assets: Map<string, Asset> = readConsoleAssets()) {
  const page = described('public', {
    summary: 'Operator console',
    description: 'The console page. Public: it shows nothing until the user gives a token, and every figure comes from the APIs that token may call.',
    tags: ['Console'],
    responses: { '200': { description: 'The HTML page, with a strict Content-Security-Policy.', body: { media: ['text/html'] } } },
  });
  const file = described('public', {
    summary: 'Console asset',
    description: 'A script, style sheet or image of the console, from the package.',
    tags: ['Console'],
    responses: {
      '200': { description: 'The file.', body: { media: ['text/javascript', 'text/css', 'image/svg+xml', 'image/png'] } },
      '404': { description: 'No such console file.', body: { schema: 'Error', media: ['application/scim+json'] } },
    },
  });
  const serve = (reply: FastifyReply, path: string) => {
    // Only the files read at start: a lookup in a map, so no path can leave the folder.
    const asset = assets.get(path === '' ? 'index.html' : path);
    if (!asset) throw notFound(`console file ${path} not found`);
    return send(reply, asset);
  };
  app.get('/console', page, async (_req, reply) => serve(reply, ''));
  app.get<{ Params: { file: string } }>('/console/:file', file, async (req, reply) => serve(reply, req.params.file));
}
