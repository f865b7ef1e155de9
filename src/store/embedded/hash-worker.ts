/**
 * A hash pool worker thread (see hash-pool.ts): hashes vault files, copies
 * local files into the vault while hashing them, and reads the heads of
 * small files, a batch per message, answering with one result per file in
 * the batch's order.
 *
 * Plain synchronous I/O is the fastest way to move bytes in a thread of its
 * own. Files go through the MD5 lanes: each round, every busy lane reads its
 * file's next chunk into its region, all lanes hash at once, then a copy
 * writes each chunk out; a lane whose file ends takes the next file.
 *
 * A job pauses between two rounds when the pool flags that other work waits
 * for this thread and the job has had its slice (hash-pool.ts): the job is
 * a generator, kept here with its open files and its lanes' states until
 * the pool resumes it.
 *
 * Every descriptor is closed by the thread that opened it: a descriptor
 * handed to another thread is counted by Node's per-thread fd tracking as
 * opened in one place and closed in another, which prints a warning per file
 * (and could close a reused number).
 *
 * @module
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PRIVATE_FILE_MODE } from '../../private-files.js';
import type { CopyItem, CopyResult, HashJob, HashReply, HashResult, HashWorkerData, HeadResult, WorkerFailure, WorkerRequest } from './hash-messages.js';
import { MD5_KERNEL } from './md5-kernel.js';
import { md5LanesRuntime, scalarMd5, type Md5Lanes } from './md5-lanes.js';

if (!parentPort) throw new Error('hash-worker.ts runs as a worker thread of a HashPool');
const port = parentPort;
const data = workerData as HashWorkerData;

const Lanes = md5LanesRuntime(MD5_KERNEL, () => data.kernel, scalarMd5).Md5Lanes;
const ScalarLanes = md5LanesRuntime(MD5_KERNEL, () => undefined, scalarMd5).Md5Lanes;
const REGION = data.regionBytes;
const LANES_AT = { lanes: data.lanes, regionBytes: REGION };
// A job of one file (a close's hash, a single copy) hashes it with Node's
// MD5: the kernel runs all its lanes in every round, busy or not, so one lane
// alone hashed 181 MB/s here against Node's 600, and a 1 GiB file took 2.5 to
// 3.0 CPU seconds instead of 1.6.
const SOLO_AT = { lanes: 1, regionBytes: REGION, offset: Lanes.bytesNeeded(LANES_AT) };
// One memory holds both layouts. WebAssembly memory is page-aligned, and so
// is every region in it: a copy can write a region with O_DIRECT.
const memory = Lanes.memoryFor(SOLO_AT);
const many: Md5Lanes = new Lanes(memory, LANES_AT);
const solo: Md5Lanes = new ScalarLanes(memory, SOLO_AT);
const mem = Buffer.from(memory.buffer);
const buf = Buffer.allocUnsafe(1 << 20);

/** When the running job started or was resumed (performance.now()). */
let sliceStart = 0;

/** Whether the running job should pause now: others wait for this thread, and it had its slice. */
function othersWait(): boolean {
  return Atomics.load(data.waiting, data.slot) !== 0 && performance.now() - sliceStart >= data.sliceMs;
}

/** A job as this thread runs it: each `next()` runs until it pauses (yields) or ends with its results. */
type Run = Generator<void, Extract<HashReply, { results: unknown }>['results']>;

/** An error as Node's fs throws it. */
type FsError = Error & { code?: string };

function fail(err: unknown): WorkerFailure {
  const e = err as Partial<FsError> | null | undefined;
  return { error: String(e?.message ?? err), code: e?.code };
}

/** An open input: what {@link readInput} reads from. */
interface Input {
  input: number | undefined;
}

// Fills a lane's region from the state's input: less than a region only at the end of the file.
function readInput(s: Input, offset: number): number {
  let n = 0;
  for (let got = -1; got !== 0 && n < REGION; n += got) got = fs.readSync(s.input!, mem, offset + n, REGION - n, null);
  return n;
}

/** How {@link throughLanes} handles items of state S, with R their result. */
interface LaneJob<S extends Input, R> {
  /** Opens item i's input (and output) and returns its state. */
  open(index: number): S;
  /** Reads the state's next chunk into memory at offset (default {@link readInput}). */
  read?(state: S, offset: number): number;
  /** Takes each hashed chunk. */
  chunk(state: S, offset: number, bytes: number): void;
  /** Finishes an item and returns its result. */
  close(state: S, md5: string): R;
  /** Cleans up after a failure. */
  abort(state: S): void;
}

// Runs count items through the lanes; a failed item's result is its error.
// Pauses between rounds while others wait, setting its lanes' messages aside
// (another job uses the lanes meanwhile).
function* throughLanes<S extends Input, R>(count: number, job: LaneJob<S, R>): Generator<void, Array<R | WorkerFailure>> {
  const md5 = count === 1 ? solo : many;
  const LANES = md5.lanes;
  const results = new Array<R | WorkerFailure>(count);
  const busy = new Array<{ index: number; state: S } | null>(LANES).fill(null);
  const bytes = new Array<number>(LANES).fill(0);
  const final = new Array<boolean>(LANES).fill(false);
  const read = job.read ?? readInput;
  let next = 0;
  const failed = (l: number, err: unknown) => {
    const lane = busy[l]!;
    try {
      job.abort(lane.state);
    } catch {
      // the item's failure is what its result reports
    }
    results[lane.index] = fail(err);
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
      const lane = busy[l];
      if (lane === null) continue;
      try {
        bytes[l] = read(lane.state, md5.regionOffset(l));
        final[l] = bytes[l] < REGION;
      } catch (err) {
        bytes[l] = 0;
        failed(l, err);
      }
    }
    md5.update(bytes, final);
    for (let l = 0; l < LANES; l++) {
      const lane = busy[l];
      if (lane === null) continue;
      try {
        job.chunk(lane.state, md5.regionOffset(l), bytes[l]);
        if (!final[l]) continue;
        results[lane.index] = job.close(lane.state, md5.digest(l));
        busy[l] = null;
      } catch (err) {
        failed(l, err);
      }
    }
    if (othersWait()) {
      const aside = busy.map((lane, l) => lane && md5.save(l));
      yield;
      aside.forEach((saved, l) => saved && md5.restore(l, saved));
    }
  }
  return results;
}

