/**
 * Data objects opened over the protocol (iRODS 4.3.5 `rsDataObjOpen`,
 * `rsDataObjRead`/`Write`/`Lseek`/`Close`). A read-only open reads the
 * object's bytes where the store keeps them (`StoreCore.sourceOf`): its
 * vault file, or for a small object the bytes the catalog gave with its
 * row. A write open never touches the object: its bytes go to memory or a
 * vault temp file (empty, or a copy of the object's bytes when not
 * truncated), written at positions as the client seeks, and the close
 * commits them as the object in one catalog transaction, with their MD5.
 * Until then no one sees a byte of it; a connection that ends first leaves
 * nothing behind.
 *
 * A new (or truncated) object, or a small one opened without truncating,
 * keeps its bytes in memory while it stays small (up to
 * {@link MEMORY_OBJECT_BYTES}, within a process-wide budget). At the close,
 * bytes no larger than the store's inline bound (`Vault.inlineMax`) go into
 * the catalog with the commit: no file at all. Larger ones get their temp
 * file then, written and synced in one go, instead of creating, reopening
 * and stating it at the open and writing it piece by piece (each a trip
 * through libuv's thread pool, which costs more than the file work on
 * these virtual machines).
 *
 * Large writes (a put's 8 MiB pieces) are answered as soon as their bytes
 * are copied into the transfer slots (transfer-slots.ts): the disk write
 * (O_DIRECT where the vault allows it: no page-cache pages to fill) and the
 * hashing (on the MD5 worker) go on while the client sends the next piece.
 * A write that fails there fails the next write or the close, and the close
 * then stores nothing, so the client never gets an object with bytes it was
 * told were written and were not. Small writes are written before they are
 * answered.
 *
 * The MD5 is computed as the bytes arrive while the client writes the file
 * front to back from empty (a put); any other write (after a seek back, over
 * copied bytes, past a gap) drops that running hash, and the close hashes
 * the finished file in a worker thread instead.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import { PRIVATE_FILE_MODE } from '../../private-files.js';
import type { StoreCore } from '../../store/embedded/core.js';
import type { ObjectSource, Staged } from '../../store/embedded/vault.js';
import { IrodsError } from '../wire/irods-error.js';
import { Md5Streams, type Md5Stream } from './md5-streams.js';
import { requireWithinMax, type Growth } from './size-limit.js';
import type { SharedWriteView } from './shared-writes.js';
import type { WriteClaim } from './write-claims.js';
import { BLOCK_BYTES, roundUpToBlock, SLOT_BYTES, TransferSlots, type Slot } from './transfer-slots.js';

/**
 * Most bytes one read answers: a read asking for more gets this many (a
 * short read, which clients handle), so a reply stays far below the
 * connection's message bound. python-irodsclient 0.8.1 reads 8 MiB at a time.
 */
export const MAX_READ_BYTES = 32 * 1024 * 1024;

/** Where the next read or write of a descriptor starts, and how the client moves it. */
export abstract class Positioned {
  /** The current offset. */
  position = 0;

  /** The object's current size. */
  abstract get size(): number;

  /** Moves the offset as `lseek` does (0 from the start, 1 from here, 2 from the end); returns it. */
  seek(offset: number, whence: number): number {
    const base = whence === 0 ? 0 : whence === 1 ? this.position : whence === 2 ? this.size : NaN;
    const next = base + offset;
    if (!Number.isSafeInteger(next) || next < 0) {
      throw new IrodsError('UNIX_FILE_LSEEK_ERR', `cannot seek to offset ${offset} from ${['the start', 'the current offset', 'the end'][whence] ?? `whence ${whence}`}`);
    }
    this.position = next;
    return next;
  }
}

/** How many of `len` bytes a read at `pos` of a file `size` bytes long answers. */
function readLength(pos: number, len: number, size: number): number {
  if (len < 0) throw new IrodsError('USER_API_INPUT_ERR', `cannot read ${len} bytes`);
  return Math.max(0, Math.min(len, MAX_READ_BYTES, size - pos));
}

