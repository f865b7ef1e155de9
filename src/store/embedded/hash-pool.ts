/**
 * A pool of worker threads that do the byte-heavy work of the vault off the
 * main thread: hashing files (checksum verification) and copying local files
 * into the vault while hashing them (folder puts). Files go to workers in
 * batches, not one message per file, and results come back in input order.
 * Workers live as long as the pool, unref'd when idle so a pool never keeps
 * the process alive.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

// Inline source: the same code runs under the TypeScript test runner and from
// dist/, with no separate worker file to locate. Plain synchronous I/O is the
// fastest way to move bytes in a thread of its own. A copy hashes each chunk
// as it passes (never the whole file in memory). Every descriptor is closed
// by the thread that opened it: a descriptor handed to another thread is
// counted by Node's per-thread fd tracking as opened in one place and closed
// in another, which prints a warning per file (and could close a reused number).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
const fail = (err) => ({ error: String((err && err.message) || err), code: err && err.code });
function hashFile(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const hash = createHash('md5');
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
    }
    return { md5: hash.digest('hex') };
  } catch (err) {
    return fail(err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
// A direct copy writes with O_DIRECT from page-aligned memory (a WebAssembly
// memory is page-aligned): the bytes go from this buffer to the disk without
// filling new page-cache pages, which on a virtual machine costs more kernel
// time than the hashing. Whole blocks only: the last one is padded with zeros
// and the file cut back to its size. Once the file system refuses O_DIRECT
// (tmpfs does), this thread writes buffered.
const BLOCK = 4096;
const aligned = Buffer.from(new WebAssembly.Memory({ initial: 16 }).buffer);
let directRefused = false;
class DirectRefused extends Error {}
function readFull(fd, into) {
  let n = 0;
  for (let got = -1; got !== 0 && n < into.length; n += got) got = fs.readSync(fd, into, n, into.length - n, null);
  return n;
}
// Creates dest, lets write() fill it, syncs it when asked; a failure after the
// create closes and removes the file again.
function intoNewFile(dest, flags, sync, write) {
  const out = fs.openSync(dest, flags);
  try {
    const size = write(out);
    if (sync) fs.fdatasyncSync(out);
    fs.closeSync(out);
    return size;
  } catch (err) {
    fs.closeSync(out);
    fs.rmSync(dest, { force: true });
    throw err;
  }
}
const DIRECT_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_DIRECT;
function writeDirect(input, dest, hash, sync) {
  try {
    return intoNewFile(dest, DIRECT_FLAGS, sync, (out) => {
      let size = 0;
      for (let n = aligned.length; n === aligned.length; size += n) {
        n = readFull(input, aligned);
        if (n === 0) break;
        hash.update(aligned.subarray(0, n));
        const len = Math.ceil(n / BLOCK) * BLOCK;
        aligned.fill(0, n, len);
        for (let off = 0; off < len; ) off += fs.writeSync(out, aligned, off, len - off, size + off);
      }
      if (size % BLOCK !== 0) fs.ftruncateSync(out, size);
      return size;
    });
  } catch (err) {
    // the file system does not take O_DIRECT (on open), or not this alignment (on write)
    throw err.code === 'EINVAL' ? new DirectRefused() : err;
  }
}
function writeBuffered(input, dest, hash, sync) {
  return intoNewFile(dest, 'wx', sync, (out) => {
    let size = 0;
    for (;;) {
      const n = fs.readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = n === buf.length ? buf : buf.subarray(0, n);
      hash.update(chunk);
      for (let off = 0; off < n; ) off += fs.writeSync(out, chunk, off, n - off);
      size += n;
    }
    return size;
  });
}
function copyFile({ src, dest }, sync, direct) {
  let input;
  try {
    input = fs.openSync(src, 'r');
    if (direct && !directRefused) {
      try {
        const hash = createHash('md5');
        return { size: writeDirect(input, dest, hash, sync), md5: hash.digest('hex') };
      } catch (err) {
        if (!(err instanceof DirectRefused)) throw err;
        directRefused = true;
        // from the start again: undefined first, so a failing reopen is not closed twice
        fs.closeSync(input);
        input = undefined;
        input = fs.openSync(src, 'r');
      }
    }
    const hash = createHash('md5');
    return { size: writeBuffered(input, dest, hash, sync), md5: hash.digest('hex') };
  } catch (err) {
    return fail(err);
  } finally {
    if (input !== undefined) fs.closeSync(input);
  }
}
function readHead(file, maxBytes) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    let size = 0;
    for (let n = -1; n !== 0 && size < maxBytes; size += n) n = fs.readSync(fd, buf, size, maxBytes - size, null);
    return { text: buf.toString('utf8', 0, size) };
  } catch (err) {
    return fail(err);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
parentPort.on('message', (msg) => {
  const results =
    msg.op === 'hash' ? msg.files.map(hashFile)
    : msg.op === 'head' ? msg.files.map((f) => readHead(f, msg.maxBytes))
    : msg.items.map((item) => copyFile(item, msg.sync, msg.direct));
  parentPort.postMessage({ results });
});
`;

/** A file the pool could not hash; carries the file and the OS error code. */
export class HashError extends Error {
  override readonly name = 'HashError';
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A file a worker could not handle: the OS error's message and code. */
type WorkerFailure = { error: string; code?: string };

/** Outcome of copying one file: its size and MD5, or the error. */
export type CopyResult = { md5: string; size: number } | WorkerFailure;

function isFailure(r: unknown): r is WorkerFailure {
  return typeof r === 'object' && r !== null && 'error' in r;
}

type Message =
  | { op: 'hash'; files: readonly string[] }
  | { op: 'head'; files: readonly string[]; maxBytes: number }
  | { op: 'copy'; items: readonly CopyItem[] } & CopyMode;

/** How {@link HashPool.copyFiles} writes: synced to disk, and past the page cache (O_DIRECT). */
export interface CopyMode {
  sync: boolean;
  direct: boolean;
}

/** A local file to copy into the vault, at a path that must not exist yet. */
export interface CopyItem {
  src: string;
  dest: string;
}

interface Job {
  msg: Message;
  resolve(results: unknown[]): void;
  reject(err: Error): void;
}

/** Files hashed per message: large enough to amortise messaging, small enough to balance. */
const HASH_BATCH = 32;
/** Small files read per message: a read costs microseconds, so many per message. */
const HEAD_BATCH = 512;
/** Largest head {@link HashPool.readHeads} reads: what fits in a worker's buffer. */
export const MAX_HEAD_BYTES = 1 << 20;

/** MD5 hashing and hashing copies over a fixed set of worker threads. */
export class HashPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private closed = false;

