/**
 * Liveness locks (holder-locks.ts): a process with a store open holds a
 * lock named by its holder tag, and a holder counts as running exactly
 * while its lock is held, whatever host name its tag carries. So what a
 * process under another host name (a container recreated since, with a new
 * name) left when it ended, an intermediate object and a vault temp file,
 * is removed by a server start and `fsck --repair`, and its lock file after
 * them; while it runs, nothing of it is touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FRESH_LOCK_GRACE_MS, endedHoldersIn, holderEndedIn, holderLockState, holdersDirOf } from '../../src/store/embedded/holder-locks.js';
import { holderEnded, thisProcess } from '../../src/store/embedded/process-holders.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest, storeState, type TempStore } from '../support/store-helpers.js';

/** A holder tag of a process under another host name: a host hash no host here has. */
function foreignTag(): string {
  const host = thisProcess().split('.')[2]!;
  return `424242.777.${host === '0123456789ab' ? 'ba9876543210' : '0123456789ab'}`;
}

/** A process that holds an SQLite exclusive lock on `file` (made when missing) until it is killed, taken as a store's process takes its own (holder-locks.ts). */
async function lockHolder(file: string): Promise<ChildProcess> {
  const script = `const D = require('better-sqlite3'); const fs = require('fs'); const f = process.argv[1];
    fs.closeSync(fs.openSync(f, 'a', 0o600)); const db = new D(f, { timeout: 0 }); db.pragma('journal_mode = MEMORY'); db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('held\\n'); process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script, file], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(line.toString()).toBe('held\n');
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Whether another process can take the lock on `file` now (it exits 0 when it can, 3 when the lock is held). */
async function lockFreeElsewhere(file: string): Promise<boolean> {
  const script = `const D = require('better-sqlite3'); const db = new D(process.argv[1], { fileMustExist: true, timeout: 0 });
    try { db.exec('BEGIN EXCLUSIVE'); process.exit(0); } catch (e) { process.exit(e.code === 'SQLITE_BUSY' ? 3 : 1); }`;
  const child = spawn(process.execPath, ['-e', script, file], { cwd: process.cwd(), stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number];
  expect([0, 3]).toContain(code);
  return code === 0;
}

describe('liveness locks', () => {
  let t: TempStore;
  storePerTest((opened) => {
    t = opened;
  });

  it('are held by a process while it has a store open, one per data folder however many handles, and removed with the last', async () => {
    const dir = holdersDirOf(t.dataDir);
    const mine = join(dir, thisProcess());
    expect(readdirSync(dir)).toEqual([thisProcess()]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(mine).mode & 0o777).toBe(0o600);
    expect(await lockFreeElsewhere(mine)).toBe(false);
    // a second handle, through a link to the same folder: the same lock, which its close does not end
    const link = join(t.dir, 'link');
    symlinkSync(t.dataDir, link);
    const second = EmbeddedStore.open({ dataDir: link, zone: 'testZone', hashWorkers: 1 });
    expect(readdirSync(dir)).toEqual([thisProcess()]);
    await second.close();
    expect(await lockFreeElsewhere(mine)).toBe(false);
    expect(holderLockState(dir, thisProcess())).toBe('running');
    await t.store.close();
    expect(existsSync(mine)).toBe(false);
    expect(holderLockState(dir, thisProcess())).toBe('unknown');
  });

  it('say a holder of another host name runs while its process holds the lock, and has ended once it is killed', async () => {
    const dir = holdersDirOf(t.dataDir);
    const tag = foreignTag();
    // by the tag alone, another host's holder always runs
    expect(holderEnded(tag)).toBe(false);
    expect(holderLockState(dir, tag)).toBe('unknown');
    const holder = await lockHolder(join(dir, tag));
    expect(holderLockState(dir, tag)).toBe('running');
    expect(holderEndedIn(dir, tag)).toBe(false);
    await kill(holder);
    expect(holderLockState(dir, tag)).toBe('ended');
    expect(holderEndedIn(dir, tag)).toBe(true);
    // names that are no tag name no lock file, whatever is in the folder, and a file that is no database tells nothing
    writeFileSync(join(dir, 'stray'), '');
    expect(holderLockState(dir, '../stray')).toBe('unknown');
    expect(holderLockState(dir, 'stray')).toBe('unknown');
    writeFileSync(join(dir, tag), 'not a database, not even an empty one');
    expect(holderLockState(dir, tag)).toBe('unknown');
  });

  it('are probed once per holder in one scan: what a scan found stays its answer, and the next scan finds it anew', async () => {
    const dir = holdersDirOf(t.dataDir);
    const tag = foreignTag();
    const holder = await lockHolder(join(dir, tag));
    const scan = endedHoldersIn(dir);
    expect(scan(tag)).toBe(false);
    await kill(holder);
    // no second probe: the process that has just ended still runs for this scan (keeping, never removing, too much)
    expect(scan(tag)).toBe(false);
    const next = endedHoldersIn(dir);
    expect(next(tag)).toBe(true);
    expect(next(tag)).toBe(true);
  });

  it("let a server start and fsck --repair remove what an ended holder of another host name left, then its lock file; nothing while it runs", async () => {
    const { store, dataDir } = t;
    const before = await storeState(store);
    const tag = foreignTag();
    const dir = holdersDirOf(dataDir);
    const holder = await lockHolder(join(dir, tag));
    // what that process had done: registered an object for a parallel put, and begun a vault temp file
    const core = store.protocolCore();
    const staged = core.vault.stagedBytes(Buffer.alloc(0), '');
    store.commitObjects([{ path: '/testZone/home/left', staged, owner: 'rods', heldBy: tag }], [], () => undefined);
    const temp = join(dataDir, 'vault', 'tmp', `${tag}-0123abcd.part`);
    writeFileSync(temp, 'half an upload');

    // while it runs: left alone by a start, a check and a repair
    expect(store.removeAbandonedIntermediates()).toEqual([]);
    expect(await store.fsck({ repair: true })).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(existsSync(temp)).toBe(true);
    expect((await store.stat('/testZone/home/left'))?.type).toBe('object');

    await kill(holder);
    const report = await store.fsck();
    expect(report.orphanFiles).toEqual([temp, `${core.db.name}#intermediate/testZone/home/left`]);
    // a server start removes the object; the lock file stays, as the temp file still names its holder
    expect(store.removeAbandonedIntermediates()).toEqual(['/testZone/home/left']);
    expect(existsSync(join(dir, tag))).toBe(true);
    expect(await store.fsck({ repair: true })).toEqual({ missingFiles: [], orphanFiles: [temp], repaired: 1 });
    expect(readdirSync(dir)).toEqual([thisProcess()]);
    expect(await storeState(store)).toEqual(before);
  });

  it('let fsck --repair remove a lock file its process made but never locked, once the tag says the process ended', async () => {
    const dir = holdersDirOf(t.dataDir);
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    const [, start, host] = thisProcess().split('.');
    // an ended process of this host (its pid is free now), and one of another host name, which the tag cannot judge
    const endedHere = `${child.pid}.${start}.${host}`;
    writeFileSync(join(dir, `${endedHere}.new`), '');
    writeFileSync(join(dir, `${foreignTag()}.new`), '');
    await t.store.fsck({ repair: true });
    expect(readdirSync(dir).sort()).toEqual([thisProcess(), `${foreignTag()}.new`].sort());
  });

  it("let fsck --repair remove another host name's lock file never put in place once nobody has held it for a while, not while its process holds it", async () => {
    const dir = holdersDirOf(t.dataDir);
    const left = join(dir, `${foreignTag()}.new`);
    writeFileSync(left, '');
    // made just now: its maker may be about to lock it
    await t.store.fsck({ repair: true });
    expect(existsSync(left)).toBe(true);
    // made longer ago than its maker takes to lock it, and held: a process that locked it and has not yet put it in place
    const past = new Date(Date.now() - 2 * FRESH_LOCK_GRACE_MS);
    const holder = await lockHolder(left);
    utimesSync(left, past, past);
    await t.store.fsck({ repair: true });
    expect(existsSync(left)).toBe(true);
    // its process gone: nobody holds it, and it goes
    await kill(holder);
    utimesSync(left, past, past);
    await t.store.fsck({ repair: true });
    expect(readdirSync(dir)).toEqual([thisProcess()]);
  });
});
