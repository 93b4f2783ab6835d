import type { JSONWebKeySet } from 'jose';
import type { SetClaims } from '../../src/events/claims.js';
import { verifySet } from '../../src/events/verify.js';
import type { Received } from './receiver.js';

/**
 * What a receiver can tell about the SETs it got: every one verified against the
 * JWKS, duplicates (at-least-once redelivery after a crash) told apart from losses by `jti`.
 */
export interface ReceivedSets {
  /** Distinct SETs in the order of their first arrival. */
  readonly first: SetClaims[];
  /** Arrivals of a jti already received (redeliveries). */
  readonly duplicates: number;
}

export async function receivedSets(received: readonly Received[], jwks: JSONWebKeySet, audience?: string): Promise<ReceivedSets> {
  const seen = new Set<string>();
  const first: SetClaims[] = [];
  let duplicates = 0;
  for (const r of received) {
    const c = await verifySet(r.body, { jwks, ...(audience ? { audience } : {}) });
    const jti = c.jti as string;
    if (seen.has(jti)) duplicates++;
    else {
      seen.add(jti);
      first.push(c);
    }
  }
  return { first, duplicates };
}

/** The jti of a compact JWS without verifying it (cheap counting inside `until`). */
export function jtiOf(jws: string): string {
  return (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;
}

export function distinctJtis(received: readonly Received[]): number {
  return new Set(received.map((r) => jtiOf(r.body))).size;
}

/**
 * Drain an RFC 8936 poll stream: fetch, acknowledge, repeat until nothing is left. Returns every
 * SET in the order served (oldest first, POLL-*), verified.
 */
export async function pollAll(
  poll: (body: unknown) => Promise<{ sets: Record<string, string>; moreAvailable?: boolean }>,
  jwks: JSONWebKeySet,
): Promise<SetClaims[]> {
  const out: SetClaims[] = [];
  let ack: string[] = [];
  for (;;) {
    const r = await poll({ ack, maxEvents: 1000, returnImmediately: true });
    const jtis = Object.keys(r.sets);
    for (const jti of jtis) out.push(await verifySet(r.sets[jti]!, { jwks }));
    if (jtis.length === 0) {
      if (ack.length > 0) await poll({ ack, maxEvents: 0, returnImmediately: true });
      return out;
    }
    ack = jtis;
  }
}
