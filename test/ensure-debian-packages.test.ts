import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPTS = resolve(import.meta.dirname, '../scripts');
const SCRIPT = join(SCRIPTS, 'ensure-debian-packages.js');
/** Stand-ins: a file that exists for Chromium, an interpreter that "imports" anything. */
const PRESENT = { CHROMIUM_PATH: process.execPath, IRODS_CLIENT_PYTHON: '/bin/true' };
const MISSING = { CHROMIUM_PATH: '/nonexistent/chromium', IRODS_CLIENT_PYTHON: '/nonexistent/python3' };

/**
 * A copy of scripts/ that `nobody` can read: the clone itself may sit in a
 * folder only its owner enters (mktemp -d makes 0700 folders).
 */
function readableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-packages-step-'));
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
  const cmd = `cd / && ${assignments} '${process.execPath}' '${join(dir, 'ensure-debian-packages.js')}'`;
  const res = process.getuid?.() === 0 ? spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', cmd], { encoding: 'utf8' }) : spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe("npm test's Debian packages step (scripts/ensure-debian-packages.js)", () => {
  it('passes quietly when every package is there', () => {
    const res = spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, ...PRESENT }, encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stderr).toBe('');
  });

  it('under CI=true fails for a user who cannot install, with the exact line naming only what is missing', () => {
    const chromiumOnly = runAsNonRoot({ ...PRESENT, CHROMIUM_PATH: MISSING.CHROMIUM_PATH, CI: 'true' });
    expect(chromiumOnly.status, chromiumOnly.output).toBe(1);
    expect(chromiumOnly.output).toContain("sudo sh -c 'apt-get update && apt-get install -y chromium'");

    const both = runAsNonRoot({ ...MISSING, CI: 'true' });
    expect(both.status, both.output).toBe(1);
    expect(both.output).toContain("sudo sh -c 'apt-get update && apt-get install -y chromium python3-irodsclient'");
    expect(both.output).toContain('/nonexistent/python3');
  });

  it('outside CI warns with the same line and lets the run go on', () => {
    const res = runAsNonRoot({ ...PRESENT, IRODS_CLIENT_PYTHON: MISSING.IRODS_CLIENT_PYTHON, CI: 'false' });
    expect(res.status, res.output).toBe(0);
    expect(res.output).toMatch(/^Warning: /);
    expect(res.output).toContain("sudo sh -c 'apt-get update && apt-get install -y python3-irodsclient'");
  });
});
