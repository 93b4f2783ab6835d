import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/authenticate.js';
import type { TestApp } from '../helpers/app.js';
import { eventually, inPage, launchBrowser, newPage, screenshot, signIn, startConsoleServer } from '../helpers/browser.js';
import { pushStreamTo } from '../helpers/push-stream.js';
import { until, type Receiver } from '../helpers/receiver.js';

/**
 * The console in headless Chromium against a real scimcast on loopback: signing in and out, the
 * session surviving a reload, the CSP and no request leaving the server's origin, keyboard reach,
 * a phone-sized viewport, and a token without the streams scope that can neither see nor redrive.
 */
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let t: TestApp;
let origin: string;
let browser: Browser;
let streamId: string;
const receivers: Receiver[] = [];

const stats = async () => (await t.req('GET', `/ssf/streams/${streamId}/stats`)).json();

beforeAll(async () => {
  ({ t, origin } = await startConsoleServer());
  browser = await launchBrowser();
  // A push stream whose receiver refuses every SET (RFC 8935 §2.4: 400 with an error code), so a
  // dead letter is there to (not) redrive.
  const { rec, id } = await pushStreamTo(t, receivers);
  streamId = id;
  rec.respond = () => ({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ err: 'invalid_request', description: 'unknown subject' }) });
  expect((await t.req('POST', '/scim/v2/Users', { schemas: [USER], userName: 'session-dead' })).statusCode).toBe(201);
  await until(async () => (await stats()).counts.dead === 1);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  for (const r of receivers) await r.close();
});

