import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPTS = resolve(import.meta.dirname, '../scripts');
const SCRIPT = join(SCRIPTS, 'ensure-chromium.js');

/**
 * A copy of scripts/ that `nobody` can read: the clone itself may sit in a
 * folder only its owner enters (mktemp -d makes 0700 folders).
 */
function readableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-chromium-step-'));
  chmodSync(dir, 0o755);
  for (const f of readdirSync(SCRIPTS)) copyFileSync(join(SCRIPTS, f), join(dir, f));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}
const copies: string[] = [];
afterAll(() => copies.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the pretest script as a user who is not root (as `nobody` when the tests run as root). */
function runAsNonRoot(env: Record<string, string>): { status: number | null; output: string } {
  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
  const dir = readableCopy();
  copies.push(dir);
  const cmd = `cd / && ${assignments} '${process.execPath}' '${join(dir, 'ensure-chromium.js')}'`;
  const res = process.getuid?.() === 0 ? spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', cmd], { encoding: 'utf8' }) : spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe("npm test's Chromium step (scripts/ensure-chromium.js)", () => {
  it('passes when the browser is there', () => {
    const res = spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, CHROMIUM_PATH: process.execPath }, encoding: 'utf8' });
    expect(res.status).toBe(0);
  });

  it('fails for a user who cannot install it, with the exact line to type', () => {
    const res = runAsNonRoot({ CHROMIUM_PATH: '/nonexistent/chromium', CI: 'true' });
    expect(res.status, res.output).toBe(1);
    expect(res.output).toContain("sudo sh -c 'apt-get update && apt-get install -y chromium'");
  });
});
