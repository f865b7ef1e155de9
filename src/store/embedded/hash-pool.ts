/**
 * A pool of worker threads that do the byte-heavy work of the vault off the
 * main thread: hashing files (checksum verification) and copying local files
 * into the vault while hashing them (folder puts). Files go to workers in
 * batches, not one message per file, and results come back in input order.
 * Workers live as long as the pool, unref'd when idle so a pool never keeps
 * the process alive.
 *
 * Calls take turns (hash-turns.ts): while another call's work waits for a
 * worker, the job running there pauses after a slice ({@link SLICE_MS}) and
 * queues again behind it. A close that hashes a few MiB thus waits a slice,
 * not for the hours an object extended to terabytes takes to hash.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { workerModule } from '../../worker-module.js';
import { isFailure, type CopyItem, type CopyMode, type CopyResult, type HashJob, type HashReply, type HashWorkerData, type WorkerFailure, type WorkerRequest } from './hash-messages.js';
import { Task, Turns, type Unit } from './hash-turns.js';
import { md5Kernel } from './md5-lanes.js';

export type { CopyItem, CopyMode, CopyResult } from './hash-messages.js';

/** The workers' code (see src/worker-module.ts for how tests run it). */
const WORKER = workerModule(new URL('./hash-worker.js', import.meta.url), import.meta.url);

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

/**
 * Milliseconds a job runs at least, each time it is started or resumed,
 * before it pauses for work waiting behind it: long enough that the pause
 * (a message to the pool and back) costs well under 1% of it.
 */
export const SLICE_MS = 20;

/** One message's work and who waits for its results. */
interface Job extends Unit<Worker> {
  readonly id: number;
  readonly msg: HashJob;
  /** Posted to a worker once: later turns resume it there. */
  started: boolean;
  resolve(results: unknown[]): void;
  reject(err: Error): void;
}

/** Files hashed per message: large enough to amortise messaging, small enough to balance. */
const HASH_BATCH = 32;
/** Small files read per message: a read costs microseconds, so many per message. */
const HEAD_BATCH = 512;
/** Largest head {@link HashPool.readHeads} reads: what fits in a worker's buffer. */
export const MAX_HEAD_BYTES = 1 << 20;

/** Options for {@link HashPool}. */
export interface HashPoolOptions {
  /**
   * False: the workers hash each lane alone with Node's MD5, as they do where
   * WebAssembly SIMD does not compile (so tests can drive that fallback).
   * Default true: the SIMD kernel where it compiles.
   */
  simd?: boolean;
  /** {@link SLICE_MS} (tests set 0: a job pauses at every chance while others wait). */
  sliceMs?: number;
}

/** MD5 hashing and hashing copies over a fixed set of worker threads. */
export class HashPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly turns = new Turns<Worker, Job>();
  private readonly running = new Map<Worker, Job>();
  /** Each worker's index into {@link waiting}. */
  private readonly slots = new Map<Worker, number>();
  /** Per worker slot: 1 while work that worker could take waits (see {@link HashWorkerData.waiting}). */
  private readonly waiting: Int32Array;
  private nextId = 1;
  private closed = false;
  #pauses = 0;

  private readonly simd: boolean;
  private readonly sliceMs: number;

  /** @param size - most worker threads, started as jobs come */
  constructor(
    readonly size: number,
    opts: HashPoolOptions = {},
  ) {
    this.simd = opts.simd ?? true;
    this.sliceMs = opts.sliceMs ?? SLICE_MS;
    this.waiting = new Int32Array(new SharedArrayBuffer(4 * size));
  }

  /** Times a job paused so that work of another call could run (for tests and diagnostics). */
  get pauses(): number {
    return this.#pauses;
  }

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
    message: (batch: readonly string[]) => HashJob,
    verb: string,
    value: (result: T) => string,
  ): Promise<string[]> {
    const task = new Task<Worker>();
    const batches: Promise<Array<T | WorkerFailure>>[] = [];
    for (let i = 0; i < files.length; i += size) {
      batches.push(this.submit(task, message(files.slice(i, i + size))) as Promise<Array<T | WorkerFailure>>);
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
    return this.submit(new Task<Worker>(), { op: 'copy', items, ...mode }) as Promise<CopyResult[]>;
  }

  /** Stops every worker; the calls still running or waiting reject. */
  async close(): Promise<void> {
    this.closed = true;
    const closed = new Error('hash pool closed');
    for (const job of [...this.turns.clear(), ...this.running.values()]) job.reject(closed);
    this.running.clear();
    await Promise.all(this.all.map((w) => w.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }

  private submit(task: Task<Worker>, msg: HashJob): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise((resolve, reject) => {
      this.turns.add({ id: this.nextId++, task, worker: undefined, msg, started: false, resolve, reject });
      this.pump();
    });
  }

  /** Hands each idle worker its next turn, starts workers for fresh work, and flags the workers others wait for. */
  private pump(): void {
    // the most recently idle first: its memory is the warmest
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const worker = this.idle[i]!;
      const job = this.turns.take(worker);
      if (!job) continue;
      this.idle.splice(i, 1);
      this.run(worker, job);
    }
    while (this.turns.hasFresh && this.all.length < this.size) {
      const worker = this.spawn();
      this.run(worker, this.turns.take(worker)!);
    }
    for (const [worker, job] of this.running) {
      Atomics.store(this.waiting, this.slots.get(worker)!, this.turns.othersWaitFor(worker, job.task) ? 1 : 0);
    }
  }

  private run(worker: Worker, job: Job): void {
    this.running.set(worker, job);
    worker.ref();
    const req: WorkerRequest = job.started ? { op: 'resume', id: job.id } : { op: 'start', id: job.id, job: job.msg };
    job.started = true;
    worker.postMessage(req);
  }

  private spawn(): Worker {
    const used = new Set(this.slots.values());
    let slot = 0;
    while (used.has(slot)) slot++;
    const workerData: HashWorkerData = {
      kernel: this.simd ? md5Kernel(LANES) : undefined,
      lanes: LANES,
      regionBytes: REGION_BYTES,
      waiting: this.waiting,
      slot,
      sliceMs: this.sliceMs,
    };
    const worker = new Worker(WORKER, { workerData });
    this.all.push(worker);
    this.slots.set(worker, slot);
    worker.on('message', (reply: HashReply) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      Atomics.store(this.waiting, slot, 0);
      worker.unref();
      this.idle.push(worker);
      if (job) {
        if ('paused' in reply) {
          this.#pauses++;
          this.turns.pause(job, worker);
        }
        else job.resolve(reply.results);
      }
      this.pump();
    });
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(worker, new Error(`hash worker exited with code ${code}`));
    });
    return worker;
  }

  // A dead worker fails its job and those paused in it; it is replaced on demand.
  private fail(worker: Worker, err: Error): void {
    const job = this.running.get(worker);
    this.running.delete(worker);
    const i = this.all.indexOf(worker);
    if (i >= 0) this.all.splice(i, 1);
    const j = this.idle.indexOf(worker);
    if (j >= 0) this.idle.splice(j, 1);
    const slot = this.slots.get(worker);
    this.slots.delete(worker);
    if (slot !== undefined) Atomics.store(this.waiting, slot, 0);
    job?.reject(err);
    for (const paused of this.turns.takePausedIn(worker)) paused.reject(err);
    this.pump();
  }
}
