import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startTestApp, type TestApp } from './app.js';

/**
 * Headless Chromium for the console tests (playwright-core drives the system's Chromium; no
 * browser is downloaded). The flags keep it off the network this machine does not have: no
 * component updates, sync, QUIC or background fetches, so every request it makes is the page's.
 */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const SCREENSHOTS = join(import.meta.dirname, '../../test-results/console');

/** The Chromium to run: CHROMIUM_PATH, or Debian's /usr/bin/chromium. A missing one fails the test, loudly. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`No Chromium at ${path}: the console tests need one. Run \`apt-get install chromium\`, or set CHROMIUM_PATH to a Chromium binary.`);
  return path;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ARGS, headless: true, timeout: 30_000 });
}

export interface ConsolePage {
  readonly page: Page;
  /** Every URL the page requested, in order. */
  readonly requests: string[];
  /** Uncaught errors and console errors of the page (a CSP violation is one). */
  readonly errors: string[];
}

/** A fresh context (its own sessionStorage) and page at the given viewport. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { page, requests, errors };
}

/** Save a PNG under test-results/console/ (not committed: .gitignore). */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean; path?: string } = {}): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = opts.path ?? join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? false });
  return path;
}

/** A real scimcast with a real worker, listening on a loopback port: the browser fetches over HTTP. */
export async function startConsoleServer(env: Record<string, string> = {}): Promise<{ t: TestApp; origin: string }> {
  const t = await startTestApp(env, { worker: true });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return { t, origin: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
}

/** Sign in through the page's token field, as a user does, and wait for the panels. */
export async function signIn(page: Page, origin: string, token: string): Promise<void> {
  await page.goto(`${origin}/console`);
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#panels').waitFor({ state: 'visible' });
}

/**
 * Wait until what the page shows meets the matcher that follows: the console polls the API every
 * few seconds and the worker delivers in the background, so a generous bound (the suite runs on
 * loaded machines) checked often.
 */
export function eventually<T>(read: () => T | Promise<T>, timeoutMs = 20_000) {
  return expect.poll(read, { timeout: timeoutMs, interval: 100 });
}

/**
 * An expression evaluated in the page, its result typed by the caller. A string rather than a
 * function: the project compiles without the DOM library, so page-side code is not type-checked.
 */
export function inPage<T = unknown>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}
