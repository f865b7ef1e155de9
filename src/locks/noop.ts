/**
 * The manager used when locking is switched off (`TASKFLOW_LOCK_ENABLED=false`):
 * every acquire succeeds at once and nothing is ever locked.
 *
 * @module
 */
import type { AcquireOptions, LockHandle, LockManager } from './types.js';

class NoopHandle implements LockHandle {
  readonly lost = false;
  readonly lostReason = undefined;
  constructor(readonly projectId: string) {}
  async release(): Promise<void> {}
  onLost(): void {}
}

/** Grants every lock; guards nothing. */
export class NoopLockManager implements LockManager {
  async acquire(projectId: string, _opts: AcquireOptions): Promise<LockHandle> {
    return new NoopHandle(projectId);
  }
  async isLocked(_projectId: string): Promise<boolean> {
    return false;
  }
  async close(): Promise<void> {}
}
