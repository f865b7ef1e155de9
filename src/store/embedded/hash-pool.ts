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
import { PRIVATE_FILE_MODE } from '../../private-files.js';
import { MD5_KERNEL } from './md5-kernel.js';
import { md5Kernel, md5LanesRuntime } from './md5-lanes.js';

// Inline source: the same code runs under the TypeScript test runner and from
// dist/, with no separate worker file to locate; the MD5 lanes are rebuilt
// from md5LanesRuntime's source text, their compiled kernel comes in
// workerData. Plain synchronous I/O is the fastest way to move bytes in a
// thread of its own. Files go through the lanes: each round, every busy lane
// reads its file's next chunk into its region, all lanes hash at once, then
// a copy writes each chunk out; a lane whose file ends takes the next file.
// Every descriptor is closed by the thread that opened it: a descriptor
// handed to another thread is counted by Node's per-thread fd tracking as
// opened in one place and closed in another, which prints a warning per file
// (and could close a reused number).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { Md5Lanes } = (${md5LanesRuntime})(workerData.spec, () => workerData.kernel, () => require('node:crypto').createHash('md5'));
const LANES = workerData.lanes;
const REGION = workerData.regionBytes;
const md5 = new Md5Lanes(Md5Lanes.memoryFor({ lanes: LANES, regionBytes: REGION }), { lanes: LANES, regionBytes: REGION });
// WebAssembly memory is page-aligned, and so is every region in it: a copy
// can write a region with O_DIRECT.
const mem = Buffer.from(md5.memory.buffer);
const buf = Buffer.allocUnsafe(1 << 20);
const fail = (err) => ({ error: String((err && err.message) || err), code: err && err.code });
// Fills a lane's region from the state's input: less than a region only at the end of the file.
function readInput(s, offset) {
  let n = 0;
  for (let got = -1; got !== 0 && n < REGION; n += got) got = fs.readSync(s.input, mem, offset + n, REGION - n, null);
  return n;
}
// Runs count items through the lanes. job.open(i) opens item i's input (and
// output) and returns its state, whose input job.read (readInput unless
// given) reads; job.chunk(state, offset, n) takes each hashed chunk;
// job.close(state, md5) finishes an item and returns its result;
// job.abort(state) cleans up after a failure.
function throughLanes(count, job) {
  const results = new Array(count);
  const busy = new Array(LANES).fill(null);
  const bytes = new Array(LANES).fill(0);
  const final = new Array(LANES).fill(false);
  let next = 0;
  const failed = (l, err) => {
    try { job.abort(busy[l].state); } catch {}
    results[busy[l].index] = fail(err);
    busy[l] = null;
  };
  const refill = () => {
    for (let l = 0; l < LANES; l++) {
      while (busy[l] === null && next < count) {
        const index = next++;
        try {
          busy[l] = { index, state: job.open(index) };
          md5.reset(l);
        } catch (err) {
          results[index] = fail(err);
        }
      }
    }
  };
  for (refill(); busy.some((b) => b !== null); refill()) {
    for (let l = 0; l < LANES; l++) {
      bytes[l] = 0;
      final[l] = false;
      if (busy[l] === null) continue;
      try {
        bytes[l] = (job.read ?? readInput)(busy[l].state, md5.regionOffset(l));
        final[l] = bytes[l] < REGION;
      } catch (err) {
        bytes[l] = 0;
        failed(l, err);
      }
    }
    md5.update(bytes, final);
    for (let l = 0; l < LANES; l++) {
      if (busy[l] === null) continue;
      try {
        job.chunk(busy[l].state, md5.regionOffset(l), bytes[l]);
        if (!final[l]) continue;
        results[busy[l].index] = job.close(busy[l].state, md5.digest(l));
        busy[l] = null;
      } catch (err) {
        failed(l, err);
      }
    }
  }
  return results;
}
// Closes the state's descriptors under these keys, forgetting each before
// closing it, so a later abort never closes a number twice.
function closeFds(s, ...keys) {
  for (const key of keys) {
    const fd = s[key];
    s[key] = undefined;
    if (fd !== undefined) fs.closeSync(fd);
  }
}
// Vault bytes move with O_DIRECT, reads and writes alike: they go between the
// disk and the lane's region without filling new page-cache pages, which on a
// virtual machine costs more kernel time than the hashing. Once the vault's
// file system refuses O_DIRECT (tmpfs did before Linux 6.6), this thread
// reads and writes through the page cache.
let directRefused = false;
// Vault files are their owner's alone (src/private-files.ts); reads ignore the mode.
const FILE_MODE = ${PRIVATE_FILE_MODE};
// Opens path with flags, plus O_DIRECT when asked and not yet refused.
function openVaultFile(path, flags, direct) {
  if (direct && !directRefused) {
    try {
      return { fd: fs.openSync(path, flags | fs.constants.O_DIRECT, FILE_MODE), direct: true };
    } catch (err) {
      // the file system does not take O_DIRECT
      if (err.code !== 'EINVAL') throw err;
      directRefused = true;
    }
  }
  return { fd: fs.openSync(path, flags, FILE_MODE), direct: false };
}
// Whether err is O_DIRECT refused on a file's first transfer (opened, but not
// at this alignment): the caller then starts that file again without it.
function refusedOnFirstTransfer(err, direct, done) {
  if (!direct || err.code !== 'EINVAL' || done !== 0) return false;
  directRefused = true;
  return true;
}
function openInput(file, direct) {
  const { fd, direct: isDirect } = openVaultFile(file, fs.constants.O_RDONLY, direct);
  return { file, input: fd, direct: isDirect, read: 0 };
}
function readVaultFile(s, offset) {
  try {
    const n = readInput(s, offset);
    s.read += n;
    return n;
  } catch (err) {
    if (!refusedOnFirstTransfer(err, s.direct, s.read)) throw err;
    closeFds(s, 'input');
    Object.assign(s, openInput(s.file, false));
    return readVaultFile(s, offset);
  }
}
function hashFiles(files, direct) {
  return throughLanes(files.length, {
    open: (i) => openInput(files[i], direct),
    read: readVaultFile,
    chunk: () => {},
    close: (s, hex) => (closeFds(s, 'input'), { md5: hex }),
    abort: (s) => closeFds(s, 'input'),
  });
}
// A direct copy writes whole blocks only: the last one is padded with zeros
// and the file cut back to its size.
const BLOCK = 4096;
const NEW_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
function openOutput(dest, direct) {
  const { fd, direct: isDirect } = openVaultFile(dest, NEW_FILE, direct);
  return { out: fd, direct: isDirect };
}
function writeChunk(s, offset, n) {
  if (!s.direct) {
    for (let off = 0; off < n; ) off += fs.writeSync(s.out, mem, offset + off, n - off, s.size + off);
    s.size += n;
    return;
  }
  const len = Math.ceil(n / BLOCK) * BLOCK;
  mem.fill(0, offset + n, offset + len);
  try {
    for (let off = 0; off < len; ) off += fs.writeSync(s.out, mem, offset + off, len - off, s.size + off);
  } catch (err) {
    if (!refusedOnFirstTransfer(err, s.direct, s.size)) throw err;
    closeFds(s, 'out');
    fs.rmSync(s.dest, { force: true });
    Object.assign(s, openOutput(s.dest, false));
    return writeChunk(s, offset, n);
  }
  s.size += n;
}
function copyFiles(items, sync, direct) {
  return throughLanes(items.length, {
    open: (i) => {
      const { src, dest } = items[i];
      const input = fs.openSync(src, 'r');
      try {
        return { input, dest, size: 0, ...openOutput(dest, direct) };
      } catch (err) {
        fs.closeSync(input);
        throw err;
      }
    },
    chunk: writeChunk,
    close: (s, hex) => {
      if (s.direct && s.size % BLOCK !== 0) fs.ftruncateSync(s.out, s.size);
      if (sync) fs.fdatasyncSync(s.out);
      closeFds(s, 'input', 'out');
      return { size: s.size, md5: hex };
    },
    abort: (s) => {
      try {
        closeFds(s, 'input', 'out');
      } finally {
        fs.rmSync(s.dest, { force: true });
      }
    },
  });
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
    msg.op === 'hash' ? hashFiles(msg.files, msg.direct)
    : msg.op === 'head' ? msg.files.map((f) => readHead(f, msg.maxBytes))
    : copyFiles(msg.items, msg.sync, msg.direct);
  parentPort.postMessage({ results });
});
`;

/** Files a worker hashes at once, one per lane of its {@link Md5Lanes}. */
const LANES = 8;
/**
 * Bytes of a file a lane reads per round: a 100 KiB file takes one round,
 * and a worker's regions take 2 MiB in all.
 */
const REGION_BYTES = 256 * 1024;

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
  | { op: 'hash'; files: readonly string[]; direct: boolean }
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

  /**
   * MD5 hex of each file, in input order; `direct` reads with O_DIRECT, past
   * the page cache (where the file system allows). Throws {@link HashError}
   * for the first unreadable file.
   */
  hashFiles(files: readonly string[], direct = false): Promise<string[]> {
    return this.inBatches<{ md5: string }>(files, HASH_BATCH, (batch) => ({ op: 'hash', files: batch, direct }), 'hash', (r) => r.md5);
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
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { spec: MD5_KERNEL, kernel: md5Kernel(LANES), lanes: LANES, regionBytes: REGION_BYTES },
    });
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