// Closes the state's descriptors under these keys, forgetting each before
// closing it, so a later abort never closes a number twice.
function closeFds<S extends object>(s: S, ...keys: Array<keyof S & string>): void {
  const fds = s as Record<string, number | undefined>;
  for (const key of keys) {
    const fd = fds[key];
    fds[key] = undefined;
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// Vault bytes move with O_DIRECT, reads and writes alike: they go between the
// disk and the lane's region without filling new page-cache pages, which on a
// virtual machine costs more kernel time than the hashing. Once the vault's
// file system refuses O_DIRECT (tmpfs did before Linux 6.6), this thread
// reads and writes through the page cache.
let directRefused = false;

// Opens path with flags, plus O_DIRECT when asked and not yet refused.
// Vault files are their owner's alone (src/private-files.ts); reads ignore the mode.
function openVaultFile(path: string, flags: number, direct: boolean): { fd: number; direct: boolean } {
  if (direct && !directRefused) {
    try {
      return { fd: fs.openSync(path, flags | fs.constants.O_DIRECT, PRIVATE_FILE_MODE), direct: true };
    } catch (err) {
      // the file system does not take O_DIRECT
      if ((err as FsError).code !== 'EINVAL') throw err;
      directRefused = true;
    }
  }
  return { fd: fs.openSync(path, flags, PRIVATE_FILE_MODE), direct: false };
}

// Whether err is O_DIRECT refused on a file's first transfer (opened, but not
// at this alignment): the caller then starts that file again without it.
function refusedOnFirstTransfer(err: unknown, direct: boolean, done: number): boolean {
  if (!direct || (err as FsError).code !== 'EINVAL' || done !== 0) return false;
  directRefused = true;
  return true;
}

/** A vault file being hashed. */
interface HashState extends Input {
  file: string;
  direct: boolean;
  /** Bytes read so far. */
  read: number;
}

function openInput(file: string, direct: boolean): HashState {
  const { fd, direct: isDirect } = openVaultFile(file, fs.constants.O_RDONLY, direct);
  return { file, input: fd, direct: isDirect, read: 0 };
}

function readVaultFile(s: HashState, offset: number): number {
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

function hashFiles(files: readonly string[], direct: boolean): Generator<void, HashResult[]> {
  return throughLanes<HashState, HashResult>(files.length, {
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

/** A local file being copied into the vault. */
interface CopyState extends Input {
  dest: string;
  out: number | undefined;
  direct: boolean;
  /** Bytes written so far. */
  size: number;
}

function openOutput(dest: string, direct: boolean): Pick<CopyState, 'out' | 'direct'> {
  const { fd, direct: isDirect } = openVaultFile(dest, NEW_FILE, direct);
  return { out: fd, direct: isDirect };
}

function writeAll(s: CopyState, offset: number, len: number): void {
  for (let off = 0; off < len; ) off += fs.writeSync(s.out!, mem, offset + off, len - off, s.size + off);
}

function writeChunk(s: CopyState, offset: number, n: number): void {
  if (!s.direct) {
    writeAll(s, offset, n);
    s.size += n;
    return;
  }
  const len = Math.ceil(n / BLOCK) * BLOCK;
  mem.fill(0, offset + n, offset + len);
  try {
    writeAll(s, offset, len);
  } catch (err) {
    if (!refusedOnFirstTransfer(err, s.direct, s.size)) throw err;
    closeFds(s, 'out');
    fs.rmSync(s.dest, { force: true });
    Object.assign(s, openOutput(s.dest, false));
    return writeChunk(s, offset, n);
  }
  s.size += n;
}

function copyFiles(items: readonly CopyItem[], sync: boolean, direct: boolean): Generator<void, CopyResult[]> {
  return throughLanes<CopyState, CopyResult>(items.length, {
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
      if (s.direct && s.size % BLOCK !== 0) fs.ftruncateSync(s.out!, s.size);
      if (sync) fs.fdatasyncSync(s.out!);
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

function readHead(file: string, maxBytes: number): HeadResult {
  let fd: number | undefined;
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

function* readHeads(files: readonly string[], maxBytes: number): Generator<void, HeadResult[]> {
  const out: HeadResult[] = [];
  for (const f of files) {
    out.push(readHead(f, maxBytes));
    if (othersWait()) yield;
  }
  return out;
}

function start(job: HashJob): Run {
  switch (job.op) {
    case 'hash':
      return hashFiles(job.files, job.direct);
    case 'head':
      return readHeads(job.files, job.maxBytes);
    case 'copy':
      return copyFiles(job.items, job.sync, job.direct);
  }
}

/** Jobs paused for others, by id, until the pool resumes them here. */
const paused = new Map<number, Run>();

port.on('message', (req: WorkerRequest) => {
  const run = req.op === 'start' ? start(req.job) : paused.get(req.id)!;
  paused.delete(req.id);
  sliceStart = performance.now();
  const step = run.next();
  if (step.done) return port.postMessage({ id: req.id, results: step.value } satisfies HashReply);
  paused.set(req.id, run);
  port.postMessage({ id: req.id, paused: true } satisfies HashReply);
});
