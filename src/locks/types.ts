/**
 * Project locks: one lease per project id, held for the length of a run.
 *
 * @module
 */

/** A held lock. Renewed in the background while held; released once. */
export interface LockHandle {
  readonly projectId: string;
  /**
   * Releases the lock if this holder still owns it. Idempotent. Stops the
   * renewal first; rejects with {@link LockBackendError} only when the backend
   * cannot be reached, in which case the lease simply runs out on its own.
   */
  release(): Promise<void>;
  /**
   * True once a renewal found the lease gone or owned by someone else (or
   * could not reach the backend before the lease ran out): the run is no
   * longer protected and the service should log it.
   */
  readonly lost: boolean;
  /** Why the lease was lost; undefined while it is not. */
  readonly lostReason: string | undefined;
  /** Calls `listener` once if the lease is lost while held (at once if already lost). */
  onLost(listener: (reason: string) => void): void;
}

/** Retry policy of one acquire: first try, then `retryCount` more, `retryIntervalMs` apart. */
export interface AcquireOptions {
  retryCount: number;
  retryIntervalMs: number;
}

/** Locks for projects. Implementations: embedded SQLite lease, Redis lease. */
export interface LockManager {
  /**
   * Acquires the project's lock or throws: {@link LockBusyError} when another
   * holder keeps it through every retry, {@link LockBackendError} when the lock
   * backend cannot be reached (we fail closed: the flow must not run).
   */
  acquire(projectId: string, opts: AcquireOptions): Promise<LockHandle>;
  /** Whether some holder currently owns the project's lock (an expired lease does not count). */
  isLocked(projectId: string): Promise<boolean>;
  /** Stops renewals and closes connections; held leases are released. */
  close(): Promise<void>;
}

/** The project is locked by another run. */
export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
  constructor(readonly projectId: string) {
    super(`Project ${projectId} is locked by another run`);
  }
}

/** The lock backend cannot be reached or answered wrongly. */
export class LockBackendError extends Error {
  override readonly name = 'LockBackendError';
  constructor(readonly reason: string) {
    super(reason);
  }
}
