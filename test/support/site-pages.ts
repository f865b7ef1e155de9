/**
 * What the browser tests of the site's pages share: passwords set with the
 * command a person runs, and signing in through the sign-in page.
 */
import { spawn } from 'node:child_process';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { CLI, type HostSystem } from './host-processes.js';

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
