/**
 * Project locks (protocol section 6): the embedded SQLite lease by default,
 * Redis when `TASKFLOW_REDIS_URL` is set, nothing when locking is off; and
 * the service processes' owner leases in the same store.
 *
 * @module
 */
import type { Config } from '../config.js';
import { lockDatabasePath } from './keys.js';
import { LeaseLockManager } from './lease-manager.js';
import { NoopLockManager } from './noop.js';
import { OwnerLeases, type OwnerLeaseOptions } from './owner-lease.js';
import type { LeaseStore } from './lease-store.js';
import { RedisLeaseStore } from './redis-lease-store.js';
import { SqliteLeaseStore } from './sqlite-lease-store.js';
import type { LockManager } from './types.js';

/**
 * The lease store the settings ask for: Redis when `config.redisUrl` is set,
 * else the embedded lease table in `<config.dataDir>/locks.sqlite`.
 */
export function createLeaseStore(config: Config): LeaseStore {
  return config.redisUrl ? new RedisLeaseStore(config.redisUrl) : new SqliteLeaseStore(lockDatabasePath(config.dataDir));
}

/**
 * This process's owner lease (see {@link OwnerLeases}) in the lease store the
 * settings ask for, whether or not project locks are on: recovery needs to
 * know whose runs are live either way. Leases last `config.lockLeaseSeconds`.
 */
export function createOwnerLeases(config: Config, opts: Omit<OwnerLeaseOptions, 'leaseMs'> = {}): OwnerLeases {
  return new OwnerLeases(createLeaseStore(config), { ...opts, leaseMs: config.lockLeaseSeconds * 1000 });
}

/**
 * The lock manager the settings ask for: none when `config.lockEnabled` is
 * false, else Redis when `config.redisUrl` is set, else the embedded lease in
 * `<config.dataDir>/locks.sqlite`. Leases last `config.lockLeaseSeconds` and
 * are renewed while held. Connects lazily: backend failures surface on the
 * first acquire as `LockBackendError`.
 */
export function createLockManager(config: Config): LockManager {
  if (!config.lockEnabled) return new NoopLockManager();
  return new LeaseLockManager(createLeaseStore(config), { leaseMs: config.lockLeaseSeconds * 1000 });
}

export { lockDatabasePath, lockKey, newOwnerId, ownerKey, zoneCreationLane } from './keys.js';
export { LeaseHandle, LeaseLockManager, type LeaseOptions } from './lease-manager.js';
export type { LeaseStore } from './lease-store.js';
export { NoopLockManager } from './noop.js';
export { OwnerLeases, type OwnerLeaseOptions } from './owner-lease.js';
export { RedisLeaseStore, type RedisLeaseStoreOptions } from './redis-lease-store.js';
export { machineLeaseClock, SqliteLeaseStore, type LeaseClock } from './sqlite-lease-store.js';
export * from './types.js';