/** Reads up to `len` bytes at `pos` of a file `size` bytes long (fewer at its end). */
async function readAt(handle: fsp.FileHandle, pos: number, len: number, size: number): Promise<Buffer> {
  const want = readLength(pos, len, size);
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await handle.read(buf, got, want - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === want ? buf : buf.subarray(0, got);
}

/** A read's bytes for a reply, and what to call once the reply is sent (their memory is reused then). */
export interface ReplyBytes {
  bytes: Buffer;
  sent?: () => void;
}

/** Reads and writes of at least this many bytes go through the transfer slots. */
export const SLOT_TRANSFER_BYTES = 1024 * 1024;

/**
 * Set once the vault's file system refuses O_DIRECT (tmpfs before Linux
 * 6.6): this process then reads and writes through the page cache.
 */
let directRefused = false;

/** Opens `file` with O_DIRECT and `flags`; null where O_DIRECT is refused or not wanted. */
async function openDirect(core: StoreCore, file: string, flags: number): Promise<fsp.FileHandle | null> {
  if (directRefused || !core.vault.directWrites) return null;
  try {
    return await fsp.open(file, flags | fs.constants.O_DIRECT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    directRefused = true;
    return null;
  }
}

/**
 * Slots for reads: not shared (no worker reads them), and never waited for
 * (a read finding none taken reads into new memory), since a slot stays
 * taken until the client has taken the reply, as long as a client wants.
 */
let readPool: TransferSlots | undefined;
const readSlots = (): TransferSlots => (readPool ??= new TransferSlots({ count: 4, shared: false }));

/** A data object opened for reading only: its vault file, as it was at the open. */
export class ReadOnlyObject extends Positioned {
  readonly writable = false;
  /** The file opened with O_DIRECT; null when it is not used, undefined before the first try. */
  private direct: fsp.FileHandle | null | undefined;
  /** A direct read went through: an EINVAL after that is an error, not a refusal of O_DIRECT. */
  private directWorked = false;

  private constructor(
    readonly path: string,
    private readonly core: StoreCore,
    private readonly file: string,
    private readonly handle: fsp.FileHandle,
    private readonly bytes: number,
  ) {
    super();
  }

  /**
   * Opens the bytes of the object `path` (`size` long, as its catalog row
   * says) from `source`: its vault file, or the bytes the catalog keeps.
   */
  static async open(core: StoreCore, path: string, source: ObjectSource, size: number): Promise<ReadOnlyObject | ReadOnlyBytes> {
    if (source.bytes) return new ReadOnlyBytes(path, source.bytes);
    const { file } = source;
    try {
      return new ReadOnlyObject(path, core, file, await fsp.open(file, 'r'), size);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new IrodsError('UNIX_FILE_READ_ERR', `the bytes of ${path} are missing from the vault (run fsck)`);
      }
      throw err;
    }
  }

  get size(): number {
    return this.bytes;
  }

  async read(len: number): Promise<Buffer> {
    const buf = await readAt(this.handle, this.position, len, this.bytes);
    this.position += buf.length;
    return buf;
  }

  /**
   * Reads for a reply: a large read goes into a read slot, with O_DIRECT
   * from an aligned offset (no page-cache pages to fill, no new memory to
   * fault in), and the slot is free again once the reply is sent.
   */
  async readForReply(len: number): Promise<ReplyBytes> {
    const want = readLength(this.position, len, this.bytes);
    const pool = readSlots();
    const slot = want >= SLOT_TRANSFER_BYTES && want <= SLOT_BYTES ? pool.tryAcquire() : undefined;
    if (!slot) return { bytes: await this.read(len) };
    try {
      const got = await this.readIntoSlot(slot, want);
      this.position += got;
      return { bytes: slot.bytes.subarray(0, got), sent: () => pool.release(slot) };
    } catch (err) {
      pool.release(slot);
      throw err;
    }
  }

  private async readIntoSlot(slot: Slot, want: number): Promise<number> {
    const pos = this.position;
    let got = 0;
    if (pos % BLOCK_BYTES === 0) {
      if (this.direct === undefined) this.direct = await openDirect(this.core, this.file, fs.constants.O_RDONLY);
      if (this.direct) {
        const len = roundUpToBlock(want);
        try {
          // whole blocks only; a read ending off a block boundary ended at the end of the file
          while (got < want && got % BLOCK_BYTES === 0) {
            const { bytesRead } = await this.direct.read(slot.bytes, got, len - got, pos + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          this.directWorked = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || this.directWorked || got > 0) throw err;
          // the file system opens with O_DIRECT but refuses the reads
          directRefused = true;
          await this.direct.close().catch(() => {});
          this.direct = null;
        }
      }
    }
    while (got < want) {
      const { bytesRead } = await this.handle.read(slot.bytes, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return Math.min(got, want);
  }

  async write(): Promise<number> {
    throw new IrodsError('UNIX_FILE_WRITE_ERR', `${this.path} is open for reading only`);
  }

  /** Closes the file. */
  async release(): Promise<void> {
    const direct = this.direct;
    this.direct = null;
    await Promise.all([direct?.close().catch(() => {}), this.handle.close().catch(() => {})]);
  }
}

/** A small data object opened for reading only: the bytes the catalog gave with its row at the open. */
export class ReadOnlyBytes extends Positioned {
  readonly writable = false;

  constructor(
    readonly path: string,
    private readonly bytes: Buffer,
  ) {
    super();
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(len: number): Promise<Buffer> {
    const want = readLength(this.position, len, this.bytes.length);
    const buf = this.bytes.subarray(this.position, this.position + want);
    this.position += want;
    return buf;
  }

  async readForReply(len: number): Promise<ReplyBytes> {
    return { bytes: await this.read(len) };
  }

  async write(): Promise<number> {
    throw new IrodsError('UNIX_FILE_WRITE_ERR', `${this.path} is open for reading only`);
  }

  async release(): Promise<void> {}
}

/** How {@link WritableObject.open} starts. */
export interface WriteStart {
  /** Where the bytes the new content starts from are; none: it starts empty. */
  copyOf?: ObjectSource;
  /** Reads are allowed too (`O_RDWR`). */
  readable: boolean;
  /** Every write goes to the end (`O_APPEND`). */
  append: boolean;
  /**
   * The content differs from the object's before any write: a new object,
   * or a truncated one. False for an untruncated copy, which a close
   * without writes leaves as it was.
   */
  changed: boolean;
  /** The open's keywords (a close reads `verifyChksum` and `chksum` from them too). */
  keywords?: ReadonlyMap<string, string>;
  /** The resource the bytes go to (`placement.ts`); none: the store vault. */
  resource?: string;
  /** The open's hold on the object (write-claims.ts); the object releases it when dropped, the close once committed. */
  claim: WriteClaim;
  /** Largest size writes and truncates may give the content (size-limit.ts). */
  maxBytes: number;
}

/** The finished bytes of a write open, ready to be committed. */
export interface FinishedWrite {
  staged: Staged;
}

/** The process's transfer slots and the MD5 worker that hashes them, made on first use. */
let pipe: { slots: TransferSlots; md5: Md5Streams } | undefined;
function transferPipe(): { slots: TransferSlots; md5: Md5Streams } {
  if (!pipe) {
    const slots = new TransferSlots();
    pipe = { slots, md5: new Md5Streams(slots.memory) };
  }
  return pipe;
}

/** Largest object kept in memory until its close (a small put: no temp file before the close). */
export const MEMORY_OBJECT_BYTES = 1024 * 1024;
/** Bytes all objects kept in memory may take together; past that, new bytes go to temp files. */
export const MEMORY_BUDGET_BYTES = 64 * 1024 * 1024;
let memoryInUse = 0;

const fsDatasync = promisify(fs.fdatasync);

/**
 * Writes `data` as the new file `file` (created exclusively, readable by
 * its owner only), synced when `sync`. Creating and writing a small file
 * are quick calls, made on this thread; only the sync, which waits for the
 * disk, goes to libuv's thread pool. Each trip through the pool is a pair
 * of thread wake-ups that on this project's virtual machines costs more
 * CPU than a small file's calls themselves: 1,000 small puts took about
 * 0.5 CPU s more with every call in the pool.
 */
async function writeNewFile(file: string, data: Buffer, sync: boolean): Promise<void> {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, PRIVATE_FILE_MODE);
  try {
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off, off);
    if (sync) await fsDatasync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A temp file's name and the id of the object it will be. */
type TempFile = { id: string; tempPath: string };

async function writeAll(handle: fsp.FileHandle, data: Buffer, len: number, pos: number): Promise<void> {
  for (let off = 0; off < len; ) off += (await handle.write(data, off, len - off, pos + off)).bytesWritten;
}

function concat(parts: readonly Buffer[]): Buffer {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts as Buffer[]);
}

/** Copies `parts` (`len` bytes in all) into `target` from `at` on. */
function copyParts(parts: readonly Buffer[], target: Buffer, at: number): void {
  for (const p of parts) {
    p.copy(target, at);
    at += p.length;
  }
}

/**
 * A data object opened for writing: its bytes in memory while it is new
 * and small, else a vault temp file; either becomes the object at the close.
 */
export class WritableObject extends Positioned {
  readonly writable = true;
  private bytes: number;
  /** MD5 of bytes [0, size) on this thread while they were written front to back; null once any write broke that. */
  private hash: Hash | null;
  /** The same on the MD5 worker, for writes through the slots (at most one of the two runs). */
  private stream: Md5Stream | null = null;
  private changed: boolean;
  /** A failed write: the temp file's content is unknown, so the close must not commit it. */
  private failure: string | undefined;
  private done = false;
  /**
   * The content while it is kept in memory (its capacity counted in
   * {@link memoryInUse}); null once it is in the temp file. No file exists
   * until then.
   */
  private mem: Buffer | null;
  /** The temp file, once the content is there. */
  private handle: fsp.FileHandle | null;
  /** Writes go through the slots (from the first large one on, so they stay in order). */
  private pipelined = false;
  /** The slot writes queued, one after another; never rejects (a failure is kept in {@link failure}). */
  private diskTail: Promise<void> = Promise.resolve();
  /** The temp file opened with O_DIRECT; null when it is not used, undefined before the first try. */
  private direct: fsp.FileHandle | null | undefined;
  /** A direct write went through: an EINVAL after that is an error, not a refusal of O_DIRECT. */
  private directWorked = false;
  /** A direct write was padded to whole blocks past the end: the close cuts the file back to its size. */
  private padded = false;

  /** The temp file (reserved once the bytes go to a file; none for bytes that go to the catalog). */
  private temp: TempFile | null;

  private constructor(
    readonly path: string,
    private readonly core: StoreCore,
    private readonly resource: string | undefined,
    file: { temp: TempFile; handle: fsp.FileHandle } | null,
    size: number,
    readonly readable: boolean,
    readonly append: boolean,
    changed: boolean,
    readonly keywords: ReadonlyMap<string, string>,
    readonly claim: WriteClaim,
    private readonly maxBytes: number,
  ) {
    super();
    this.temp = file?.temp ?? null;
    this.handle = file?.handle ?? null;
    this.mem = file ? null : Buffer.alloc(0);
    this.bytes = size;
    this.hash = size === 0 ? createHash('md5') : null;
    this.changed = changed;
  }

  /** The temp file, reserved on first use. */
  private tempFile(): TempFile {
    return (this.temp ??= this.core.vault.reserveTemp(this.resource));
  }

  /**
   * Starts a write open: in memory when it starts empty or from bytes the
   * catalog keeps (nothing touches the disk before the close, or before it
   * grows past {@link MEMORY_OBJECT_BYTES}), else a temp file holding a
   * copy of `start.copyOf`, opened for positional writes.
   */
  static async open(core: StoreCore, path: string, start: WriteStart): Promise<WritableObject> {
    const now = WritableObject.openInMemory(core, path, start);
    if (now) return now;
    const keywords = start.keywords ?? new Map();
    const { resource } = start;
    // openInMemory took every open without bytes to copy
    const copyOf = start.copyOf!;
    let temp: TempFile | undefined;
    let handle: fsp.FileHandle | undefined;
    try {
      if (copyOf.file !== undefined) {
        temp = await core.vault.createTemp(copyOf.file, resource);
      } else {
        temp = core.vault.reserveTemp(resource);
        await writeNewFile(temp.tempPath, copyOf.bytes, false);
      }
      handle = await fsp.open(temp.tempPath, 'r+');
      const { size } = await handle.stat();
      return new WritableObject(path, core, resource, { temp, handle }, size, start.readable, start.append, start.changed, keywords, start.claim, start.maxBytes);
    } catch (err) {
      await handle?.close().catch(() => {});
      if (temp) core.vault.discard({ ...temp, size: 0, md5: '' });
      throw err;
    }
  }

  /**
   * {@link WritableObject.open} when it needs no file (the content starts
   * empty, or from bytes the catalog keeps that the memory may hold), at
   * once; undefined otherwise.
   */
  static openInMemory(core: StoreCore, path: string, start: WriteStart): WritableObject | undefined {
    const { copyOf } = start;
    if (copyOf !== undefined && !copyOf.bytes) return undefined;
    const obj = new WritableObject(path, core, start.resource, null, 0, start.readable, start.append, start.changed, start.keywords ?? new Map(), start.claim, start.maxBytes);
    if (copyOf === undefined || obj.startWith(copyOf.bytes!)) return obj;
    return undefined;
  }

  /**
   * Starts the content (in memory, empty) as a copy of `bytes`, with their
   * MD5 running so appends keep it; false when the memory may not hold them.
   */
  private startWith(bytes: Buffer): boolean {
    if (!this.memoryFor(bytes.length)) {
      this.freeMemory();
      return false;
    }
    bytes.copy(this.mem!, 0);
    this.bytes = bytes.length;
    this.hash = createHash('md5').update(bytes);
    return true;
  }

  get size(): number {
    return this.bytes;
  }

  async read(len: number): Promise<Buffer> {
    if (!this.readable) throw new IrodsError('UNIX_FILE_READ_ERR', `${this.path} is open for writing only`);
    let buf: Buffer;
    if (this.mem) {
      const want = readLength(this.position, len, this.bytes);
      buf = Buffer.from(this.mem.subarray(this.position, this.position + want));
    } else {
      await this.settled();
      buf = await readAt(this.handle!, this.position, len, this.bytes);
    }
    this.position += buf.length;
    return buf;
  }

  async readForReply(len: number): Promise<ReplyBytes> {
    return { bytes: await this.read(len) };
  }

  /**
   * Writes `data` (one buffer, or pieces in order) at the offset (at the end
   * for `O_APPEND`); returns the byte count. A large write returns once its
   * bytes are queued; see the module's description.
   */
  write(data: Buffer | readonly Buffer[]): number | Promise<number> {
    return this.writeFor(this, data);
  }

  /**
   * {@link write} at the offset of `at` (this object's, or a descriptor
   * sharing it: `shared-writes.ts`), which moves past the bytes written.
   * Calls for one object must not overlap: a shared write runs them one
   * after another.
   */
  writeFor(at: Positioned, data: Buffer | readonly Buffer[]): number | Promise<number> {
    const parts = Buffer.isBuffer(data) ? [data] : data;
    let len = 0;
    for (const p of parts) len += p.length;
    this.throwIfFailed();
    const pos = this.append ? this.bytes : at.position;
    this.refuseGrowth(pos + len, 'write');
    if (pos !== this.bytes) this.dropHashes();
    if (this.mem && len < SLOT_TRANSFER_BYTES && this.memoryFor(pos + len)) {
      // in memory: answered at once, without a promise
      const mem = this.mem;
      // a gap after the end reads as zeros (the memory past the end may hold bytes cut off by a truncate)
      if (pos > this.bytes) mem.fill(0, this.bytes, pos);
      copyParts(parts, mem, pos);
      if (this.hash) for (const p of parts) this.hash.update(p);
      return this.wrote(pos, len, at);
    }
    return this.writeToFile(parts, len, pos, at);
  }

  /** {@link writeFor} into the temp file (made now from the memory, when the content is still there). */
  private async writeToFile(parts: readonly Buffer[], len: number, pos: number, at: Positioned): Promise<number> {
    if (this.mem) await this.spill();
    if (this.pipelined || len >= SLOT_TRANSFER_BYTES) {
      await this.queueWrite(parts, len, pos);
    } else {
      await this.writeNow(concat(parts), pos);
    }
    return this.wrote(pos, len, at);
  }

  /** Moves the size, and the offset of `at`, past a write of `len` bytes at `pos`; returns `len`. */
  private wrote(pos: number, len: number, at: Positioned): number {
    this.bytes = Math.max(this.bytes, pos + len);
    at.position = pos + len;
    if (len > 0) this.changed = true;
    return len;
  }

  /** Makes the memory hold `size` bytes, within the object's and the process's bounds; false when it may not. */
  private memoryFor(size: number): boolean {
    const mem = this.mem!;
    if (size <= mem.length) return true;
    if (size > MEMORY_OBJECT_BYTES) return false;
    const capacity = Math.min(MEMORY_OBJECT_BYTES, Math.max(size, 2 * mem.length, 16 * 1024));
    if (memoryInUse - mem.length + capacity > MEMORY_BUDGET_BYTES) return false;
    const grown = Buffer.allocUnsafeSlow(capacity);
    mem.copy(grown, 0, 0, this.bytes);
    memoryInUse += capacity - mem.length;
    this.mem = grown;
    return true;
  }

  private freeMemory(): void {
    if (!this.mem) return;
    memoryInUse -= this.mem.length;
    this.mem = null;
  }

  /** Moves the content from memory into a new temp file, which takes every write from now on. */
  private async spill(): Promise<void> {
    const mem = this.mem!;
    try {
      this.handle = await fsp.open(this.tempFile().tempPath, 'wx+', PRIVATE_FILE_MODE);
      this.freeMemory();
      if (this.bytes > 0) await writeAll(this.handle, mem, this.bytes, 0);
    } catch (err) {
      this.freeMemory();
      this.failed(err);
      throw new IrodsError('UNIX_FILE_WRITE_ERR', `cannot write ${this.path} to the vault: ${this.failure}`);
    }
  }

  private async writeNow(data: Buffer, pos: number): Promise<void> {
    // the write runs in libuv's threads while this one hashes the same (unchanging) buffer
    const written = writeAll(this.handle!, data, data.length, pos);
    this.hash?.update(data);
    try {
      await written;
    } catch (err) {
      this.failed(err);
      throw new IrodsError('UNIX_FILE_WRITE_ERR', `cannot write ${data.length} bytes to ${this.path}: ${this.failure}`);
    }
  }

  /** Copies the write into slots and queues each slot's disk write and hashing; returns once all are queued. */
  private async queueWrite(parts: readonly Buffer[], len: number, pos: number): Promise<void> {
    const { slots, md5 } = transferPipe();
    this.pipelined = true;
    // the worker hashes from the first byte on, or this thread goes on with what it began
    if (this.hash && this.bytes === 0) {
      this.hash = null;
      this.stream = md5.open();
    }
    // past the end, a direct write may pad its last block: the bytes after it are no one's
    const mayPad = pos + len >= this.bytes;
    let part = 0;
    let partOff = 0;
    for (let off = 0; off < len; ) {
      const n = Math.min(SLOT_BYTES, len - off);
      const slot = await slots.acquire();
      if (this.failure !== undefined) {
        slots.release(slot);
        this.throwIfFailed();
      }
      for (let filled = 0; filled < n; ) {
        const p = parts[part]!;
        const k = Math.min(p.length - partOff, n - filled);
        // fill copies natively (memcpy); copy and set go through V8's slower copy into shared memory
        slot.bytes.fill(k === p.length ? p : p.subarray(partOff, partOff + k), filled, filled + k);
        filled += k;
        partOff += k;
        if (partOff === p.length) {
          part++;
          partOff = 0;
        }
      }
      this.hash?.update(slot.bytes.subarray(0, n));
      // a lost worker fails the digest, and the close hashes the file instead
      const hashed = this.stream?.update(slot.offset, n).catch(() => undefined);
      const at = pos + off;
      const written = (this.diskTail = this.diskTail.then(() => this.writeSlot(slot, at, n, mayPad)));
      void Promise.all([hashed, written]).then(() => slots.release(slot));
      off += n;
    }
  }

  /** Writes one slot's `n` bytes at `pos`: directly when aligned (padding the last block past the end), else buffered. */
  private async writeSlot(slot: Slot, pos: number, n: number, mayPad: boolean): Promise<void> {
    if (this.failure !== undefined) return;
    try {
      if (pos % BLOCK_BYTES === 0 && (n % BLOCK_BYTES === 0 || mayPad)) {
        const direct = await this.directHandle();
        if (direct) {
          const len = roundUpToBlock(n);
          slot.bytes.fill(0, n, len);
          try {
            await writeAll(direct, slot.bytes, len, pos);
            this.directWorked = true;
            if (len !== n) this.padded = true;
            return;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EINVAL' || this.directWorked) throw err;
            // the file system opens with O_DIRECT but refuses the writes
            directRefused = true;
            this.direct = null;
            await direct.close().catch(() => {});
          }
        }
      }
      await writeAll(this.handle!, slot.bytes, n, pos);
    } catch (err) {
      this.failed(err);
    }
  }

  private async directHandle(): Promise<fsp.FileHandle | null> {
    if (this.direct === undefined) this.direct = await openDirect(this.core, this.temp!.tempPath, fs.constants.O_WRONLY);
    return this.direct;
  }

  /** Waits for the queued writes. */
  private async settled(): Promise<void> {
    await this.diskTail;
    this.throwIfFailed();
  }

  private failed(err: unknown): void {
    this.failure ??= (err as Error).message;
    this.dropHashes();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw new IrodsError('UNIX_FILE_WRITE_ERR', `an earlier write to ${this.path} failed: ${this.failure}`);
  }

  private dropHashes(): void {
    this.hash = null;
    this.stream?.drop();
    this.stream = null;
  }

  /**
   * Throws unless the content may grow to `size` bytes. A write refused so
   * fails the close too: a put past the bound must not leave its first part
   * stored as the object (python-irodsclient closes after a failed write).
   */
  private refuseGrowth(size: number, by: Growth): void {
    try {
      requireWithinMax(this.path, size, this.maxBytes, by);
    } catch (err) {
      if (by === 'write') this.failed(err);
      throw err;
    }
  }

  /** Cuts or extends (with zeros) the content to `size` bytes. */
  async truncate(size: number): Promise<void> {
    this.throwIfFailed();
    this.refuseGrowth(size, 'truncate');
    if (this.mem && !this.memoryFor(size)) await this.spill();
    if (this.mem) {
      if (size > this.bytes) this.mem.fill(0, this.bytes, size);
    } else {
      await this.settled();
      await this.handle!.truncate(size);
    }
    if (size !== this.bytes) {
      this.changed = true;
      this.dropHashes();
      if (size === 0) this.hash = createHash('md5');
    }
    this.bytes = size;
  }

  /**
   * Ends the writing: waits for the queued writes, syncs and closes the
   * temp file (or writes the bytes kept in memory as that file, synced) and
   * computes its MD5. Returns the staged file to commit, or null when
   * nothing changed (no temp file is left then). The caller owns the staged
   * file afterwards: it commits or discards it.
   */
  async finish(): Promise<FinishedWrite | null> {
    // content still in memory that stays there or goes into the catalog: nothing to wait for
    const now = this.finishNow();
    if (now !== undefined) return now;
    this.done = true;
    try {
      await this.diskTail;
      if (this.failure !== undefined) throw new IrodsError('UNIX_FILE_WRITE_ERR', `a write to ${this.path} failed (${this.failure}); nothing was stored`);
      if (!this.changed) {
        this.freeMemory();
        await this.closeFiles();
        this.dropTemp();
        return null;
      }
      if (this.mem) return { staged: this.staged(await this.writeMemory(this.mem)) };
      if (this.padded) await this.handle!.truncate(this.bytes);
      // one file, whichever descriptor wrote it: this syncs the direct writes too
      if (this.core.vault.syncs) await this.handle!.datasync();
      await this.closeFiles();
      return { staged: this.staged(await this.md5()) };
    } catch (err) {
      this.freeMemory();
      this.dropHashes();
      await this.closeFiles().catch(() => {});
      this.dropTemp();
      throw err;
    }
  }

  /**
   * {@link finish} at once when it needs no file: the content is still in
   * memory (so no write is queued and none failed) and either unchanged or
   * small enough for the catalog. Undefined otherwise (call {@link finish}).
   */
  finishNow(): FinishedWrite | null | undefined {
    const mem = this.mem;
    // a failed write fails the close: finish() says so
    if (!mem || this.done || this.failure !== undefined || (this.changed && this.bytes > this.core.vault.inlineMax)) return undefined;
    this.done = true;
    if (this.changed) return { staged: this.inCatalog(mem) };
    this.freeMemory();
    this.dropTemp();
    return null;
  }

  /**
   * The content kept in memory as bytes for the catalog: no file. The
   * commit follows at once, so the memory is counted free already.
   */
  private inCatalog(mem: Buffer): Staged {
    const { content, md5 } = this.memoryContent(mem);
    this.freeMemory();
    return this.core.vault.stagedBytes(content, md5, this.resource);
  }

  /** The content kept in memory and its MD5 (the running hash when there is one). */
  private memoryContent(mem: Buffer): { content: Buffer; md5: string } {
    const content = mem.subarray(0, this.bytes);
    return { content, md5: this.hash ? this.hash.digest('hex') : createHash('md5').update(content).digest('hex') };
  }

  /** Writes the content kept in memory as the temp file, synced when the vault syncs; returns its MD5. */
  private async writeMemory(mem: Buffer): Promise<string> {
    const { content, md5 } = this.memoryContent(mem);
    try {
      await writeNewFile(this.tempFile().tempPath, content, this.core.vault.syncs);
    } catch (err) {
      throw new IrodsError('UNIX_FILE_WRITE_ERR', `cannot write ${this.path} to the vault (${(err as Error).message}); nothing was stored`);
    }
    this.freeMemory();
    return md5;
  }

  private async md5(): Promise<string> {
    if (this.hash) return this.hash.digest('hex');
    if (this.stream) {
      try {
        return await this.stream.digest();
      } catch {
        // the worker ended with the running hash: hash the file instead
      }
    }
    return (await this.core.pool.hashFiles([this.temp!.tempPath], this.core.vault.directWrites))[0];
  }

  private async closeFiles(): Promise<void> {
    const direct = this.direct;
    this.direct = null;
    const handle = this.handle;
    this.handle = null;
    await Promise.all([direct?.close(), handle?.close()]);
  }

  /** Drops the temp file or the memory (the connection ended, or the close failed); nothing was stored. */
  async release(): Promise<void> {
    this.claim.release();
    if (this.done) return;
    this.done = true;
    this.claim.abandon?.();
    // no descriptor is closed under a write in flight
    await this.diskTail;
    this.freeMemory();
    this.dropHashes();
    await this.closeFiles().catch(() => {});
    this.dropTemp();
  }

  /** Removes the temp file, if there is one. */
  private dropTemp(): void {
    if (this.temp) this.core.vault.discard({ ...this.temp, size: 0, md5: '' });
    this.temp = null;
  }

  private staged(md5: string): Staged {
    return { ...this.temp!, size: this.bytes, md5 };
  }
}

/** An open data object, read-only or writable, or a descriptor of a shared write. */
export type OpenObject = ReadOnlyObject | ReadOnlyBytes | WritableObject | SharedWriteView;
