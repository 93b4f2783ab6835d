import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { currentKeyLoader, ensureSigningKey } from '../../src/events/key-store.js';
import { makeSetSigner } from '../../src/events/sign.js';
import { makeDb, type Database } from '../../src/storage/db.js';
import { makeStorage } from '../../src/storage/index.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * A transaction that signs many SETs at once (a bulk batch's asyncresp SETs) asks for the current
 * key once on its connection: pg deprecates queueing a query on a client already running one, and
 * printed "DeprecationWarning: Calling client.query() when the client is already executing a
 * query" at every `scimcast start` that ran an async bulk.
 */
let t: { url: string; drop: () => Promise<void> };
let database: Database;
const warnings: string[] = [];
const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);

beforeAll(async () => {
  t = await createTestDatabase();
  database = makeDb(t.url, { max: 2 });
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await database.close();
  await t.drop();
});

describe('current signing key in a transaction that signs concurrently', () => {
  it('is read once, with no query queued behind another on the connection', async () => {
    const storage = makeStorage(database.db);
    await ensureSigningKey(storage, systemClock, () => 'conc0001');
    const sign = makeSetSigner(currentKeyLoader(systemClock));
    const now = Math.floor(Date.now() / 1000);
    const jws = await storage.withTx((s) =>
      Promise.all(Array.from({ length: 50 }, (_, i) => sign({ iss: 'https://scim.example', aud: ['a'], jti: `j${i}`, iat: now, events: {} } as never, { storage: s }))),
    );
    expect(new Set(jws.map((j) => JSON.parse(Buffer.from(j.split('.')[0]!, 'base64url').toString()).kid)).size).toBe(1);
    await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on a later tick
    expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
  });
});
