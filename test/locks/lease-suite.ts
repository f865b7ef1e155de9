/**
 * The behaviour every lease backend must show, run once per backend by
 * embedded.test.ts and redis.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  createLockManager,
  LeaseHandle,
  LeaseLockManager,
  LockBusyError,
  lockKey,
  type LockManager,
} from '../../src/locks/index.js';
import { killChildren, startChild, tempDir, uniqueProject, waitFor } from './helpers.js';

/** How a backend is selected and how a test can delete a lease behind its holder's back. */
export interface BackendUnderTest {
  name: string;
  /** Settings (as environment) selecting the backend, for this process and for children. */
  env(dataDir: string): Record<string, string>;
  /** Deletes the lease stored under `key`, as an operator or a crash of the store would. */
  evict(key: string, dataDir: string): Promise<void>;
}

const NOW = { retryCount: 0, retryIntervalMs: 0 };

export function describeLeaseBackend(backend: BackendUnderTest): void {
  describe(`${backend.name} leases`, () => {
    let dir: string;
    let cleanup: () => void;
    const managers: LockManager[] = [];

    /** A lease lock manager on this test's data dir, leases of `leaseSeconds`. */
    function manager(leaseSeconds = 30): LeaseLockManager {
      const m = createLockManager(
        loadConfig({ ...backend.env(dir), TASKFLOW_LOCK_LEASE: String(leaseSeconds) }),
      );
      expect(m).toBeInstanceOf(LeaseLockManager);
      managers.push(m);
      return m as LeaseLockManager;
    }

    function childEnv(leaseSeconds: number): Record<string, string> {
      return { ...backend.env(dir), TASKFLOW_LOCK_LEASE: String(leaseSeconds) };
    }

    beforeEach(() => {
      ({ dir, cleanup } = tempDir());
    });

    afterEach(async () => {
      killChildren();
      await Promise.all(managers.splice(0).map((m) => m.close()));
      cleanup();
    });

    it('excludes a second holder until the first releases', async () => {
      const a = manager();
      const b = manager();
      const project = uniqueProject();
      const held = await a.acquire(project, NOW);
      await expect(b.acquire(project, NOW)).rejects.toBeInstanceOf(LockBusyError);
      // The same manager does not get it twice either: a lock is per run, not per process.
      await expect(a.acquire(project, NOW)).rejects.toThrow(`Project ${project} is locked by another run`);
      // Other projects are independent.
      const other = await b.acquire(uniqueProject(), NOW);
      await held.release();
      const next = await b.acquire(project, NOW);
      await next.release();
      await other.release();
    });

    it('retries retryCount times, then reports busy', async () => {
      const a = manager();
      const b = manager();
      const project = uniqueProject();
      const held = await a.acquire(project, NOW);
      const tries = vi.spyOn(b.store, 'tryAcquire');
      const err = await b.acquire(project, { retryCount: 3, retryIntervalMs: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockBusyError);
      expect((err as LockBusyError).projectId).toBe(project);
      expect(tries).toHaveBeenCalledTimes(4);
      await held.release();
    });

    it('gets the lock on a retry once the holder releases', async () => {
      const a = manager();
      const b = manager();
      const project = uniqueProject();
      const held = await a.acquire(project, NOW);
      const tries = vi.spyOn(b.store, 'tryAcquire');
      const waiting = b.acquire(project, { retryCount: 1_000, retryIntervalMs: 10 });
      const failedTries = () =>
        tries.mock.settledResults.filter((r) => r.type === 'fulfilled' && r.value === false).length;
      await waitFor('a failed first try', () => failedTries() >= 1);
      await held.release();
      const got = await waiting;
      expect(tries.mock.calls.length).toBe(failedTries() + 1);
      expect(await a.isLocked(project)).toBe(true);
      await got.release();
    });

    it('lets only the holder release or renew a lease', async () => {
      const a = manager();
      const project = uniqueProject();
      const key = lockKey(project);
      // A holder that stopped renewing: its short lease runs out.
      expect(await a.store.tryAcquire(key, 'old-holder', 100)).toBe(true);
      await waitFor('the stale lease to expire', async () => !(await a.isLocked(project)));
      const held = await a.acquire(project, NOW);
      expect(await a.store.release(key, 'old-holder')).toBe(false);
      expect(await a.store.renew(key, 'old-holder', 60_000)).toBe(false);
      expect(await a.isLocked(project)).toBe(true);
      expect(await a.store.release(key, 'someone-else')).toBe(false);
      expect(await a.isLocked(project)).toBe(true);
      await held.release();
      expect(await a.isLocked(project)).toBe(false);
      await held.release(); // idempotent
    });

    it('answers isLocked; an expired lease counts as unlocked', async () => {
      const a = manager();
      const b = manager();
      const project = uniqueProject();
      expect(await b.isLocked(project)).toBe(false);
      const held = await a.acquire(project, NOW);
      expect(await b.isLocked(project)).toBe(true);
      await held.release();
      expect(await b.isLocked(project)).toBe(false);

      expect(await a.store.tryAcquire(lockKey(project), 'crashed-holder', 200)).toBe(true);
      expect(await b.isLocked(project)).toBe(true);
      await waitFor('the lease to expire', async () => !(await b.isLocked(project)));
      const taken = await b.acquire(project, NOW);
      await taken.release();
    });

    it('renews the lease while held, beyond the lease time', async () => {
      const a = manager(0.3);
      const b = manager(0.3);
      const project = uniqueProject();
      const held = (await a.acquire(project, NOW)) as LeaseHandle;
      const start = Date.now();
      let renewals = 0;
      held.on('renewed', () => renewals++);
      // Four renewals, a tenth of a second apart: well past the 0.3 s lease.
      await waitFor('four renewals', () => renewals >= 4);
      expect(Date.now() - start).toBeGreaterThan(300);
      expect(held.lost).toBe(false);
      expect(await b.isLocked(project)).toBe(true);
      await expect(b.acquire(project, NOW)).rejects.toBeInstanceOf(LockBusyError);
      await held.release();
      expect(await b.isLocked(project)).toBe(false);
      expect(renewals).toBeGreaterThanOrEqual(4);
    });

    it('records on the handle when a renewal finds the lease gone', async () => {
      const a = manager(0.3);
      const project = uniqueProject();
      const held = await a.acquire(project, NOW);
      const reasons: string[] = [];
      held.onLost((r) => reasons.push(r));
      await backend.evict(lockKey(project), dir);
      await waitFor('the handle to notice', () => held.lost);
      expect(held.lostReason).toMatch(/expired or was taken over/);
      expect(reasons).toEqual([held.lostReason]);
      // Someone else may take it now; our late release must not free theirs.
      const b = manager(30);
      const theirs = await b.acquire(project, NOW);
      await held.release();
      expect(await b.isLocked(project)).toBe(true);
      await theirs.release();
      const late: string[] = [];
      held.onLost((r) => late.push(r));
      expect(late).toHaveLength(1);
    });

    it('releases held leases on close', async () => {
      const a = manager();
      const b = manager();
      const p1 = uniqueProject();
      const p2 = uniqueProject();
      await a.acquire(p1, NOW);
      await a.acquire(p2, NOW);
      expect(a.heldCount).toBe(2);
      await a.close();
      expect(await b.isLocked(p1)).toBe(false);
      expect(await b.isLocked(p2)).toBe(false);
    });

    it('excludes across two processes', async () => {
      const project = uniqueProject();
      const env = childEnv(30);
      const first = startChild('locks-holder', [project], env);
      await first.line(/^locked$/);
      const second = startChild('locks-holder', [project, '2', '20'], env);
      await second.line(/^busy$/);
      await expect(manager().acquire(project, NOW)).rejects.toBeInstanceOf(LockBusyError);
      // A waiting process gets the lock once the holder lets go.
      const third = startChild('locks-holder', [project, '100000', '20'], env);
      first.proc.kill('SIGTERM');
      await first.line(/^released$/);
      await third.line(/^locked$/);
      expect(third.lines).not.toContain('busy');
      third.proc.stdin!.end();
      await third.line(/^released$/);
      expect(await third.exited).toBe(0);
      expect(await manager().isLocked(project)).toBe(false);
    });

    it("lets a SIGKILLed holder's lease expire", async () => {
      const project = uniqueProject();
      const leaseSeconds = 2;
      const holder = startChild('locks-holder', [project], childEnv(leaseSeconds));
      await holder.line(/^locked$/);
      const m = manager(leaseSeconds);
      holder.proc.kill('SIGKILL');
      expect(await holder.exited).toBe('SIGKILL');
      // Nobody released it: the dead holder's lease still stands for now...
      expect(await m.isLocked(project)).toBe(true);
      await expect(m.acquire(project, NOW)).rejects.toBeInstanceOf(LockBusyError);
      // ...until it runs out, a lease time after the last renewal.
      await waitFor('the dead holder’s lease to expire', async () => !(await m.isLocked(project)));
      const mine = await m.acquire(project, NOW);
      await mine.release();
    });
  });
}
