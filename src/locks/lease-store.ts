/**
 * The primitive every lock backend provides: atomic lease operations on one
 * key, each guarded by the holder's token. Retries, renewal timers and handles
 * live in {@link LeaseLockManager} on top of it.
 *
 * @module
 */

/** Atomic lease operations; every method throws `LockBackendError` when the backend fails. */
export interface LeaseStore {
  /** Where the leases live, for messages (no credentials). */
  readonly description: string;
  /** Takes the lease if it is free or expired. True when `token` now holds it. */
  tryAcquire(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Extends the lease if `token` still holds it. False when it does not. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Deletes the lease if `token` holds it. False when it did not. */
  release(key: string, token: string): Promise<boolean>;
  /** Whether an unexpired lease exists for `key`. */
  isLocked(key: string): Promise<boolean>;
  /** Closes connections. */
  close(): Promise<void>;
}

/**
 * One attempt to take `key` for `token`. When the store fails, the take may
 * have happened with only its answer lost: the token is released (without
 * waiting) rather than left holding the key for a whole lease, and the
 * error is thrown on.
 */
export async function tryTake(store: LeaseStore, key: string, token: string, leaseMs: number): Promise<boolean> {
  try {
    return await store.tryAcquire(key, token, leaseMs);
  } catch (err) {
    store.release(key, token).catch(() => undefined);
    throw err;
  }
}
