import { expect } from 'vitest';
import type { TestApp } from './app.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * A loopback receiver and a push stream to it that asks for `prov:create:notice` (the common
 * set-up of the push tests). The receiver is added to `receivers`, which the test closes.
 */
export async function pushStreamTo(t: TestApp, receivers: Receiver[]): Promise<{ rec: Receiver; id: string }> {
  const rec = await startReceiver();
  receivers.push(rec);
  const body = { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice'] };
  const res = await t.req('POST', '/ssf/streams', body, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  return { rec, id: (res.json() as { stream_id: string }).stream_id };
}
