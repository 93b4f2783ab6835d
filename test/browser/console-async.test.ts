import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { eventually, launchBrowser, newPage, screenshot, signIn, startConsoleServer } from '../helpers/browser.js';

/**
 * An asynchronous bulk (RFC 9967 §2.5.1.2, Prefer: respond-async) followed in the console's Async
 * panel to 100%, then opened: every operation's result, and the asyncresp SET kept for it,
 * decoded in the page. Headless Chromium against a real scimcast with a real worker.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const OPS = 12;

let t: TestApp;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  ({ t, origin } = await startConsoleServer());
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('async requests in the console', () => {
  it('a respond-async bulk shows its progress up to 100%, and opened, each operation with its decoded SET', async () => {
    const { page, requests, errors } = await newPage(browser);
    await signIn(page, origin, t.token);
    const Operations = Array.from({ length: OPS }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { schemas: [USER], userName: `async-console-${i}` } }));
    // One operation fails (a duplicate userName): its result shows the error.
    Operations.push({ method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: 'async-console-0' } });
    const res = await t.req('POST', '/scim/v2/Bulk', { schemas: [BULK], Operations }, { headers: { prefer: 'respond-async' } });
    expect(res.statusCode, res.body).toBe(202);
    const txn = res.headers['set-txn'] as string;

    const row = page.locator(`[data-txn="${txn}"]`);
    await eventually(() => row.count()).toBe(1);
    await eventually(() => row.locator('progress').getAttribute('value')).toBe('100');
    await eventually(() => row.locator('.badge').textContent()).toBe('completed');
    expect(await row.locator('.progress-text').textContent()).toBe(`100% · ${OPS + 1} of ${OPS + 1} · 1 failed`);

    await row.getByRole('button', { name: 'Open' }).click();
    const detail = page.locator('#async-detail');
    await detail.waitFor({ state: 'visible' });
    const ops = detail.locator('.operation');
    await eventually(() => ops.count()).toBe(OPS + 1);
    expect(await ops.locator('.op-status').allTextContents()).toEqual([...new Array(OPS).fill('201'), '409']);
    expect(await ops.last().textContent()).toMatch(/bulkId dup/);

    // The SET kept for the first operation, decoded in the page: its jti, txn and asyncresp event.
    const first = ops.first();
    await first.getByText('SET payload').click();
    const payload = JSON.parse((await first.locator('pre.set').textContent())!);
    expect(payload.jti).toBe((await first.locator('dd code').nth(1).textContent())?.trim());
    expect(Object.keys(payload.events)).toContain('urn:ietf:params:scim:event:misc:asyncresp');
    expect(String(payload.txn)).toContain(txn);
    await screenshot(page, 'async-request', { fullPage: true });

    // Still open, with the SET still unfolded, after the next refreshes.
    const before = await page.locator('#updated').textContent();
    await eventually(() => page.locator('#updated').textContent()).not.toBe(before);
    expect(await detail.isVisible()).toBe(true);
    expect(await first.locator('pre.set').isVisible()).toBe(true);

    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
