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

/** A worker's answer to a job: one result per file, in the job's order. */
export interface HashReply {
  results: Array<HashResult | HeadResult | CopyResult>;
}

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
}

/** Whether a worker's result is a failure. */
export function isFailure(r: unknown): r is WorkerFailure {
  return typeof r === 'object' && r !== null && 'error' in r;
}
