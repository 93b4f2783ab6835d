import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwksUnavailableError } from '../../../src/client/jwks-source.js';
import { ndjsonFile } from '../../../src/client/ndjson-output.js';
import { RecentJtis } from '../../../src/client/recent-jtis.js';
import { SetReceiver, type ReceivedSet } from '../../../src/client/set-receiver.js';
import { AUD, claims, EV, ISS, makeKey, sign, startJwksServer, tamper, type JwksServer, type TestKey } from './receiver-fixtures.js';

/**
 * SetReceiver: what a receiver accepts, rejects with which RFC 8935 §2.4 code (after the checks
 * of RFC 8935 §2), what it tolerates from older peers (draft URIs, a numeric status, no iat) and
 * how it de-duplicates by jti (RFC 8417 §2.2). Keys come from a real JWKS endpoint on loopback.
 */
let key: TestKey;
let jwks: JwksServer;
const dir = mkdtempSync(join(tmpdir(), 'scimcast-recv-'));
let files = 0;
const outFile = () => join(dir, `out-${files++}.ndjson`);
const lines = (f: string): ReceivedSet[] =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ReceivedSet);

beforeAll(async () => {
  key = await makeKey('k1');
  jwks = await startJwksServer([key]);
});
afterAll(() => jwks.close());

async function receiver(opts: { out?: string; issuer?: string; audience?: string; warnings?: string[] } = {}) {
  const output = opts.out ? await ndjsonFile(opts.out) : undefined;
  return new SetReceiver({ jwksUrl: jwks.url, issuer: opts.issuer ?? ISS, audience: opts.audience ?? AUD, output, onWarning: (m) => opts.warnings?.push(m), jwksRefreshMinMs: 10 });
}

