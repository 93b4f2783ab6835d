import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';

/** Test-side SET transmitter pieces: signing keys, a JWKS served on loopback, SET builders. */
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface TestKey {
  kid: string;
  publicJwk: JWK;
  privateKey: PrivateKey;
}

export async function makeKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }, privateKey };
}

export const ISS = 'https://scim.example.test';
export const AUD = 'https://scim.example.test/ssf/streams/f-test';
export const EV = 'urn:ietf:params:scim:event:';

let n = 0;
export const newJti = () => `jti-${Date.now()}-${n++}`;

export function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISS,
    iat: now,
    jti: newJti(),
    aud: [AUD],
    txn: 'txn-1',
    toe: now,
    sub_id: { format: 'scim', uri: '/Users/u1', id: 'u1' },
    events: { [`${EV}prov:create:notice`]: { attributes: ['userName'] } },
    ...over,
  };
}

export async function sign(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** Flip one character of the payload part: the signature no longer matches. */
export function tamper(jws: string): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const i = Math.floor(p.length / 2);
  const flipped = p[i] === 'A' ? 'B' : 'A';
  return `${h}.${p.slice(0, i)}${flipped}${p.slice(i + 1)}.${s}`;
}

export interface JwksServer {
  url: string;
  keys: TestKey[];
  fetches: number;
  /** Answer with this status instead of the keys (e.g. 503). */
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const s: JwksServer = { url: '', keys, fetches: 0, failWith: undefined, close: async () => {} };
  const server: Server = createServer((_req, res) => {
    s.fetches++;
    if (s.failWith) {
      res.writeHead(s.failWith);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: s.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  s.close = () => new Promise((r) => server.close(() => r()));
  return s;
}
