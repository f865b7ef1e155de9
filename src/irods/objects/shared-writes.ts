/**
 * One write open shared by several descriptors, on several connections: the
 * put of a parallel transfer (python-irodsclient 0.9 and later, objects over
 * 32 MiB; the client side is described in `replica-access.ts`). The first
 * descriptor's replica token, which a client gets from the descriptor info
 * (20000), lets other opens of the same object, with the keyword
 * `replicaToken`, write into the same bytes instead of being refused as
 * the object is locked (iRODS 4.2.9 to 4.3.5 `logical_locking.cpp`
 * `try_lock_for_intermediate_replica_access`: a valid token grants access
 * to the intermediate replica).
 *
 * Each descriptor keeps its own offset. Their writes run one after another
 * (the object's write path assumes no overlap), so parts arrive in any
 * order: the running MD5 stops at the first write out of order and the
 * close hashes the file. The first descriptor's close commits the whole
 * object, as its close finalizes the replica on an iRODS server; the
 * others' closes (replica close 20004, or 673) only end their part. If the
 * first descriptor is dropped unclosed, the bytes are dropped and every
 * other part's next write fails.
 *
 * @module
 */
import type { StoreCore } from '../../store/embedded/core.js';
import { IrodsError } from '../wire/irods-error.js';
import { Positioned, type ReplyBytes, type WritableObject } from './open-objects.js';

/** The shared state of one write open that other descriptors joined. */
export class SharedWrite {
  private tail: Promise<unknown> = Promise.resolve();
  /** Set once the first descriptor closed or was dropped: parts may no longer write. */
  private ended: string | undefined;

  constructor(
    readonly obj: WritableObject,
    readonly token: string,
    private readonly registry: Map<string, SharedWrite>,
  ) {}

  /** Runs `write` after every write queued before it; the writes of all descriptors take turns. */
  run<T>(write: () => T | Promise<T>): Promise<T> {
    if (this.ended !== undefined) return Promise.reject(new IrodsError('UNIX_FILE_WRITE_ERR', `${this.obj.path}: ${this.ended}`));
    const next = this.tail.then(write);
    this.tail = next.catch(() => {});
    return next;
  }

  /** Waits until every write queued so far is done. */
  async drain(): Promise<void> {
    await this.tail;
  }

  /** No more joins or writes through parts: the first descriptor closed (`why`) or was dropped. */
  end(why: string): void {
    this.ended ??= why;
    this.registry.delete(this.token);
  }
}

/** A descriptor writing through a {@link SharedWrite}: the first one (`first`) or one that joined with the token. */
export class SharedWriteView extends Positioned {
  readonly writable = true;
  readonly readable = false;

  constructor(
    readonly shared: SharedWrite,
    /** The descriptor that opened the object: its close commits the bytes. */
    readonly first: boolean,
    position: number,
  ) {
    super();
    this.position = position;
  }

  get path(): string {
    return this.shared.obj.path;
  }

  get size(): number {
    return this.shared.obj.size;
  }

  get claim(): WritableObject['claim'] {
    return this.shared.obj.claim;
  }

  /** Queues the write behind the other descriptors' (a request's bytes are its own: the connection never reuses them). */
  write(data: Buffer | readonly Buffer[]): Promise<number> {
    return this.shared.run(() => this.shared.obj.writeFor(this, data));
  }

  async read(): Promise<Buffer> {
    throw new IrodsError('UNIX_FILE_READ_ERR', `${this.path} is open for writing only`);
  }

  async readForReply(): Promise<ReplyBytes> {
    return { bytes: await this.read() };
  }

  async truncate(): Promise<void> {
    throw new IrodsError('SYS_NOT_SUPPORTED', `${this.path} is written by a parallel transfer: its parts cannot truncate it`);
  }

  /** Dropped unclosed (its connection ended): a part just ends; the first drops the bytes for every part. */
  async release(): Promise<void> {
    if (!this.first) return;
    this.shared.end('the parallel transfer ended: its first descriptor was dropped before its close; nothing was stored');
    await this.shared.drain();
    await this.shared.obj.release();
  }
}

/** The shared writes of one store by replica token. */
const registries = new WeakMap<StoreCore, Map<string, SharedWrite>>();

function registryOf(core: StoreCore): Map<string, SharedWrite> {
  let r = registries.get(core);
  if (!r) registries.set(core, (r = new Map()));
  return r;
}

/** Makes `obj` joinable with `token`; the view its own descriptor writes through from now on. */
export function shareWrite(core: StoreCore, obj: WritableObject, token: string): SharedWriteView {
  const registry = registryOf(core);
  const shared = new SharedWrite(obj, token, registry);
  registry.set(token, shared);
  return new SharedWriteView(shared, true, obj.position);
}

/** The shared write `token` names, for an open of `path`; undefined when there is none (the open goes on as any other). */
export function sharedWriteOf(core: StoreCore, token: string, path: string): SharedWrite | undefined {
  const shared = registries.get(core)?.get(token);
  return shared && shared.obj.path === path ? shared : undefined;
}
