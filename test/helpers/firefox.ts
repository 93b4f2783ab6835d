import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Headless Firefox for the console's cross-browser check, driven over WebDriver BiDi by
 * puppeteer-core (no browser is downloaded): Debian's firefox-esr, or FIREFOX_PATH. The
 * preferences keep it off the network this machine does not have, so every request it makes is
 * the page's.
 */
export function firefoxPath(): string {
  const path = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
  if (!existsSync(path)) throw new Error(`No Firefox at ${path}: the console's Firefox test needs one. Run \`apt-get install firefox-esr\`, or set FIREFOX_PATH to a Firefox binary.`);
  return path;
}

const OFFLINE_PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'toolkit.telemetry.enabled': false,
};

export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: firefoxPath(), headless: true, extraPrefsFirefox: OFFLINE_PREFS, timeout: 60_000 });
}
