/**
 * What the browser tests of the site's pages share: passwords set with the
 * command a person runs, signing in through the sign-in page, and the
 * system and browser each such file starts with.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { SiteApi } from '../../src/host/client.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { CLI, startHostSystem, type HostSystem } from './host-processes.js';

/** `taskflow manage setpassword USER` with the password on standard input, as a person types it. */
export async function setPassword(sys: HostSystem, username: string, password: string): Promise<void> {
  const proc = spawn(process.execPath, [CLI, 'manage', 'setpassword', username], { env: { ...process.env, ...sys.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  proc.stdin.end(`${password}\n`);
  const code = await new Promise<number | null>((r) => proc.on('exit', r));
  expect(code, out).toBe(0);
  expect(out).toContain(`Password of "${username}" set`);
}

/** Signs in through the sign-in page the home page sends a signed-out browser to. */
export async function signIn(page: Page, sys: HostSystem, username: string, password: string): Promise<void> {
  await page.goto(`${sys.siteUrl}/`);
  expect(page.url()).toContain('/login');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${username}`).first().waitFor();
}

/** What a browser test file of the pages starts with: the system, a browser, the admin's password and API client. */
export interface PagesBed {
  dir: string;
  sys: HostSystem;
  browser: TestBrowser;
  /** The REST API as the admin (its token). */
  api: SiteApi;
  adminPassword: string;
  /** A new page of the browser, signed in as `username` (the admin by default). */
  signedIn(username?: string, password?: string): Promise<Page>;
  /** Closes the browser, stops the system and removes its folder. */
  stop(): Promise<void>;
}

/** Starts a {@link PagesBed} in a new temp folder named from `prefix`. */
export async function startPagesBed(prefix: string): Promise<PagesBed> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const sys = await startHostSystem(dir);
  const adminPassword = (await sys.site.waitFor(/Sign-in password of admin user "admin" \(shown only now\): (\S+)/))[1]!;
  const browser = await launchBrowser();
  return {
    dir,
    sys,
    browser,
    api: new SiteApi(sys.siteUrl, sys.adminToken),
    adminPassword,
    async signedIn(username = 'admin', password = adminPassword) {
      const page = await (await browser.context()).newPage();
      await signIn(page, sys, username, password);
      return page;
    },
    async stop() {
      await browser.close();
      await sys.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
