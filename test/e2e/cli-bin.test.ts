/**
 * The built command runs by itself, as `npx taskflow`, `npm start` and a
 * shell run it in a fresh clone after `npm test` or `npm run build`: the bin
 * file package.json names is an executable shell script that starts node on
 * the built CLI, with glibc's allocator settings unless the caller has its
 * own.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tunablesFromBin } from '../support/taskflow-bin.js';

const ROOT = resolve(import.meta.dirname, '../..').replace(/\/dist$/, '');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = resolve(ROOT, pkg.bin.taskflow);
const run = promisify(execFile);

describe('the taskflow bin', () => {
  it('is executable after the build and prints the usage when run directly', async () => {
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/bin/sh');
    // every execute bit a `chmod +x` would set (0o111 less the umask): owner, group and others may run it
    expect((statSync(bin).mode & 0o111).toString(8)).toBe('111');
    const { stdout } = await run(bin, ['--help'], { cwd: ROOT });
    expect(stdout).toMatch(/^Usage: taskflow \[options\] \[command\]/);
    for (const command of ['start', 'serve', 'site', 'store']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it("starts node with glibc's allocator keeping freed memory, and leaves a caller's own setting alone", async () => {
    const { GLIBC_TUNABLES: _ignored, ...withoutTunables } = process.env;
    expect(tunablesFromBin(bin, withoutTunables)).toMatch(/^glibc\.malloc\.trim_threshold=\d+:glibc\.malloc\.mmap_threshold=\d+$/);
    expect(tunablesFromBin(bin, { ...withoutTunables, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe('glibc.malloc.arena_max=2');
  });
});
