/**
 * Liveness locks of holders (process-holders.ts). While a process has a
 * store open it holds an exclusive SQLite lock on the file
 * `<data folder>/holders/<its tag>`. The kernel drops a process's locks when
 * the process ends, however it ends, so any process that shares the data
 * folder can tell whether a holder still runs by trying to take that lock.
 * Every such process runs on one kernel (SQLite's WAL needs that of the
 * catalog), but not always in one pid namespace or under one host name: a
 * container that is recreated (a new image, a new pod) gets a new host name,
 * and without the lock what its crashed predecessor left would count as
 * held forever.
 *
 * The lock is an SQLite lock, taken through SQLite, so that one process may
 * hold a lock and look at its own file from another connection: SQLite
 * keeps track of its own POSIX locks per file, which a plain open and close
 * of the same file elsewhere in the process would drop.
 *
 * @module
 */
import { readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivateFile, ensurePrivateDir } from '../../private-files.js';
import { sqliteBusy } from '../../sqlite-busy.js';
import type { StoreCore } from './core.js';
import { holderEnded, isHolderTag, thisProcess } from './process-holders.js';

/** The folder of the liveness locks in a data folder. */
export function holdersDirOf(dataDir: string): string {
  return join(dataDir, 'holders');
}

/** The name a lock file has until it is locked. */
const FRESH_SUFFIX = '.new';

/**
 * How long a lock file may stay under its {@link FRESH_SUFFIX} name,
 * unlocked, before it counts as left by a process that ended between making
 * and locking it: its maker locks it right after making it.
 */
export const FRESH_LOCK_GRACE_MS = 60_000;

/** Locks this process holds, by holders folder: the connection holding it and how many store handles share it. */
const held = new Map<string, { db: Database.Database; users: number }>();

/**
 * Takes this process's lock in `holdersDir` (made owner-only when missing),
 * or counts one more user of it; returns the key that
 * {@link releaseHolderLock} gives it back with.
 */
export function takeHolderLock(holdersDir: string): string {
  ensurePrivateDir(holdersDir);
  // one folder reached by two paths is one lock
  const dir = realpathSync(holdersDir);
  const mine = held.get(dir);
  if (mine) {
    mine.users++;
    return dir;
  }
  const file = join(dir, thisProcess());
  // made under another name and put in place once locked, so that no one finds the file unlocked
  // and takes it for an ended holder's (the lock is on the file, which a rename keeps)
  const fresh = `${file}${FRESH_SUFFIX}`;
  createPrivateFile(fresh);
  const db = new Database(fresh, { timeout: 0 });
  try {
    // a transaction that never ends and writes no page: the file stays empty, and with the journal
    // in memory nothing else is made beside it (an exclusive transaction opens its journal at its
    // start; OFF is refused in the defensive mode better-sqlite3 opens databases in)
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    renameSync(fresh, file);
  } catch (err) {
    db.close();
    rmSync(fresh, { force: true });
    throw err;
  }
  held.set(dir, { db, users: 1 });
  return dir;
}

/** Gives back one take of this process's lock by the key {@link takeHolderLock} returned; the last one ends the lock and removes its file. */
export function releaseHolderLock(key: string): void {
  const mine = held.get(key);
  if (!mine || --mine.users > 0) return;
  held.delete(key);
  mine.db.close();
  rmSync(join(key, thisProcess()), { force: true });
}

/** `dir` with its links resolved; undefined when it is gone. */
function realPath(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}

/**
 * What the liveness lock of `holder` in `holdersDir` says: `running` while
 * its process holds it, `ended` when the file is there and nobody holds it,
 * `unknown` without a file (a holder that closed its store, or one written
 * by a version before these locks): the caller then judges by the tag.
 */
export function holderLockState(holdersDir: string, holder: string): 'running' | 'ended' | 'unknown' {
  if (holder === thisProcess()) {
    const dir = realPath(holdersDir);
    return dir !== undefined && held.has(dir) ? 'running' : 'unknown';
  }
  // anything but a tag names no lock file (nor a path elsewhere)
  if (!isHolderTag(holder)) return 'unknown';
  return lockFileState(join(holdersDir, holder));
}

/** {@link holderLockState} of the lock file `file`, whoever made it. */
function lockFileState(file: string): 'running' | 'ended' | 'unknown' {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 0 });
  } catch {
    return 'unknown';
  }
  try {
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return 'ended';
  } catch (err) {
    // anything but a held lock (a file that is no database, say) tells nothing: the tag judges
    return sqliteBusy(err) ? 'running' : 'unknown';
  } finally {
    db.close();
  }
}

/**
 * Removes the lock files in `holdersDir` of holders that have ended and
 * hold nothing any more (`holds` says whether a holder still has
 * something in the store): a crashed process leaves its file behind, and
 * while what it held is there, its file is what tells that it ended.
 */
export function removeEndedHolderLocks(holdersDir: string, holds: (holder: string) => boolean): void {
  let names: string[];
  try {
    names = readdirSync(holdersDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const now = Date.now();
  for (const name of names) {
    const fresh = name.endsWith(FRESH_SUFFIX);
    const tag = fresh ? name.slice(0, -FRESH_SUFFIX.length) : name;
    const ended = fresh ? freshLockLeft(join(holdersDir, name), tag, now) : holderLockState(holdersDir, name) === 'ended';
    if (ended && !holds(tag)) rmSync(join(holdersDir, name), { force: true });
  }
}

/**
 * Whether the lock file `file`, made by holder `tag` and never put in
 * place, was left by a process that ended before it locked it: the tag says
 * so, or (for a tag it cannot judge, another host name's) nobody has held
 * the file for longer than {@link FRESH_LOCK_GRACE_MS} since it was made.
 */
function freshLockLeft(file: string, tag: string, now: number): boolean {
  if (holderEnded(tag)) return true;
  let made: number;
  try {
    made = statSync(file).mtimeMs;
  } catch {
    return false; // put in place or removed since the listing
  }
  return now - made > FRESH_LOCK_GRACE_MS && lockFileState(file) === 'ended';
}

/**
 * Whether the process `holder` names has certainly ended: its liveness
 * lock in `holdersDir` says so where it has one, else its tag
 * ({@link holderEnded}).
 */
export function holderEndedIn(holdersDir: string, holder: string): boolean {
  const state = holderLockState(holdersDir, holder);
  return state === 'unknown' ? holderEnded(holder) : state === 'ended';
}

/**
 * {@link holderEndedIn} for one scan over what holders left in
 * `holdersDir`: each holder's lock is probed once (an SQLite open of its
 * file), however many items it left; a crash may leave hundreds. A holder
 * found running counts as running for the rest of the scan, which only
 * ever keeps more; an ended one never runs again (a tag is never reused).
 */
export function endedHoldersIn(holdersDir: string): (holder: string) => boolean {
  const known = new Map<string, boolean>();
  return (holder) => {
    let ended = known.get(holder);
    if (ended === undefined) known.set(holder, (ended = holderEndedIn(holdersDir, holder)));
    return ended;
  };
}

/**
 * Removes the lock files of the ended holders that hold nothing in the
 * store of `core` any more: no intermediate object, no vault temp file.
 */
export function removeEndedHolderLocksOf(core: StoreCore): void {
  const marked = new Set(core.read(() => core.q.intermediates.all()).map((r) => r.holder));
  const temps = new Set(core.vault.tempHolders());
  removeEndedHolderLocks(core.vault.holdersDir, (h) => marked.has(h) || temps.has(h));
}
