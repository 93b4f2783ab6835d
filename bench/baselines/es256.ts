import { randomUUID } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { seedUserDoc } from '../lib/seed-doc.js';

/**
 * The SET ceiling: jose ES256 compact signatures per second on one thread, over a
 * payload shaped like scimcast's `prov:create:full` SET for a seeded user. Every SET scimcast
 * stores costs one of these, so no single process can produce SETs faster.
 */
export async function es256PerSecond(ms: number, concurrency = 1): Promise<{ perSec: number; ops: number; bytes: number; concurrency: number }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  await exportJWK(privateKey);
  const enc = new TextEncoder();
  const claims = (i: number) => ({
    iss: 'http://127.0.0.1:8080',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    aud: 'http://127.0.0.1:8080/ssf/streams/bench',
    txn: randomUUID().replaceAll('-', ''),
    toe: Math.floor(Date.now() / 1000),
    sub_id: { format: 'scim', uri: `/Users/${randomUUID()}`, id: randomUUID(), externalId: `ext-${i}` },
    events: { 'urn:ietf:params:scim:event:prov:create:full': { data: seedUserDoc(i), version: 'W/"1"' } },
  });
  const sign = (i: number) => new CompactSign(enc.encode(JSON.stringify(claims(i)))).setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: 'bench' }).sign(privateKey);
  for (let i = 0; i < 200; i++) await sign(i); // warm-up
  let ops = 0;
  let bytes = 0;
  const t0 = performance.now();
  // WebCrypto signs off the main thread, so several signatures in flight may use both cores.
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - t0 < ms) {
        bytes = (await sign(ops++)).length;
      }
    }),
  );
  return { perSec: ops / ((performance.now() - t0) / 1000), ops, bytes, concurrency };
}
