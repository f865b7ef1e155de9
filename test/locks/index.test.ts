import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  createLockManager,
  LeaseLockManager,
  NoopLockManager,
  RedisLeaseStore,
  SqliteLeaseStore,
} from '../../src/locks/index.js';

describe('createLockManager', () => {
  it('uses the embedded lease in <dataDir>/locks.sqlite by default', async () => {
    const locks = createLockManager(loadConfig({ TASKFLOW_DATA_DIR: '/nonexistent/data' }));
    expect(locks).toBeInstanceOf(LeaseLockManager);
    const store = (locks as LeaseLockManager).store;
    expect(store).toBeInstanceOf(SqliteLeaseStore);
    expect((store as SqliteLeaseStore).filePath).toBe(join('/nonexistent/data', 'locks.sqlite'));
    await locks.close();
  });

  it('uses Redis when TASKFLOW_REDIS_URL is set, connecting on first use', async () => {
    const locks = createLockManager(loadConfig({ TASKFLOW_REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(locks).toBeInstanceOf(LeaseLockManager);
    expect((locks as LeaseLockManager).store).toBeInstanceOf(RedisLeaseStore);
    await locks.close();
  });

  it('locks nothing when locking is off, whatever the backend', async () => {
    const locks = createLockManager(
      loadConfig({ TASKFLOW_LOCK_ENABLED: 'false', TASKFLOW_REDIS_URL: 'redis://127.0.0.1:1' }),
    );
    expect(locks).toBeInstanceOf(NoopLockManager);
    const a = await locks.acquire('p', { retryCount: 0, retryIntervalMs: 0 });
    const b = await locks.acquire('p', { retryCount: 0, retryIntervalMs: 0 });
    expect(await locks.isLocked('p')).toBe(false);
    expect(a.lost).toBe(false);
    await a.release();
    await b.release();
    await locks.close();
  });
});
