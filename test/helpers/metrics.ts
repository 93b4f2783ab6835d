import { expect } from 'vitest';
import type { TestApp } from './app.js';

/** GET /metrics as the given token (the test app's own by default); the exposition text. */
export async function scrapeMetrics(t: TestApp, auth?: string): Promise<string> {
  const res = await t.req('GET', '/metrics', undefined, auth === undefined ? {} : { auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.body;
}

/** The value of one sample, `name{labels}`, in Prometheus text; undefined when absent. */
export function metricSample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
