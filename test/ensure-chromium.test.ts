import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../scripts/ensure-chromium.js');

/** Runs the pretest script as a user who is not root (as `nobody` when the tests run as root). */
function runAsNonRoot(env: Record<string, string>): { status: number | null; output: string } {
  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
  const cmd = `${assignments} '${process.execPath}' '${SCRIPT}'`;
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
