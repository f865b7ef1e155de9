/**
 * Project locks: one lease per project id, held for the length of a run.
 *
 * @module
 */

/** A held lock. Renewed in the background while held; released once. */
export interface LockHandle {
  readonly projectId: string;
  /** Releases the lock if this holder still owns it. Idempotent. */
  release(): Promise<void>;
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
  /** Whether some holder currently owns the project's lock. */
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
