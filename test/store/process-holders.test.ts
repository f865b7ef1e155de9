/**
 * Holders of intermediate objects (process-holders.ts): whether the process
 * one names has ended, as a later server or fsck asks it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { holderEnded, thisProcess } from '../../src/store/embedded/process-holders.js';

const holder = (h: { host?: string; pid: number; start: string | null }) => JSON.stringify({ host: hostname(), ...h });

describe('process holders', () => {
  it('name this process with its host, pid and start time, and this process runs', () => {
    const me = JSON.parse(thisProcess()) as { host: string; pid: number; start: string | null };
    expect(me).toMatchObject({ host: hostname(), pid: process.pid });
    expect(me.start).toMatch(/^\d+$/);
    expect(holderEnded(thisProcess())).toBe(false);
  });

  it('tell a process that ran from one that ended, and a pid given to a new process from the old one', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(child, 'spawn');
    const pid = child.pid!;
    // proc(5) stat field 22, after the command name in parentheses
    const start = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    const running = holder({ pid, start });
    expect(holderEnded(running)).toBe(false);
    // the same pid with another start time: a process that had the pid before this one
    expect(holderEnded(holder({ pid, start: String(Number(start) - 1) }))).toBe(true);
    child.stdin!.end();
    await once(child, 'exit');
    expect(holderEnded(running)).toBe(true);
  });

  it('count what they cannot check as running: another host, an unreadable holder', () => {
    expect(holderEnded(holder({ host: `not-${hostname()}`, pid: 999_999_999, start: '1' }))).toBe(false);
    expect(holderEnded('not json')).toBe(false);
    expect(holderEnded(JSON.stringify({ host: hostname(), pid: -1, start: null }))).toBe(false);
  });
});