describe('SetReceiver verification', () => {
  it('accepts a signed SET and writes one NDJSON line with its claims and the exact JWS', async () => {
    const out = outFile();
    const r = await receiver({ out });
    const c = claims();
    const jws = await sign(key, c);
    const o = await r.receive(jws, { via: 'poll' });
    expect(o.outcome).toBe('accepted');
    await r.close();
    const [line, ...rest] = lines(out);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ jti: c.jti, iss: ISS, aud: [AUD], iat: c.iat, txn: 'txn-1', toe: c.toe, sub_id: c.sub_id, events: c.events, via: 'poll', set: jws });
    expect(line!.warnings).toBeUndefined();
    expect(Date.parse(line!.received_at)).not.toBeNaN();
  });

  it('a tampered SET (one payload byte flipped) is invalid_request and nothing is written', async () => {
    const out = outFile();
    const r = await receiver({ out });
    const o = await r.receive(tamper(await sign(key, claims())));
    expect(o).toMatchObject({ outcome: 'rejected', err: 'invalid_request', description: expect.stringMatching(/signature/) });
    await r.close();
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('wrong iss is invalid_issuer; an aud without ours is invalid_audience (RFC 8935 §2)', async () => {
    const r = await receiver();
    expect(await r.receive(await sign(key, claims({ iss: 'https://evil.example' })))).toMatchObject({ outcome: 'rejected', err: 'invalid_issuer' });
    expect(await r.receive(await sign(key, claims({ aud: ['https://elsewhere.example/feed'] })))).toMatchObject({ outcome: 'rejected', err: 'invalid_audience' });
    // aud as a plain string is fine (RFC 7519 §4.1.3) and is written as an array.
    const o = await r.receive(await sign(key, claims({ aud: AUD })));
    expect(o.outcome === 'accepted' && o.set.aud).toEqual([AUD]);
    expect(r.stats).toEqual({ accepted: 1, duplicates: 0, rejected: 2 });
  });

  it('an unknown kid refreshes the JWKS once, then is invalid_key; the same kid again does not refetch', async () => {
    const stranger = await makeKey('not-published');
    const r = await receiver();
    await r.start();
    const before = jwks.fetches;
    expect(await r.receive(await sign(stranger, claims()))).toMatchObject({ outcome: 'rejected', err: 'invalid_key' });
    expect(jwks.fetches).toBe(before + 1);
    expect(await r.receive(await sign(stranger, claims()))).toMatchObject({ outcome: 'rejected', err: 'invalid_key' });
    expect(jwks.fetches).toBe(before + 1);
  });

  it('a rotated key is picked up by that refresh (scimcast keys rotate)', async () => {
    const r = await receiver();
    await r.start();
    const next = await makeKey('k2');
    jwks.keys = [key, next];
    try {
      expect((await r.receive(await sign(next, claims()))).outcome).toBe('accepted');
      expect((await r.receive(await sign(key, claims()))).outcome).toBe('accepted');
    } finally {
      jwks.keys = [key];
    }
  });

  it('typ other than secevent+jwt, alg none, garbage, a missing jti or empty events are invalid_request', async () => {
    const r = await receiver();
    const noneJws = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'secevent+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    const cases = [
      await sign(key, claims(), { typ: 'JWT' }),
      noneJws,
      'not.a.jws',
      await sign(key, claims({ jti: undefined })),
      await sign(key, claims({ events: {} })),
      await sign(key, claims({ events: { [`${EV}prov:delete`]: 'gone' } })),
      await sign(key, claims({ iat: 'yesterday' })),
    ];
    for (const jws of cases) expect(await r.receive(jws), jws.slice(0, 40)).toMatchObject({ outcome: 'rejected', err: 'invalid_request' });
    expect(r.stats.accepted).toBe(0);
  });

  it('a poll key that differs from the jti claim is invalid_request', async () => {
    const r = await receiver();
    expect(await r.receive(await sign(key, claims({ jti: 'a' })), { jti: 'b' })).toMatchObject({ outcome: 'rejected', jti: 'b', err: 'invalid_request' });
  });

  it('is lenient with older peers: draft URIs, numeric status, no iat (with a warning)', async () => {
    const out = outFile();
    const warnings: string[] = [];
    const r = await receiver({ out, warnings });
    const c = claims({
      iat: undefined,
      events: { 'urn:ietf:params:SCIM:event:misc:asyncResp': { method: 'POST', status: 409, response: { status: 409, scimType: 'uniqueness', detail: 'taken' } } },
    });
    const o = await r.receive(await sign(key, c));
    expect(o.outcome).toBe('accepted');
    await r.flush();
    const [line] = lines(out);
    expect(line!.iat).toBeNull();
    expect(line!.events).toEqual({ [`${EV}misc:asyncresp`]: { method: 'POST', status: '409', response: { status: '409', scimType: 'uniqueness', detail: 'taken' } } });
    expect(line!.warnings).toEqual([expect.stringMatching(/no iat/)]);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`SET ${c.jti as string}: no iat`))]);
    // Upper-case SCIM prov URIs map too; status as a string is kept as it is.
    const o2 = await r.receive(await sign(key, claims({ events: { 'urn:ietf:params:SCIM:event:prov:create:full': { data: {} }, [`${EV}misc:asyncresp`]: { method: 'PUT', status: '200' } } })));
    expect(o2.outcome === 'accepted' && Object.keys(o2.set.events)).toEqual([`${EV}prov:create:full`, `${EV}misc:asyncresp`]);
    // A status that is not an HTTP status is still wrong.
    expect(await r.receive(await sign(key, claims({ events: { [`${EV}misc:asyncresp`]: { method: 'PUT', status: true } } })))).toMatchObject({ outcome: 'rejected', err: 'invalid_request' });
  });
});

