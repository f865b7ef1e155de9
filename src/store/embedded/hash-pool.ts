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
import { workerModule } from '../../worker-module.js';
import { isFailure, type CopyItem, type CopyMode, type CopyResult, type HashJob, type HashReply, type HashWorkerData, type WorkerFailure } from './hash-messages.js';
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

interface Job {
  msg: HashJob;
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
}

/** MD5 hashing and hashing copies over a fixed set of worker threads. */
export class HashPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private closed = false;

  private readonly simd: boolean;

  /** @param size - most worker threads, started as jobs come */
  constructor(
    readonly size: number,
    opts: HashPoolOptions = {},
  ) {
    this.simd = opts.simd ?? true;
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

  private submit(msg: HashJob): Promise<unknown[]> {
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
    const workerData: HashWorkerData = {
      kernel: this.simd ? md5Kernel(LANES) : undefined,
      lanes: LANES,
      regionBytes: REGION_BYTES,
    };
    const worker = new Worker(WORKER, { workerData });
    this.all.push(worker);
    worker.on('message', (msg: HashReply) => {
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
