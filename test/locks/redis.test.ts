import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  createLockManager,
  LeaseLockManager,
  LockBackendError,
  lockKey,
  RedisLeaseStore,
} from '../../src/locks/index.js';
import { closedPort, REDIS_URL, startProxy, uniqueProject, waitFor } from './helpers.js';
import { describeLeaseBackend } from './lease-suite.js';

// A raw client for checks behind the lock manager's back. Redis is always
// there for the tests: when it is not, every test here fails.
let redis: Redis;
beforeAll(async () => {
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${REDIS_URL} is unreachable: ${(err as Error).message}`);
  }
});
afterAll(() => {
  redis.disconnect();
});

describeLeaseBackend({
  name: 'Redis',
  env: (dataDir) => ({ TASKFLOW_DATA_DIR: dataDir, TASKFLOW_REDIS_URL: REDIS_URL }),
  async evict(key) {
    expect(await redis.del(key)).toBe(1);
  },
});

describe('Redis lease store', () => {
  it('keeps a token naming the holder, with an expiry', async () => {
    const locks = createLockManager(loadConfig({ TASKFLOW_REDIS_URL: REDIS_URL, TASKFLOW_LOCK_LEASE: '30' }));
    const project = uniqueProject();
    const held = await locks.acquire(project, { retryCount: 0, retryIntervalMs: 0 });
    const key = lockKey(project);
    expect(await redis.get(key)).toMatch(new RegExp(`/${process.pid}/[0-9a-f]{32}$`));
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(20_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await held.release();
    expect(await redis.exists(key)).toBe(0);
    await locks.close();
  });

  // The vitest timeout bounds "fast": an offline queue or endless retries would hang here.
  it('fails closed at once when Redis is unreachable', { timeout: 10_000 }, async () => {
    const port = await closedPort();
    const locks = createLockManager(
      loadConfig({ TASKFLOW_REDIS_URL: `redis://127.0.0.1:${port}`, TASKFLOW_LOCK_LEASE: '30' }),
    );
    for (let i = 0; i < 3; i++) {
      // Retries are for a busy lock, not for a missing backend: 100 retries a
      // second apart would take far longer than this test may.
      const err = await locks.acquire(uniqueProject(), { retryCount: 100, retryIntervalMs: 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockBackendError);
      expect((err as LockBackendError).reason).toBe(
        `Redis at 127.0.0.1:${port} is unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
    }
    await expect(locks.isLocked(uniqueProject())).rejects.toBeInstanceOf(LockBackendError);
    await locks.close();
  });

  it('reports an unreachable Redis without a credential in the reason', { timeout: 10_000 }, async () => {
    const port = await closedPort();
    const store = new RedisLeaseStore(`redis://user:s3cret@127.0.0.1:${port}/0`);
    const err = await store.tryAcquire('k', 't', 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBackendError);
    expect((err as Error).message).not.toContain('s3cret');
    await store.close();
  });

  it('loses a held lease when Redis stays away past its end, and works again when Redis is back', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await startProxy(target.hostname, Number(target.port || 6379));
    const locks = createLockManager(
      loadConfig({ TASKFLOW_REDIS_URL: `redis://127.0.0.1:${proxy.port}`, TASKFLOW_LOCK_LEASE: '0.5' }),
    ) as LeaseLockManager;
    try {
      const project = uniqueProject();
      const held = await locks.acquire(project, { retryCount: 0, retryIntervalMs: 0 });
      await proxy.cut();
      await waitFor('the handle to give the lease up', () => held.lost);
      expect(held.lostReason).toMatch(/^lease renewal failed until the lease ran out: /);
      await expect(locks.acquire(uniqueProject(), { retryCount: 0, retryIntervalMs: 0 })).rejects.toBeInstanceOf(
        LockBackendError,
      );
      await held.release(); // nothing to release any more; must not throw
      await proxy.restore();
      let again: Awaited<ReturnType<typeof locks.acquire>> | undefined;
      await waitFor('an acquire to succeed after Redis is back', async () => {
        again = await locks.acquire(project, { retryCount: 0, retryIntervalMs: 0 }).catch((e: unknown) => {
          if (e instanceof LockBackendError) return undefined;
          throw e;
        });
        return again !== undefined;
      });
      await again!.release();
    } finally {
      await locks.close();
      await proxy.cut();
    }
  });
});
