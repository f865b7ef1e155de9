/**
 * A {@link LockManager} over any {@link LeaseStore}: acquire with retries,
 * renewal in the background while held, release by token only.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockKey, newLeaseToken } from './keys.js';
import { tryTake, type LeaseStore } from './lease-store.js';
import {
  type AcquireOptions,
  LockBackendError,
  LockBusyError,
  type LockHandle,
  type LockManager,
} from './types.js';

/** Timing of the leases a {@link LeaseLockManager} hands out. */
export interface LeaseOptions {
  /** How long a lease lasts without renewal. */
  leaseMs: number;
  /** How often a held lease is renewed; a third of the lease by default. */
  renewIntervalMs?: number;
}

interface LeaseHandleEvents {
  /** A renewal succeeded; the lease now lasts until `expiresAt` (local estimate, in `performance.now()` ms). */
  renewed: [expiresAt: number];
  /** The lease is no longer ours. */
  lost: [reason: string];
}

/**
 * A held lease. Renews itself every `renewIntervalMs` on an unref'd timer (so
 * a held lock never keeps the process alive) until released or lost.
 */
export class LeaseHandle extends EventEmitter<LeaseHandleEvents> implements LockHandle {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private releasing: Promise<void> | undefined;
  private lostWhy: string | undefined;
  /**
   * Local estimate of when the lease runs out if not renewed again, on this
   * process's monotonic clock (`performance.now()`): a step of the wall
   * clock changes no lease's time.
   */
  expiresAt: number;

  constructor(
    readonly projectId: string,
    /** The lease key in the store. */
    readonly key: string,
    /** This holder's token. */
    readonly token: string,
    private readonly store: LeaseStore,
    private readonly leaseMs: number,
    private readonly renewIntervalMs: number,
    /** When the taking of the lease was sent, in `performance.now()` ms. */
    acquiredAt: number,
    private readonly onDone: (h: LeaseHandle) => void,
  ) {
    super();
    this.expiresAt = acquiredAt + leaseMs;
    this.schedule();
  }

  get lost(): boolean {
    return this.lostWhy !== undefined;
  }

  get lostReason(): string | undefined {
    return this.lostWhy;
  }

  onLost(listener: (reason: string) => void): void {
    if (this.lostWhy !== undefined) listener(this.lostWhy);
    else this.once('lost', listener);
  }

  release(): Promise<void> {
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  private async doRelease(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    this.onDone(this);
    if (this.lost) return;
    await this.store.release(this.key, this.token);
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), this.renewIntervalMs);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.released) return;
    const sentAt = performance.now();
    let held: boolean;
    try {
      held = await this.store.renew(this.key, this.token, this.leaseMs);
    } catch (err) {
      if (this.released) return;
      // A backend hiccup does not lose the lease while it is still running;
      // past its end, someone else may hold it, so we must say so.
      if (performance.now() >= this.expiresAt) {
        this.markLost(`lease renewal failed until the lease ran out: ${(err as Error).message}`);
      } else {
        this.schedule();
      }
      return;
    }
    if (this.released) return;
    if (!held) {
      this.markLost(`lease on ${this.key} expired or was taken over by another holder`);
      return;
    }
    this.expiresAt = sentAt + this.leaseMs;
    this.emit('renewed', this.expiresAt);
    this.schedule();
  }

  private markLost(reason: string): void {
    this.lostWhy = reason;
    this.onDone(this);
    this.emit('lost', reason);
  }
}

/** Leases over a {@link LeaseStore}. One instance per process and backend is enough. */
export class LeaseLockManager implements LockManager {
  private readonly held = new Set<LeaseHandle>();
  private closed = false;
  private readonly leaseMs: number;
  private readonly renewIntervalMs: number;

  constructor(
    /** The backend holding the leases. */
    readonly store: LeaseStore,
    opts: LeaseOptions,
  ) {
    if (!(opts.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${opts.leaseMs}`);
    this.leaseMs = Math.ceil(opts.leaseMs);
    this.renewIntervalMs = Math.max(1, Math.floor(opts.renewIntervalMs ?? this.leaseMs / 3));
  }

  async acquire(projectId: string, opts: AcquireOptions): Promise<LeaseHandle> {
    const key = lockKey(projectId);
    const token = newLeaseToken();
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new LockBackendError('lock manager is closed');
      const sentAt = performance.now();
      if (await tryTake(this.store, key, token, this.leaseMs)) {
        if (this.closed) {
          await this.store.release(key, token);
          throw new LockBackendError('lock manager is closed');
        }
        const handle = new LeaseHandle(projectId, key, token, this.store, this.leaseMs, this.renewIntervalMs, sentAt, (h) =>
          this.held.delete(h),
        );
        this.held.add(handle);
        return handle;
      }
      if (attempt >= opts.retryCount) throw new LockBusyError(projectId);
      await sleep(opts.retryIntervalMs);
    }
  }

  isLocked(projectId: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new LockBackendError('lock manager is closed'));
    return this.store.isLocked(lockKey(projectId));
  }

  /** Leases this manager holds right now. */
  get heldCount(): number {
    return this.held.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const releases = [...this.held].map((h) => h.release());
    // Release what we can; a lease we cannot release runs out on its own.
    await Promise.allSettled(releases);
    await this.store.close();
  }
}
