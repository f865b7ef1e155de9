/**
 * The built command runs by itself, as `npx taskflow` and a shell run it in
 * a fresh clone after `npm test` or `npm run build`: the bin file package.json
 * names is executable and starts node through its shebang.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..').replace(/\/dist$/, '');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };

describe('the taskflow bin', () => {
  it('is executable after the build and prints the usage when run directly', async () => {
    const bin = resolve(ROOT, pkg.bin.taskflow);
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    // every execute bit a `chmod +x` would set (0o111 less the umask): owner, group and others may run it
    expect((statSync(bin).mode & 0o111).toString(8)).toBe('111');
    const { stdout } = await promisify(execFile)(bin, ['--help'], { cwd: ROOT });
    expect(stdout).toMatch(/^Usage: taskflow \[options\] \[command\]/);
    for (const command of ['start', 'serve', 'site', 'store']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });
});
