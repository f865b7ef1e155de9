/**
 * What the hash pool (hash-pool.ts) and its worker threads (hash-worker.ts)
 * say to each other: the worker's start-up data, the jobs, and their results.
 *
 * @module
 */
import type { WasmModule } from './md5-lanes.js';

/** A local file to copy into the vault, at a path that must not exist yet. */
export interface CopyItem {
  src: string;
  dest: string;
}

/** How the pool's `copyFiles` writes: synced to disk, and past the page cache (O_DIRECT). */
export interface CopyMode {
  sync: boolean;
  direct: boolean;
}

/** A file a worker could not handle: the OS error's message and code. */
export interface WorkerFailure {
  error: string;
  code?: string;
}

/** Outcome of hashing one file: its MD5, or the error. */
export type HashResult = { md5: string } | WorkerFailure;
/** Outcome of reading one file's head: its text, or the error. */
export type HeadResult = { text: string } | WorkerFailure;
/** Outcome of copying one file: its size and MD5, or the error. */
export type CopyResult = { md5: string; size: number } | WorkerFailure;

/** A job for a worker: one batch of files. */
export type HashJob =
  | { op: 'hash'; files: readonly string[]; direct: boolean }
  | { op: 'head'; files: readonly string[]; maxBytes: number }
  | ({ op: 'copy'; items: readonly CopyItem[] } & CopyMode);

/**
 * What the pool posts to a worker: a job to start, or one it paused to
 * resume. `id` names the job in both, and in the reply.
 */
export type WorkerRequest = { op: 'start'; id: number; job: HashJob } | { op: 'resume'; id: number };

/**
 * A worker's answer to a start or resume: the job's results, one per file in
 * its order; or `paused`: the worker set it aside, keeping its open files and
 * half-hashed lanes, until the pool asks this worker to resume it.
 */
export type HashReply = { id: number; results: Array<HashResult | HeadResult | CopyResult> } | { id: number; paused: true };

/** A worker's `workerData`. */
export interface HashWorkerData {
  /**
   * The MD5 kernel, compiled once by the pool's thread (emitting it takes
   * tens of milliseconds, which each new worker would pay); undefined means
   * no WebAssembly SIMD: each lane hashes alone.
   */
  kernel: WasmModule | undefined;
  /** Files hashed at once, one per lane. */
  lanes: number;
  /** Bytes of a file a lane reads per round. */
  regionBytes: number;
  /**
   * One flag per worker of the pool, set while other work waits for this
   * worker (`Atomics`): the worker then pauses its job at the next point it
   * can, once the job has run `sliceMs` since it was started or resumed.
   */
  waiting: Int32Array;
  /** This worker's flag in {@link waiting}. */
  slot: number;
  /** Milliseconds a job runs at least before it pauses for others. */
  sliceMs: number;
}

/** Whether a worker's result is a failure. */
export function isFailure(r: unknown): r is WorkerFailure {
  return typeof r === 'object' && r !== null && 'error' in r;
}
