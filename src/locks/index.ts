/**
 * Project locks (protocol section 6): the embedded SQLite lease by default,
 * Redis when `TASKFLOW_REDIS_URL` is set, nothing when locking is off.
 *
 * @module
 */
import type { Config } from '../config.js';
import { lockDatabasePath } from './keys.js';
import { LeaseLockManager } from './lease-manager.js';
import { NoopLockManager } from './noop.js';
import { RedisLeaseStore } from './redis-lease-store.js';
import { SqliteLeaseStore } from './sqlite-lease-store.js';
import type { LockManager } from './types.js';

/**
 * The lock manager the settings ask for: none when `config.lockEnabled` is
 * false, else Redis when `config.redisUrl` is set, else the embedded lease in
 * `<config.dataDir>/locks.sqlite`. Leases last `config.lockLeaseSeconds` and
 * are renewed while held. Connects lazily: backend failures surface on the
 * first acquire as `LockBackendError`.
 */
export function createLockManager(config: Config): LockManager {
  if (!config.lockEnabled) return new NoopLockManager();
  const leaseMs = config.lockLeaseSeconds * 1000;
  const store = config.redisUrl
    ? new RedisLeaseStore(config.redisUrl)
    : new SqliteLeaseStore(lockDatabasePath(config.dataDir));
  return new LeaseLockManager(store, { leaseMs });
}

export { lockDatabasePath, lockKey } from './keys.js';
export { LeaseHandle, LeaseLockManager, type LeaseOptions } from './lease-manager.js';
export type { LeaseStore } from './lease-store.js';
export { NoopLockManager } from './noop.js';
export { RedisLeaseStore, type RedisLeaseStoreOptions } from './redis-lease-store.js';
export { SqliteLeaseStore } from './sqlite-lease-store.js';
export * from './types.js';
