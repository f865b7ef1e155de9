/**
 * Holders (process-holders.ts): the tag of this process, and whether the
 * process a tag names has ended, as a later server or fsck asks it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { holderEnded, thisProcess } from '../../src/store/embedded/process-holders.js';

/** proc(5) stat field 22 of `pid`, after the command name in parentheses. */
const startOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
const hostOfThis = () => thisProcess().split('.')[2]!;

describe('process holders', () => {
  it('tag this process with its pid, start time and host, without a dash; it runs', () => {
    expect(thisProcess()).toBe(`${process.pid}.${startOf(process.pid)}.${hostOfThis()}`);
    expect(hostOfThis()).toMatch(/^[0-9a-f]{12}$/);
    expect(holderEnded(thisProcess())).toBe(false);
  });

  it('tell a process that runs from one that ended, and a pid given to a new process from the old one', async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(child, 'spawn');
    const pid = child.pid!;
    const start = startOf(pid);
    const running = `${pid}.${start}.${hostOfThis()}`;
    expect(holderEnded(running)).toBe(false);
    // the same pid with another start time: a process that had the pid before this one
    expect(holderEnded(`${pid}.${Number(start) - 1}.${hostOfThis()}`)).toBe(true);
    // a bare pid, as temp files of earlier versions are named
    expect(holderEnded(String(pid))).toBe(false);
    child.stdin!.end();
    await once(child, 'exit');
    expect(holderEnded(running)).toBe(true);
    expect(holderEnded(String(pid))).toBe(true);
  });

  it('count a holder on another host as running, and a bare pid of this process or a stray name as ended', () => {
    expect(holderEnded(`${process.pid}.1.000000000000`)).toBe(false);
    expect(holderEnded(String(process.pid))).toBe(true);
    expect(holderEnded('stray')).toBe(true);
    expect(holderEnded('1.2.3.4')).toBe(true);
  });
});