describe('SetReceiver de-duplication by jti (RFC 8417 §2.2, RFC 8935 §2, RFC 8936 §2.4)', () => {
  it('a repeat is a duplicate and is not written again, also when both copies arrive at once', async () => {
    const out = outFile();
    const r = await receiver({ out });
    const jws = await sign(key, claims());
    expect((await r.receive(jws)).outcome).toBe('accepted');
    expect((await r.receive(jws)).outcome).toBe('duplicate');
    const twin = await sign(key, claims());
    const both = await Promise.all([r.receive(twin), r.receive(twin)]);
    expect(both.map((o) => o.outcome).sort()).toEqual(['accepted', 'duplicate']);
    await r.close();
    expect(lines(out)).toHaveLength(2);
    expect(r.stats).toEqual({ accepted: 2, duplicates: 2, rejected: 0 });
  });

  it('jtis already in the output file count as seen after a restart; a torn last line is skipped and closed', async () => {
    const out = outFile();
    const first = await receiver({ out });
    const jws = await sign(key, claims());
    await first.receive(jws);
    await first.close();
    writeFileSync(out, `${readFileSync(out, 'utf8')}{"jti":"torn`, 'utf8');
    const second = await receiver({ out });
    expect((await second.receive(jws)).outcome).toBe('duplicate');
    expect((await second.receive(await sign(key, claims()))).outcome).toBe('accepted');
    await second.close();
    const text = readFileSync(out, 'utf8').split('\n');
    expect(text[1]).toBe('{"jti":"torn');
    expect(JSON.parse(text[2]!).via).toBe('push');
  });

  it('remembers a bounded number of jtis, least recently seen dropping out first', () => {
    const seen = new RecentJtis(3);
    for (const j of ['a', 'b', 'c']) seen.add(j);
    expect(seen.has('a')).toBe(true); // refreshes a
    seen.add('d'); // evicts b
    expect([seen.has('a'), seen.has('b'), seen.has('c'), seen.has('d')]).toEqual([true, false, true, true]);
    expect(seen.size).toBe(3);
  });
});

describe('SetReceiver keys', () => {
  it('fails fast when the JWKS cannot be fetched', async () => {
    const r = new SetReceiver({ jwksUrl: 'http://127.0.0.1:9/jwks.json', issuer: ISS, audience: AUD });
    await expect(r.start()).rejects.toBeInstanceOf(JwksUnavailableError);
  });

  it('an unknown kid while the JWKS host is down cannot be judged yet: it throws instead of rejecting', async () => {
    const r = await receiver();
    await r.start();
    jwks.failWith = 503;
    try {
      const stranger = await makeKey('rotated-while-down');
      await expect(r.receive(await sign(stranger, claims()))).rejects.toBeInstanceOf(JwksUnavailableError);
      expect(r.stats.rejected).toBe(0);
    } finally {
      jwks.failWith = undefined;
    }
  });

  it('takes fixed keys without a URL', async () => {
    const r = new SetReceiver({ jwks: { keys: [key.publicJwk] }, issuer: ISS, audience: AUD });
    expect((await r.receive(await sign(key, claims()))).outcome).toBe('accepted');
  });
});

describe('SetReceiver expectations', () => {
  it('will not be built without the expected iss and aud (null skips a check on purpose)', async () => {
    const jwks = { keys: [key.publicJwk] };
    const unchecked = [{ jwks }, { jwks, issuer: ISS }, { jwks, audience: AUD }, { jwks, issuer: '', audience: AUD }, { jwks, issuer: ISS, audience: 7 }];
    for (const opts of unchecked) expect(() => new SetReceiver(opts as never), JSON.stringify(Object.keys(opts))).toThrow(/is required/);
    const any = new SetReceiver({ jwks, issuer: null, audience: null });
    expect((await any.receive(await sign(key, claims({ iss: 'https://elsewhere.example', aud: ['https://elsewhere.example/s'] })))).outcome).toBe('accepted');
  });

  it('a SET for another stream or from another issuer is rejected and counted', async () => {
    const r = new SetReceiver({ jwks: { keys: [key.publicJwk] }, issuer: ISS, audience: AUD });
    const otherStream = await r.receive(await sign(key, claims({ aud: [`${ISS}/ssf/streams/f-other`] })));
    const otherIssuer = await r.receive(await sign(key, claims({ iss: 'https://elsewhere.example' })));
    expect([otherStream, otherIssuer]).toMatchObject([
      { outcome: 'rejected', err: 'invalid_audience' },
      { outcome: 'rejected', err: 'invalid_issuer' },
    ]);
    expect(r.stats).toEqual({ accepted: 0, duplicates: 0, rejected: 2 });
  });
});
