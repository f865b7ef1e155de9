/**
 * Owner leases on both lease backends: a live owner's lease cannot be taken
 * over, it outlives its lease time while renewed, and once released or run
 * out exactly one of two takers gets it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createOwnerLeases, newOwnerId, ownerKey, type OwnerLeases } from '../../src/locks/index.js';
import { REDIS_URL, tempDir, waitFor } from './helpers.js';

const BACKENDS: Array<[string, (dir: string) => Record<string, string>]> = [
  ['embedded', (dir) => ({ TASKFLOW_DATA_DIR: dir })],
  ['Redis', (dir) => ({ TASKFLOW_DATA_DIR: dir, TASKFLOW_REDIS_URL: REDIS_URL })],
];

describe.each(BACKENDS)('owner leases (%s)', (_name, envOf) => {
  let dir: string;
  let cleanup: () => void;
  const opened: OwnerLeases[] = [];
  const owners = (leaseSeconds: number): OwnerLeases => {
    const o = createOwnerLeases(loadConfig({ ...envOf(dir), TASKFLOW_LOCK_LEASE: String(leaseSeconds) }));
    opened.push(o);
    return o;
  };
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    cleanup();
  });

  it('a held owner lease is renewed past its lease time and cannot be taken over; once released exactly one taker gets it', async () => {
    const live = owners(0.3);
    const [a, b] = [owners(0.3), owners(0.3)];
    expect(live.id).not.toBe(a.id);
    expect(await live.hold()).toBe(true);
    expect(await a.takeOver(a.id)).toBeUndefined(); // never its own
    const until = Date.now() + 1000; // more than three lease times
    while (Date.now() < until) {
      expect(await a.takeOver(live.id)).toBeUndefined();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(live.held).toBe(true);

    await live.close();
    const claims = await Promise.all([a.takeOver(live.id), b.takeOver(live.id)]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it('an owner lease that is no longer renewed is taken over once it has run out', async () => {
    const a = owners(0.3);
    const dead = owners(0.3);
    const gone = newOwnerId(); // unique: parallel runs share the Redis
    // The owner's last act: its lease taken straight in the store, never renewed.
    expect(await dead.store.tryAcquire(ownerKey(gone), 'its-token', 300)).toBe(true);
    expect(await a.takeOver(gone)).toBeUndefined();
    await waitFor('the gone owner\'s lease to run out', async () => !(await a.store.isLocked(ownerKey(gone))));
    const claim = await a.takeOver(gone);
    expect(claim).toBeDefined();
    await claim!.release();
  });
});
