/**
 * The accepted async runs that have not ended yet, kept beside the run
 * journal so that an accepted run survives a crash before it starts. A row
 * is written (and synced with the journal's group fsync) before the service
 * answers `True`, and removed once the run has ended and been reported.
 * Whether a row's run has started is told by the run journal (same run id),
 * so a run is never started twice.
 *
 * @module
 */
import type { Json } from './types.js';

/** One accepted async run. */
export interface QueuedRun {
  /** Submit order across the whole journal. */
  seq: number;
  runId: string;
  projectUuid: string;
  /** Owner id of the service process that will run it (see `OwnerLeases`). */
  owner: string;
  /** The submit, as the service needs it to run it later. */
  input: Json;
  /** When it was accepted (ISO 8601). */
  acceptedAt: string;
}

/** Storage of {@link QueuedRun}s; writes are crash-durable when they return, power-loss durable after `whenDurable`. */
export interface RunQueueStore {
  /** Records an accepted run; returns its seq. */
  enqueueRun(run: Omit<QueuedRun, 'seq' | 'acceptedAt'>): number;
  /** Forgets a run (ended and reported, or cancelled). True when it was there. */
  dequeueRun(runId: string): boolean;
  /** The accepted runs, oldest first, optionally of one owner or project. */
  queuedRuns(filter?: { owner?: string; projectUuid?: string }): QueuedRun[];
  /** The owners that have accepted runs recorded. */
  queuedOwners(): string[];
  /** Gives run `runId` to owner `owner`. */
  setQueuedOwner(runId: string, owner: string): void;
}
