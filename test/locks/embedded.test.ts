import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLockManager, LockBackendError, lockDatabasePath } from '../../src/locks/index.js';
import { tempDir, uniqueProject } from './helpers.js';
import { describeLeaseBackend } from './lease-suite.js';

describeLeaseBackend({
  name: 'embedded',
  env: (dataDir) => ({ TASKFLOW_DATA_DIR: dataDir }),
  async evict(key, dataDir) {
    const db = new Database(lockDatabasePath(dataDir), { timeout: 5_000 });
    try {
      db.prepare('DELETE FROM leases WHERE key = ?').run(key);
    } finally {
      db.close();
    }
  },
});

describe('embedded lease store', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('keeps the holder with the lease in <dataDir>/locks.sqlite, in WAL mode', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const locks = createLockManager(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'nested') }));
    const project = uniqueProject();
    const held = await locks.acquire(project, { retryCount: 0, retryIntervalMs: 0 });
    const db = new Database(lockDatabasePath(join(dir, 'nested')), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM leases').get() as Record<string, unknown>;
      expect(row).toMatchObject({ key: `taskflow:lock:${project}`, pid: process.pid });
      expect(row.expires_at as number).toBeGreaterThan(Date.now() + 20_000);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    await held.release();
    await locks.close();
  });

  it('fails closed with the reason when the lock database cannot be opened', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
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
