import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { eventually, inPage, launchBrowser, newPage, screenshot, signIn, startConsoleServer } from '../helpers/browser.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/**
 * An operator following a failing receiver in the console: pause (asked first, Esc says no),
 * a backlog building up, resume into a receiver that refuses (RFC 8935 §2.4: 400 with an error
 * code, so SETs go dead at once), the dead letters with their error, the receiver fixed, redrive
 * with its confirmation, and the backlog and dead letters back to zero. All through the page, in
 * headless Chromium, against a real scimcast with a real worker.
 *
 * SCIMCAST_UPDATE_SCREENSHOT=1 also writes the 1280×800 Streams screenshot to
 * docs/images/console.png (the README's picture), which is otherwise left as committed.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const EV = 'urn:ietf:params:scim:event:prov:';
const REFUSE = { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'unknown subject' }) };

let t: TestApp;
let origin: string;
let browser: Browser;
let rec: Receiver;
let streamId: string;

beforeAll(async () => {
  ({ t, origin } = await startConsoleServer());
  browser = await launchBrowser();
  rec = await startReceiver();
  rec.respond = () => REFUSE;
  const body = {
    description: 'HR directory (push)',
    delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: rec.url },
    events_requested: [`${EV}create:notice`, `${EV}patch:notice`],
  };
  const res = await t.req('POST', '/ssf/streams', body, { headers: { 'content-type': 'application/json' } });
  expect(res.statusCode, res.body).toBe(201);
  streamId = res.json().stream_id;
  // A second, poll stream with a backlog, so the Streams panel shows both kinds.
  const poll = await t.req('POST', '/ssf/streams', { description: 'Audit log (poll)', events_requested: [`${EV}create:notice`] }, { headers: { 'content-type': 'application/json' } });
  expect(poll.statusCode, poll.body).toBe(201);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await rec?.close();
});

const stats = async () => (await t.req('GET', `/ssf/streams/${streamId}/stats`)).json();
const card = (page: Page) => page.locator(`[data-stream="${streamId}"]`);
const number = async (page: Page, sel: string) => Number(await card(page).locator(sel).textContent());

describe('a failing receiver, followed and repaired in the console', () => {
  it('pause, backlog, resume into refusals, dead letters, redrive after the fix, backlog and dead letters at zero', async () => {
    const { page, requests, errors } = await newPage(browser);
    await signIn(page, origin, t.token);
    await card(page).getByRole('button', { name: 'Open' }).click();
    const detail = page.locator('#stream-detail');
    await detail.waitFor({ state: 'visible' });
    // Titled as the operator named the stream, with its id.
    await eventually(() => page.locator('#stream-detail-title').textContent()).toBe(`HR directory (push) (${streamId})`);

    // Pause asks first; Esc says no and nothing changes.
    await page.getByRole('button', { name: 'Pause' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toMatch(/Pause this stream\?/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await stats()).status).toBe('enabled');
    await page.getByRole('button', { name: 'Pause' }).click();
    await dialog.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => page.locator('#action-result').textContent()).toBe('Stream is now paused');
    expect((await stats()).status).toBe('paused');

    // Provisioning while paused: the backlog shows in the stream's card.
    for (let i = 0; i < 6; i++) expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: `console-${i}` })).statusCode).toBe(201);
    await eventually(() => number(page, '.backlog')).toBeGreaterThanOrEqual(6);
    await eventually(() => card(page).locator('.badge').textContent()).toBe('paused');
    await screenshot(page, 'backlog');

    // Resume into a receiver that refuses: the SETs become dead letters with its error.
    await page.getByRole('button', { name: 'Resume' }).click();
    await dialog.getByRole('button', { name: 'Resume' }).click();
    await eventually(() => number(page, '.dead-count')).toBeGreaterThanOrEqual(6);
    await eventually(() => number(page, '.backlog')).toBe(0);
    const dead = await number(page, '.dead-count');
    await eventually(() => page.locator('.dead-letter').count()).toBe(dead);
    expect(await page.locator('.dead-letter').first().textContent()).toMatch(/invalid_request: unknown subject/);
    expect(await card(page).locator('.last-error').textContent()).toBe('invalid_request: unknown subject');
    await screenshot(page, 'dead-letters', { fullPage: true });
    // The picture for the README: the Streams panel at 1280×800 while a receiver refuses.
    await inPage(page, 'window.scrollTo(0, 0)');
    const shot = await screenshot(page, 'streams-1280x800');
    if (process.env.SCIMCAST_UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(import.meta.dirname, '../../docs/images'), { recursive: true });
      copyFileSync(shot, join(import.meta.dirname, '../../docs/images/console.png'));
    }

    // The place is kept across refreshes: focus on the range's first select stays there.
    await page.locator('#redrive-from').focus();
    const before = await page.locator('#updated').textContent();
    await eventually(() => page.locator('#updated').textContent()).not.toBe(before);
    expect(await inPage<string>(page, 'document.activeElement?.id')).toBe('redrive-from');
    expect(await detail.isVisible()).toBe(true);

    // The receiver is fixed; redrive all, confirmed from the keyboard, with focus kept in the dialog.
    rec.respond = () => ({ status: 202 });
    const received = rec.received.length;
    await page.getByRole('button', { name: 'Redrive all dead letters' }).click();
    await dialog.waitFor({ state: 'visible' });
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      expect(await inPage<string>(page, "document.activeElement?.closest('dialog')?.id")).toBe('confirm');
    }
    await dialog.getByRole('button', { name: 'Redrive all' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await eventually(() => page.locator('#action-result').textContent()).toBe(`Redriven: ${dead}`);

    await eventually(() => number(page, '.dead-count')).toBe(0);
    await eventually(() => number(page, '.backlog')).toBe(0);
    await eventually(() => page.locator('[data-panel="dead-letters"]').textContent()).toBe('No dead letters.');
    expect(await card(page).locator('.spark rect').count()).toBeGreaterThan(0);
    expect((await stats()).counts).toMatchObject({ pending: 0, dead: 0, delivered: dead });
    expect(rec.received.length - received).toBe(dead);
    await screenshot(page, 'redriven', { fullPage: true });

    // Closing the detail gives focus back to the stream's Open button.
    await page.getByRole('button', { name: 'Close' }).first().click();
    await detail.waitFor({ state: 'hidden' });
    expect(await inPage<string>(page, 'document.activeElement?.dataset.key')).toBe(`open-${streamId}`);

    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(errors).toEqual([]);
    // About 15 s alone; the margin is for a loaded machine running other suites beside it.
  }, 90_000);
});
