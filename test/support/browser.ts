/**
 * Debian's Chromium driven by playwright-core for the page tests: headless,
 * with every flag that keeps it off the network (the machine has none but
 * the loopback), a fresh profile per launch; axe-core checks and screenshots.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../../scripts/debian-packages.js';

/** Where screenshots go (gitignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../test-output');

/** Flags for a headless browser on a closed network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A launched browser with its own profile folder. */
export interface TestBrowser {
  /** A new signed-out browsing context (its own cookies); `javaScript: false` reads pages as a browser without scripts. */
  context(opts?: { javaScript?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile (a new --user-data-dir per launch). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'pages-chromium-'));
  // launchPersistentContext takes the profile folder; further contexts come from its browser.
  const first = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
  const browser = first.browser() as Browser | null;
  let used = false;
  return {
    async context(opts = {}) {
      if (opts.javaScript === false) {
        if (!browser) throw new Error('no browser behind the persistent context');
        return browser.newContext({ javaScriptEnabled: false });
      }
      if (!used) {
        used = true;
        return first;
      }
      if (!browser) throw new Error('no browser behind the persistent context');
      return browser.newContext();
    },
    async close() {
      await first.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Serious and critical axe-core violations of the page, as lines (empty: none). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves a full-page screenshot as `test-output/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
