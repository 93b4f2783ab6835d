import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { eventually, SCREENSHOTS, startConsoleServer } from '../helpers/browser.js';
import { launchFirefox } from '../helpers/firefox.js';

/**
 * The console in headless Firefox (WebDriver BiDi) against a real scimcast on loopback: the same
 * page the Chromium tests drive in depth signs in, fills every panel and follows an async bulk to
 * 100%, at the desktop size and on a phone-sized viewport, with no script error and no request
 * leaving the server's origin.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

let t: TestApp;
let origin: string;
let browser: Browser;
let streamId: string;

beforeAll(async () => {
  ({ t, origin } = await startConsoleServer());
  browser = await launchFirefox();
  const created = await t.req('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8936' }, events_requested: ['urn:ietf:params:scim:event:prov:create:notice'], description: 'Audit log (poll)' });
  expect(created.statusCode, created.body).toBe(201);
  streamId = created.json().stream_id;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the console in Firefox', () => {
  it('signs in, shows every panel and follows an async bulk to 100%, at 1280×800 and at 390×844', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => void requests.push(r.url()));
    page.on('pageerror', (e) => void errors.push(String(e)));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.setViewport({ width: 1280, height: 800 });

    const res = await page.goto(`${origin}/console`);
    expect(res!.headers()['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self'/);
    await page.waitForSelector('#token', { visible: true });
    expect(await page.$eval('#panels', (el) => (el as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.type('#token', t.token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#panels', { visible: true });

    const count = (selector: string) => page.$$eval(selector, (els) => els.length);
    const text = (selector: string) => page.$eval(selector, (el) => (el as unknown as { textContent: string }).textContent).catch(() => null);
    await eventually(() => count(`[data-stream="${streamId}"]`)).toBe(1);
    await eventually(() => count('[data-panel="keys"] .key')).toBe(1);
    await eventually(() => text('[data-panel="health"] .readiness')).toBe('ready');

    const Operations = Array.from({ length: 5 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `f${i}`, data: { schemas: [USER], userName: `firefox-${i}` } }));
    const bulk = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations }, { headers: { prefer: 'respond-async' } });
    expect(bulk.statusCode, bulk.body).toBe(202);
    const txn = bulk.headers['set-txn'] as string;
    await eventually(() => text(`[data-txn="${txn}"] .progress-text`)).toMatch(/^100% · 5 of 5/);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'firefox-1280x800.png') as `${string}.png` });

    // A phone-sized viewport: the page reflows, nothing scrolls sideways.
    await page.setViewport({ width: 390, height: 844 });
    await eventually(() => page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'firefox-390x844.png') as `${string}.png` });

    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
  }, 90_000);
});
