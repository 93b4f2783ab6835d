/**
 * The peer baseline: SCIMMY 1.3.5 + scimmy-routers 1.3.2 on express 5, with the
 * straightforward in-memory handlers its README shows (ingress/egress/degress over a Map), in its
 * own process so its RSS and CPU are its own. It prints `listening <url>` on stdout when ready.
 *
 * Handlers are written the way a SCIMMY user writes them first, with one kindness to the peer:
 * userName uniqueness uses a Map index instead of a scan. Filtering, paging and bulkId
 * resolution are SCIMMY's own (egress returns `resource.filter.match(all)`, as its docs suggest).
 *
 * Out of band, `POST /__bench/seed?n=N` adds N users shaped like bench/lib/seed.ts's rows, so the
 * peer answers filtered reads over the same population as scimcast.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { seedUserDoc } from '../lib/seed-doc.js';

type Doc = Record<string, unknown> & { id: string; meta: { created: Date; lastModified: Date } };

/** The few express 5 calls used here (express ships no types; @types/express is not installed). */
interface ExpressApp {
  use(path: string, handler: unknown): void;
  post(path: string, handler: (req: IncomingMessage & { query: Record<string, string> }, res: ServerResponse & { json(v: unknown): void }) => void): void;
  listen(port: number, host: string, cb: () => void): Server;
}
const expressModule = 'express';
const { default: express } = (await import(expressModule)) as { default: () => ExpressApp };

/** The handler shapes SCIMMY calls (SCIMMY.Types.Resource ingress/egress/degress), loosely typed. */
interface Res {
  id?: string;
  filter?: { match(values: unknown[]): unknown[] };
}
type Ingress = (resource: Res, data: Record<string, unknown>) => Doc;
type Egress = (resource: Res) => Doc | unknown[];
type Degress = (resource: Res) => void;
interface Declared {
  ingress(h: Ingress): Declared;
  egress(h: Egress): Declared;
  degress(h: Degress): Declared;
}
const declare = (r: unknown) => SCIMMY.Resources.declare(r as typeof SCIMMY.Resources.User) as unknown as Declared;

const users = new Map<string, Doc>();
const byUserName = new Map<string, string>();
const groups = new Map<string, Doc>();
const TOKEN = process.env.BENCH_TOKEN ?? 'bench-token';

const conflict = (msg: string) => new SCIMMY.Types.Error(409, 'uniqueness', msg);
const notFound = (id: string) => new SCIMMY.Types.Error(404, null as never, `Resource ${id} not found`);

function put(store: Map<string, Doc>, id: string | undefined, data: Record<string, unknown>): Doc {
  const now = new Date();
  const existing = id ? store.get(id) : undefined;
  if (id && !existing) throw notFound(id);
  const doc = { ...data, id: id ?? randomUUID(), meta: { created: existing?.meta.created ?? now, lastModified: now } } as Doc;
  store.set(doc.id, doc);
  return doc;
}

function list(store: Map<string, Doc>, resource: Res): Doc | unknown[] {
  if (resource.id) {
    const one = store.get(resource.id);
    if (!one) throw notFound(resource.id);
    return one;
  }
  const all = [...store.values()];
  return resource.filter ? resource.filter.match(all) : all;
}

declare(SCIMMY.Resources.User)
  .ingress((resource, data) => {
    const key = String(data.userName).toLowerCase();
    const holder = byUserName.get(key);
    if (holder && holder !== resource.id) throw conflict(`userName '${String(data.userName)}' is already in use`);
    const doc = put(users, resource.id, data);
    byUserName.set(key, doc.id);
    return doc;
  })
  .egress((resource) => list(users, resource))
  .degress((resource) => {
    const doc = users.get(resource.id!);
    if (!doc) throw notFound(resource.id!);
    users.delete(doc.id);
    byUserName.delete(String(doc.userName).toLowerCase());
  });

declare(SCIMMY.Resources.Group)
  .ingress((resource, data) => put(groups, resource.id, data))
  .egress((resource) => list(groups, resource))
  .degress((resource) => {
    if (!groups.delete(resource.id!)) throw notFound(resource.id!);
  });

// The same bulk limits scimcast advertises, so a 10,000-operation request is accepted.
SCIMMY.Config.set({ bulk: { supported: true, maxOperations: 10_000, maxPayloadSize: 16 * 1024 * 1024 } });

const app = express();
app.post('/__bench/seed', (req, res) => {
  const n = Number(req.query.n ?? 0);
  const from = users.size;
  const now = new Date();
  for (let i = from; i < from + n; i++) {
    const doc = { ...seedUserDoc(i), id: randomUUID(), meta: { created: now, lastModified: now } } as Doc;
    users.set(doc.id, doc);
    byUserName.set(String(doc.userName).toLowerCase(), doc.id);
  }
  res.json({ users: users.size });
});
app.use(
  '/scim/v2',
  new SCIMMYRouters({
    type: 'bearer',
    handler: (req) => {
      if (req.header('authorization') !== `Bearer ${TOKEN}`) throw new Error('Authorization not detected!');
      return 'bench';
    },
  }),
);

const server = app.listen(0, '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stdout.write(`listening http://127.0.0.1:${addr.port}\n`);
});
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
