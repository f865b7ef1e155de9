/**
 * Owner leases: every service process holds one lease under an id of its
 * own for as long as it lives, renewed like a project lock. A run records
 * its owner's id; a peer decides from the lease whether that owner still
 * lives (a pid cannot tell: `kill(pid, 0)` says yes for a zombie and for a
 * pid the system gave to another process). A dead owner's runs are taken
 * over by taking its lease: the store grants it to one taker only.
 *
 * @module
 */
import { newLeaseToken, newOwnerId, ownerKey } from './keys.js';
import { LeaseHandle, type LeaseOptions } from './lease-manager.js';
import { tryTake, type LeaseStore } from './lease-store.js';

/** Options of {@link OwnerLeases}. */
export interface OwnerLeaseOptions extends LeaseOptions {
  /** This process's owner id; a fresh one by default. */
  id?: string;
  /** Called when this process's own lease is lost (a peer may now take its runs over). */
  onLost?: (reason: string) => void;
}

/** This process's owner lease, and the leases of owners it takes over. */
export class OwnerLeases {
  /** The id runs started here record as their owner. */
  readonly id: string;
  private readonly leaseMs: number;
  private readonly renewIntervalMs: number;
  private readonly token = newLeaseToken();
  private own: LeaseHandle | undefined;
  private readonly claims = new Set<LeaseHandle>();
  private closed = false;

  constructor(
    /** The backend holding the leases (owned: closed by {@link close}). */
    readonly store: LeaseStore,
    private readonly opts: OwnerLeaseOptions,
  ) {
    if (!(opts.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${opts.leaseMs}`);
    this.id = opts.id ?? newOwnerId();
    this.leaseMs = Math.ceil(opts.leaseMs);
    this.renewIntervalMs = Math.max(1, Math.floor(opts.renewIntervalMs ?? this.leaseMs / 3));
  }

  /** Whether this process holds its own lease right now. */
  get held(): boolean {
    return this.own !== undefined && !this.own.lost;
  }

  /**
   * Takes this process's own lease, or takes it again after it was lost.
   * True when held; false when a peer holds it (it took this process for
   * dead). Throws `LockBackendError` when the backend cannot be reached.
   */
  async hold(): Promise<boolean> {
    if (this.held) return true;
    if (this.closed) return false;
    const key = ownerKey(this.id);
    const sentAt = performance.now();
    if (!(await this.store.tryAcquire(key, this.token, this.leaseMs))) return false;
    const handle = new LeaseHandle(this.id, key, this.token, this.store, this.leaseMs, this.renewIntervalMs, sentAt, () => undefined);
    this.own = handle;
    handle.onLost((reason) => this.opts.onLost?.(reason));
    return true;
  }

  /**
   * Takes over the lease of owner `ownerId` when it has run out or was
   * released: that owner is gone and its runs are the caller's to recover.
   * Undefined while the owner (or another peer taking it over) holds it, and
   * for this process's own id. The claim is renewed until released; release
   * it when done. Throws `LockBackendError`.
   */
  async takeOver(ownerId: string): Promise<LeaseHandle | undefined> {
    if (ownerId === this.id || this.closed) return undefined;
    const key = ownerKey(ownerId);
    const token = newLeaseToken();
    const sentAt = performance.now();
    if (!(await tryTake(this.store, key, token, this.leaseMs))) return undefined;
    const claim = new LeaseHandle(ownerId, key, token, this.store, this.leaseMs, this.renewIntervalMs, sentAt, (h) =>
      this.claims.delete(h),
    );
    this.claims.add(claim);
    return claim;
  }

  /** Releases this process's lease and every claim (peers may then take over what is left) and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const releases = [...this.claims].map((c) => c.release());
    if (this.own) releases.push(this.own.release());
    // A lease we cannot release runs out on its own.
    await Promise.allSettled(releases);
    await this.store.close();
  }
}
