import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/app.js';

/**
 * The console's files as the server hands them out: the page and each asset with the strict CSP,
 * nosniff and no-referrer; nothing inline and nothing from another origin; no file outside the
 * console folder reachable. What the page does in a browser is in test/browser/.
 */
const t = useTestApp();
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const get = (url: string) => t.app.inject({ method: 'GET', url });
const files = readdirSync(join(import.meta.dirname, '../../console'));

function expectHardened(res: Awaited<ReturnType<typeof get>>) {
  expect(res.headers['content-security-policy']).toBe(CSP);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

describe('GET /console', () => {
  it('serves the page without a token, with the CSP and no inline script or style', async () => {
    const res = await get('/console');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectHardened(res);
    expect(res.body).toContain('<input id="token"');
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(res.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect((await get('/console/')).body).toBe(res.body);
  });

  it('serves every file the page and its modules refer to, each with the CSP, all from /console/', async () => {
    const html = (await get('/console')).body;
    const refs = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    const modules = files.filter((f) => f.endsWith('.js'));
    for (const m of modules) {
      const js = (await get(`/console/${m}`)).body;
      refs.push(...[...js.matchAll(/from '\.\/([^']+)'/g)].map((x) => `/console/${x[1]}`));
    }
    expect(refs).toContain('/console/app.js');
    expect(refs).toContain('/console/console.css');
    for (const ref of new Set(refs)) {
      expect(ref, 'same origin, under /console/').toMatch(/^\/console\/[\w.-]+$/);
      const res = await get(ref);
      expect(res.statusCode, ref).toBe(200);
      expectHardened(res);
      expect(res.headers['content-type'], ref).toMatch(ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    }
  });

  it('no asset names another origin (the SVG namespace is a name, never fetched)', async () => {
    for (const f of files) {
      const body = (await get(`/console/${f}`)).body.replaceAll('http://www.w3.org/2000/svg', '');
      expect(body, f).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    }
  });

  it('an unknown file, or a path out of the folder, is a SCIM 404', async () => {
    for (const url of ['/console/nothing.js', '/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('"dependencies"');
    }
    expect((await get('/console/nothing.js')).json()).toMatchObject({ status: '404' });
  });
});