  constructor(readonly size: number) {}

  /** MD5 hex of each file, in input order. Throws {@link HashError} for the first unreadable file. */
  hashFiles(files: readonly string[]): Promise<string[]> {
    return this.inBatches<{ md5: string }>(files, HASH_BATCH, (batch) => ({ op: 'hash', files: batch }), 'hash', (r) => r.md5);
  }

  /**
   * The first `maxBytes` bytes (at most {@link MAX_HEAD_BYTES}) of each file
   * as UTF-8 text, in input order: many small files (checksum companions) read
   * by the workers instead of one stream each on the caller's thread. Throws
   * {@link HashError} for the first unreadable file.
   */
  async readHeads(files: readonly string[], maxBytes: number): Promise<string[]> {
    if (!Number.isInteger(maxBytes) || maxBytes < 0 || maxBytes > MAX_HEAD_BYTES) {
      throw new RangeError(`maxBytes must be an integer from 0 to ${MAX_HEAD_BYTES}`);
    }
    return this.inBatches<{ text: string }>(files, HEAD_BATCH, (batch) => ({ op: 'head', files: batch, maxBytes }), 'read', (r) => r.text);
  }

  /**
   * Sends `files` to the workers in messages of `size`, all at once, and
   * returns each file's answer in input order; the first file a worker
   * could not `verb` throws {@link HashError}.
   */
  private async inBatches<T>(
    files: readonly string[],
    size: number,
    message: (batch: readonly string[]) => Message,
    verb: string,
    value: (result: T) => string,
  ): Promise<string[]> {
    const batches: Promise<Array<T | WorkerFailure>>[] = [];
    for (let i = 0; i < files.length; i += size) {
      batches.push(this.submit(message(files.slice(i, i + size))) as Promise<Array<T | WorkerFailure>>);
    }
    const out: string[] = [];
    (await Promise.all(batches)).forEach((results, b) =>
      results.forEach((r, i) => {
        if (isFailure(r)) {
          const file = files[b * size + i];
          throw new HashError(file, r.code, `cannot ${verb} ${file}: ${r.error}`);
        }
        out.push(value(r));
      }),
    );
    return out;
  }

  /**
   * Copies each `src` to its new `dest`, hashing on the way; one message for
   * the whole list (callers batch). Destinations come back closed, and with
   * `sync` their bytes are on disk: the worker waits for the disk itself, so
   * a pool that syncs or writes directly wants more threads than cores.
   */
  copyFiles(items: readonly CopyItem[], mode: CopyMode): Promise<CopyResult[]> {
    return this.submit({ op: 'copy', items, ...mode }) as Promise<CopyResult[]>;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('hash pool closed'));
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }

  private submit(msg: Message): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.running.set(worker, job);
      worker.ref();
      worker.postMessage(job.msg);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    this.all.push(worker);
    worker.on('message', (msg: { results: unknown[] }) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      worker.unref();
      this.idle.push(worker);
      job?.resolve(msg.results);
      this.pump();
    });
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(worker, new Error(`hash worker exited with code ${code}`));
    });
    return worker;
  }

  // A dead worker fails its job and is replaced on demand.
  private fail(worker: Worker, err: Error): void {
    const job = this.running.get(worker);
    this.running.delete(worker);
    const i = this.all.indexOf(worker);
    if (i >= 0) this.all.splice(i, 1);
    const j = this.idle.indexOf(worker);
    if (j >= 0) this.idle.splice(j, 1);
    job?.reject(err);
    this.pump();
  }
}
