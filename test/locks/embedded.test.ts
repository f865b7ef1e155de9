import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLockManager, LockBackendError, lockDatabasePath, machineLeaseClock, SqliteLeaseStore, type LeaseClock } from '../../src/locks/index.js';
import { evictEmbeddedLease, tempDir, uniqueProject } from './helpers.js';
import { describeLeaseBackend } from './lease-suite.js';

describeLeaseBackend({
  name: 'embedded',
  env: (dataDir) => ({ TASKFLOW_DATA_DIR: dataDir }),
  async evict(key, dataDir) {
    evictEmbeddedLease(key, dataDir);
  },
});

describe('embedded lease store', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  /** A temp folder of this test, removed after it. */
  const testDir = (): string => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    return dir;
  };

  it('keeps the holder with the lease in <dataDir>/locks.sqlite, in WAL mode', async () => {
    const dir = testDir();
    const locks = createLockManager(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'nested') }));
    const project = uniqueProject();
    const held = await locks.acquire(project, { retryCount: 0, retryIntervalMs: 0 });
    const db = new Database(lockDatabasePath(join(dir, 'nested')), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM leases').get() as Record<string, unknown>;
      const clock = machineLeaseClock();
      expect(row).toMatchObject({ key: `taskflow:lock:${project}`, pid: process.pid, boot: clock.boot });
      expect(row.expires_at as number).toBeGreaterThan(clock.now() + 20_000);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    await held.release();
    await locks.close();
  });

  it("times leases on the machine's monotonic clock: a step of the wall clock frees no live lease", async () => {
    const dir = testDir();
    const store = new SqliteLeaseStore(lockDatabasePath(dir));
    const peer = new SqliteLeaseStore(lockDatabasePath(dir));
    try {
      expect(await store.tryAcquire('k', 't', 30_000)).toBe(true);
      // an NTP step (or a resumed virtual machine) an hour forward, seen by both
      const stepped = Date.now() + 3_600_000;
      vi.spyOn(Date, 'now').mockReturnValue(stepped);
      expect(await peer.isLocked('k')).toBe(true);
      expect(await peer.tryAcquire('k', 'peer', 30_000)).toBe(false);
      expect(await store.renew('k', 't', 30_000)).toBe(true);
    } finally {
      vi.restoreAllMocks();
      await store.close();
      await peer.close();
    }
  });

  it('a lease runs out when its time on the clock is up, and one taken in another boot counts as run out', async () => {
    const dir = testDir();
    const at = { ms: 1_000 };
    const clock = (boot: string): LeaseClock => ({ boot, now: () => at.ms });
    const store = new SqliteLeaseStore(lockDatabasePath(dir), clock('boot-1'));
    const peer = new SqliteLeaseStore(lockDatabasePath(dir), clock('boot-1'));
    const afterReboot = new SqliteLeaseStore(lockDatabasePath(dir), clock('boot-2'));
    try {
      expect(await store.tryAcquire('k', 't', 30_000)).toBe(true);
      at.ms += 29_999;
      expect(await peer.tryAcquire('k', 'peer', 30_000)).toBe(false);
      at.ms += 1;
      expect(await peer.tryAcquire('k', 'peer', 30_000)).toBe(true);
      // the monotonic clock starts again at a boot: a far smaller reading than the lease's end
      at.ms = 5;
      expect(await afterReboot.isLocked('k')).toBe(false);
      expect(await afterReboot.tryAcquire('k', 'rebooted', 30_000)).toBe(true);
      expect(await peer.release('k', 'peer')).toBe(false);
    } finally {
      await store.close();
      await peer.close();
      await afterReboot.close();
    }
  });

  it('a lease file from before leases named their boot gets the column, and its wall-clock leases count as run out', async () => {
    const dir = testDir();
    const old = new Database(lockDatabasePath(dir));
    old.exec(`CREATE TABLE leases (key TEXT PRIMARY KEY, token TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
      acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID`);
    old.prepare('INSERT INTO leases VALUES (?, ?, ?, ?, ?, ?)').run('k', 'old', 1, 'h', Date.now(), Date.now() + 3_600_000);
    old.close();
    const store = new SqliteLeaseStore(lockDatabasePath(dir));
    try {
      expect(await store.isLocked('k')).toBe(false);
      expect(await store.tryAcquire('k', 'new', 30_000)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('runs the lease writes of one event-loop turn in one transaction, in order, each settling once committed', async () => {
    const dir = testDir();
    const store = new SqliteLeaseStore(lockDatabasePath(dir));
    const peer = new SqliteLeaseStore(lockDatabasePath(dir));
    try {
      const before = store.transactionCount;
      // asked for together: five takes, then a release of the first and a take of it by another token
      const taken = await Promise.all([
        ...['a', 'b', 'c', 'd', 'e'].map((k) => store.tryAcquire(k, `t-${k}`, 30_000)),
        store.release('a', 't-a'),
        store.tryAcquire('a', 't-a2', 30_000),
      ]);
      expect(taken).toEqual([true, true, true, true, true, true, true]);
      expect(store.transactionCount - before).toBe(1);
      // committed when they settled: another connection sees them
      expect(await peer.isLocked('e')).toBe(true);
      expect(await peer.tryAcquire('a', 't-peer', 30_000)).toBe(false);
      expect(await store.release('a', 't-a')).toBe(false);
      expect(await store.release('a', 't-a2')).toBe(true);
      expect(await peer.tryAcquire('a', 't-peer', 30_000)).toBe(true);
      // writes of different turns commit apart
      const between = store.transactionCount;
      await store.release('b', 't-b');
      await store.release('c', 't-c');
      expect(store.transactionCount - between).toBe(2);
    } finally {
      await store.close();
      await peer.close();
    }
  });

  it('a release asked for just before close still happens', async () => {
    const dir = testDir();
    const store = new SqliteLeaseStore(lockDatabasePath(dir));
    expect(await store.tryAcquire('k', 't', 30_000)).toBe(true);
    const released = store.release('k', 't');
    await store.close();
    expect(await released).toBe(true);
    const peer = new SqliteLeaseStore(lockDatabasePath(dir));
    try {
      expect(await peer.isLocked('k')).toBe(false);
      await expect(store.release('k', 't')).rejects.toBeInstanceOf(LockBackendError);
    } finally {
      await peer.close();
    }
  });

  it('fails closed with the reason when the lock database cannot be opened', async () => {
    const dir = testDir();
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const locks = createLockManager(loadConfig({ TASKFLOW_DATA_DIR: notADir }));
    const err = await locks.acquire(uniqueProject(), { retryCount: 5, retryIntervalMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBackendError);
    expect((err as LockBackendError).reason).toMatch(/lock database .*locks\.sqlite/);
    await expect(locks.isLocked(uniqueProject())).rejects.toBeInstanceOf(LockBackendError);
    await locks.close();
  });
});