describe('console session', () => {
  it('shows nothing before a token; signing in shows the panels; a reload keeps the session; sign-out ends it', async () => {
    const { page, requests, errors } = await newPage(browser);
    const res = await page.goto(`${origin}/console`);
    expect(res!.headers()['content-security-policy']).toBe(CSP);
    expect(res!.headers()['x-content-type-options']).toBe('nosniff');
    expect(res!.headers()['referrer-policy']).toBe('no-referrer');
    await eventually(() => page.getByLabel('Bearer token').isVisible()).toBe(true);
    expect(await page.locator('#panels').isVisible()).toBe(false);
    expect(await page.getByRole('heading', { name: 'Streams' }).count()).toBe(0);

    await page.getByLabel('Bearer token').fill('sct_not_a_real_token');
    await page.keyboard.press('Enter');
    await eventually(() => page.getByRole('alert').textContent()).toMatch(/not accepted/);
    expect(await page.locator('#panels').isVisible()).toBe(false);

    await page.getByLabel('Bearer token').fill(t.token);
    await page.keyboard.press('Enter');
    await page.locator('#panels').waitFor({ state: 'visible' });
    await eventually(() => page.locator(`[data-stream="${streamId}"]`).count()).toBe(1);
    await eventually(() => page.locator('[data-panel="keys"] .key').count()).toBe(1);
    await eventually(() => page.locator('[data-panel="health"] .readiness').textContent()).toBe('ready');
    await screenshot(page, 'signed-in', { fullPage: true });

    // The token is in this tab's sessionStorage and nowhere else a browser keeps or sends things.
    const kept = await inPage<{ session: string[]; local: number; cookie: string; url: string }>(page, '({ session: Object.values(sessionStorage), local: localStorage.length, cookie: document.cookie, url: location.href })');
    expect(kept).toEqual({ session: [t.token], local: 0, cookie: '', url: `${origin}/console` });
    expect((await page.context().cookies()).length).toBe(0);

    await page.reload();
    await page.locator('#panels').waitFor({ state: 'visible' });
    expect(await page.getByLabel('Bearer token').isVisible()).toBe(false);
    await eventually(() => page.locator(`[data-stream="${streamId}"]`).count()).toBe(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Bearer token').waitFor({ state: 'visible' });
    expect(await page.locator('#panels').isVisible()).toBe(false);
    expect(await inPage<number>(page, 'sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByLabel('Bearer token').waitFor({ state: 'visible' });
    expect(await page.locator('#panels').isVisible()).toBe(false);

    // Every request stayed on the server's origin; no CSP violation or script error was reported.
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(requests.some((u) => u.includes(t.token))).toBe(false);
    expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
  });

  it('is usable by keyboard: Tab reaches the token field, the sign-in button and the panels’ buttons', async () => {
    const { page } = await newPage(browser);
    await page.goto(`${origin}/console`);
    const focused = () => inPage<string>(page, 'document.activeElement?.id || document.activeElement?.textContent?.trim() || document.activeElement?.tagName');
    await page.locator('body').focus();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      seen.push((await focused()) ?? '');
    }
    expect(seen).toEqual(expect.arrayContaining(['token', 'sign-in-button']));
    await page.locator('#token').fill(t.token);
    await page.locator('#token').press('Enter');
    await eventually(() => page.locator(`[data-stream="${streamId}"] button`).count()).toBe(1);
    const reached = new Set<string>();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      reached.add((await focused()) ?? '');
    }
    expect([...reached]).toEqual(expect.arrayContaining(['sign-out', 'Streams', 'Open']));
    // The focus is visible: the focused button has an outline.
    await page.locator(`[data-stream="${streamId}"] button`).focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const outline = await inPage<string>(page, 'getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    // Enter on the focused Open button opens the stream's detail.
    await page.keyboard.press('Enter');
    await page.locator('#stream-detail').waitFor({ state: 'visible' });
    // Focus moves to the detail once its dead letters are loaded.
    await eventually(focused).toBe('stream-detail-close');
  });

  it('at 390×844 the signed-in page and the open stream do not scroll sideways', async () => {
    const { page } = await newPage(browser, { width: 390, height: 844 });
    await signIn(page, origin, t.token);
    await eventually(() => page.locator(`[data-stream="${streamId}"]`).count()).toBe(1);
    const sideways = () => inPage<number>(page, 'document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.locator(`[data-stream="${streamId}"]`).getByRole('button', { name: 'Open' }).click();
    await eventually(() => page.locator('.dead-letter').count()).toBe(1);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await screenshot(page, 'phone-stream-detail', { fullPage: true });
  });

  it('a scim:read-only token sees the missing scope explained and cannot redrive', async () => {
    const readOnly = await t.tokenWith(['scim:read']);
    const { page, requests } = await newPage(browser);
    await signIn(page, origin, readOnly);
    const streams = page.locator('[data-panel="streams"]');
    await eventually(() => streams.textContent()).toMatch(/needs scope feeds:admin/);
    await eventually(() => page.locator('[data-panel="keys"]').textContent()).toMatch(/needs scope admin/);
    await eventually(() => page.locator('[data-panel="health"]').textContent()).toMatch(/needs scope metrics:read/);
    await eventually(() => page.locator('[data-panel="async"]').textContent()).toMatch(/No asynchronous requests/);
    // Nothing to press: no stream, no Open, no Redrive.
    expect(await page.getByRole('button', { name: /Open|Redrive/ }).count()).toBe(0);
    expect(await page.locator('#stream-detail').isVisible()).toBe(false);
    await screenshot(page, 'read-only-token', { fullPage: true });
    // Even a hand-made call from the page is refused by the server, and changes nothing.
    const status = await page.evaluate(
      async ([id, token]) => (await fetch(`/ssf/streams/${id}/redrive`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"all":true}' })).status,
      [streamId, readOnly],
    );
    expect(status).toBe(403);
    expect(requests.filter((u) => u.includes('/redrive')).length).toBe(1);
    expect((await stats()).counts).toMatchObject({ dead: 1, pending: 0 });
  });

  it('a tab in the background stops refreshing, and refreshes again at once when shown', async () => {
    const { page, requests } = await newPage(browser);
    await signIn(page, origin, t.token);
    await eventually(() => page.locator(`[data-stream="${streamId}"]`).count()).toBe(1);
    // The page as a browser leaves it when the user switches tabs: hidden, with the event.
    const setHidden = (hidden: boolean) =>
      inPage(page, `Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`);
    await setHidden(true);
    // The refresh in flight when the tab was hidden may still finish; then nothing for longer than two refresh periods.
    await new Promise((r) => setTimeout(r, 3500));
    const asked = requests.length;
    await new Promise((r) => setTimeout(r, 7000));
    expect(requests.length).toBe(asked);
    await setHidden(false);
    await eventually(() => requests.slice(asked).some((u) => u.includes(`/ssf/streams/${streamId}/stats`))).toBe(true);
  });

  it('a token revoked while a confirmation is open signs the page out, and that confirmation can no longer act', async () => {
    const { id: tokenId, token } = await createToken(t.deps.storage, t.deps.clock, { name: 'revoked-mid-confirm', scopes: ['feeds:admin'] });
    const own = await t.req('POST', '/ssf/streams', { description: 'short-lived' }, { auth: token, headers: { 'content-type': 'application/json' } });
    expect(own.statusCode, own.body).toBe(201);
    const { page, requests } = await newPage(browser);
    await signIn(page, origin, token);
    await page.locator(`[data-stream="${own.json().stream_id}"]`).getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('dialog').waitFor({ state: 'visible' });

    expect(await t.deps.revokeToken(tokenId)).toBe(true);
    await eventually(() => page.getByRole('alert').textContent()).toMatch(/no longer accepted/);
    expect(await page.getByRole('dialog').isVisible()).toBe(false);
    expect(await page.locator('#panels').isVisible()).toBe(false);
    expect(await inPage<number>(page, 'sessionStorage.length')).toBe(0);

    // Signed in again as the first stream's owner, confirming another action runs that action only.
    await page.getByLabel('Bearer token').fill(t.token);
    await page.keyboard.press('Enter');
    await page.locator(`[data-stream="${streamId}"]`).getByRole('button', { name: 'Open' }).click();
    await eventually(() => page.locator('.dead-letter').count()).toBe(1);
    await page.getByRole('button', { name: 'Redrive all dead letters' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive all' }).click();
    await eventually(() => page.locator('#action-result').textContent()).toBe('Redriven: 1');
    expect(requests.filter((u) => u.endsWith('/ssf/status'))).toEqual([]);
    expect((await stats()).status).toBe('enabled');
  });
});
