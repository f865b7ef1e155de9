/**
 * Data objects opened over the protocol (iRODS 4.3.5 `rsDataObjOpen`,
 * `rsDataObjRead`/`Write`/`Lseek`/`Close`). A read-only open reads the
 * object's vault file. A write open never touches the object: its bytes go
 * to a vault temp file (empty, or a copy of the object's bytes when not
 * truncated), written at positions as the client seeks, and the close
 * commits that file as the object in one catalog transaction, with its MD5.
 * Until then no one sees a byte of it; a connection that ends first leaves
 * nothing behind.
 *
 * The MD5 is computed as the bytes arrive while the client writes the file
 * front to back from empty (a put); any other write (after a seek back, over
 * copied bytes, past a gap) drops that running hash, and the close hashes
 * the finished file in a worker thread instead.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import type { StoreCore } from '../../store/embedded/core.js';
import type { StagedFile } from '../../store/embedded/vault.js';
import { IrodsError } from '../wire/irods-error.js';

/**
 * Most bytes one read answers: a read asking for more gets this many (a
 * short read, which clients handle), so a reply stays far below the
 * connection's message bound. python-irodsclient 0.8.1 reads 8 MiB at a time.
 */
export const MAX_READ_BYTES = 32 * 1024 * 1024;

/** Where the next read or write of a descriptor starts, and how the client moves it. */
abstract class Positioned {
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

/** Reads up to `len` bytes at `pos` of a file `size` bytes long (fewer at its end). */
async function readAt(handle: fsp.FileHandle, pos: number, len: number, size: number): Promise<Buffer> {
  if (len < 0) throw new IrodsError('USER_API_INPUT_ERR', `cannot read ${len} bytes`);
  const want = Math.max(0, Math.min(len, MAX_READ_BYTES, size - pos));
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await handle.read(buf, got, want - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === want ? buf : buf.subarray(0, got);
}

/** A data object opened for reading only: its vault file, as it was at the open. */
export class ReadOnlyObject extends Positioned {
  readonly writable = false;

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
    private readonly bytes: number,
  ) {
    super();
  }

  /** Opens the vault file of the object `path` whose catalog row gives `vaultId` and `size`. */
  static async open(core: StoreCore, path: string, vaultId: string, size: number): Promise<ReadOnlyObject> {
    try {
      return new ReadOnlyObject(path, await fsp.open(core.vault.filePath(vaultId), 'r'), size);
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

  async write(): Promise<number> {
    throw new IrodsError('UNIX_FILE_WRITE_ERR', `${this.path} is open for reading only`);
  }

  /** Closes the file. */
  async release(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

/** How {@link WritableObject.open} starts. */
export interface WriteStart {
  /** The vault file whose bytes the new content starts from; none: it starts empty. */
  copyOf?: string;
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
}

/** The finished bytes of a write open, ready to be committed. */
export interface FinishedWrite {
  staged: StagedFile;
}

/** A data object opened for writing: a vault temp file that becomes the object at the close. */
export class WritableObject extends Positioned {
  readonly writable = true;
  private bytes: number;
  /** MD5 of bytes [0, size) while they were written front to back; null once any write broke that. */
  private hash: Hash | null;
  private changed: boolean;
  /** A failed write: the temp file's content is unknown, so the close must not commit it. */
  private failure: string | undefined;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly core: StoreCore,
    private readonly temp: { id: string; tempPath: string },
    private readonly handle: fsp.FileHandle,
    size: number,
    readonly readable: boolean,
    readonly append: boolean,
    changed: boolean,
    readonly keywords: ReadonlyMap<string, string>,
  ) {
    super();
    this.bytes = size;
    this.hash = size === 0 ? createHash('md5') : null;
    this.changed = changed;
  }

  /** Creates the temp file (a copy of `start.copyOf`, or empty) and opens it for positional writes. */
  static async open(core: StoreCore, path: string, start: WriteStart): Promise<WritableObject> {
    const temp = await core.vault.createTemp(start.copyOf);
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(temp.tempPath, 'r+');
      const { size } = await handle.stat();
      return new WritableObject(path, core, temp, handle, size, start.readable, start.append, start.changed, start.keywords ?? new Map());
    } catch (err) {
      await handle?.close().catch(() => {});
      core.vault.discard({ ...temp, size: 0, md5: '' });
      throw err;
    }
  }

  get size(): number {
    return this.bytes;
  }

  async read(len: number): Promise<Buffer> {
    if (!this.readable) throw new IrodsError('UNIX_FILE_READ_ERR', `${this.path} is open for writing only`);
    const buf = await readAt(this.handle, this.position, len, this.bytes);
    this.position += buf.length;
    return buf;
  }

  /** Writes `data` at the offset (at the end for `O_APPEND`); returns the byte count. */
  async write(data: Buffer): Promise<number> {
    if (this.failure !== undefined) throw new IrodsError('UNIX_FILE_WRITE_ERR', `an earlier write to ${this.path} failed: ${this.failure}`);
    const pos = this.append ? this.bytes : this.position;
    // the write runs in libuv's threads while this one hashes the same (unchanging) buffer
    const written = this.writeAll(data, pos);
    if (this.hash && pos === this.bytes) this.hash.update(data);
    else this.hash = null;
    try {
      await written;
    } catch (err) {
      this.failure = (err as Error).message;
      this.hash = null;
      throw new IrodsError('UNIX_FILE_WRITE_ERR', `cannot write ${data.length} bytes to ${this.path}: ${this.failure}`);
    }
    this.bytes = Math.max(this.bytes, pos + data.length);
    this.position = pos + data.length;
    if (data.length > 0) this.changed = true;
    return data.length;
  }

  private async writeAll(data: Buffer, pos: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.handle.write(data, off, data.length - off, pos + off);
      off += bytesWritten;
    }
  }

  /** Cuts or extends (with zeros) the content to `size` bytes. */
  async truncate(size: number): Promise<void> {
    await this.handle.truncate(size);
    if (size !== this.bytes) {
      this.changed = true;
      this.hash = size === 0 ? createHash('md5') : null;
    }
    this.bytes = size;
  }

  /**
   * Ends the writing: syncs and closes the temp file and computes its MD5.
   * Returns the staged file to commit, or null when nothing changed (the
   * temp file is then gone). The caller owns the staged file afterwards:
   * it commits or discards it.
   */
  async finish(): Promise<FinishedWrite | null> {
    this.done = true;
    try {
      if (this.failure !== undefined) throw new IrodsError('UNIX_FILE_WRITE_ERR', `a write to ${this.path} failed (${this.failure}); nothing was stored`);
      if (!this.changed) {
        await this.handle.close();
        this.core.vault.discard(this.staged(''));
        return null;
      }
      if (this.core.vault.syncs) await this.handle.datasync();
      await this.handle.close();
      const md5 = this.hash ? this.hash.digest('hex') : (await this.core.pool.hashFiles([this.temp.tempPath]))[0];
      return { staged: this.staged(md5) };
    } catch (err) {
      await this.handle.close().catch(() => {});
      this.core.vault.discard(this.staged(''));
      throw err;
    }
  }

  /** Drops the temp file (the connection ended, or the close failed); nothing was stored. */
  async release(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => {});
    this.core.vault.discard(this.staged(''));
  }

  private staged(md5: string): StagedFile {
    return { ...this.temp, size: this.bytes, md5 };
  }
}

/** An open data object, read-only or writable. */
export type OpenObject = ReadOnlyObject | WritableObject;
