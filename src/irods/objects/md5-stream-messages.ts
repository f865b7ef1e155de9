/**
 * What the MD5 streams (md5-streams.ts) and their worker thread
 * (md5-stream-worker.ts) say to each other.
 *
 * @module
 */
import type { SharedWasmMemory } from './transfer-slots.js';

/** The worker's `workerData`: the shared memory whose ranges it hashes. */
export interface Md5WorkerData {
  memory: SharedWasmMemory;
}

/** A request: hash a range of the shared memory into a stream, finish a stream, or forget one. */
export type Md5Request =
  | { op: 'update'; seq: number; stream: number; offset: number; length: number }
  | { op: 'digest'; seq: number; stream: number }
  | { op: 'drop'; stream: number };

/** The answer to an `update` (no `md5`) or a `digest` (the MD5 hex of all the stream's updates). */
export interface Md5Reply {
  seq: number;
  md5?: string;
}
