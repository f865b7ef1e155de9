/**
 * The accepted async runs that have not started yet, kept beside the run
 * journal so that an accepted run survives a crash before it starts. Rows are
 * written (many submits in one transaction, then the journal's group fsync)
 * before the service answers `True`. A row leaves in the same commit as its
 * run's start record (`Journal.start`), so a row always means "accepted, not
 * started": a run is never started twice, and no commit of its own is spent
 * on forgetting it. A row can be marked cancelled until then; the journal
 * refuses to start a cancelled run, whichever process owns it.
 *
 * @module
 */
import type { RunFencedError } from './errors.js';
import type { Json } from './types.js';

/** One accepted run. */
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
  /** When it was cancelled (ISO 8601); such a run never starts and waits only for its owner to skip it. */
  cancelledAt?: string;
  /** The key a fence refuses it by and finds it by (see `JournalRunStart.fenceKey`). */
  fenceKey?: string;
}

/** What the service records when it accepts a run. */
export type NewQueuedRun = Omit<QueuedRun, 'seq' | 'acceptedAt' | 'cancelledAt'>;

/** Storage of {@link QueuedRun}s; writes are crash-durable when they return, power-loss durable after `whenDurable`. */
export interface RunQueueStore {
  /**
   * Records accepted runs in one transaction (a group commit), in order;
   * returns them as recorded. A run whose fence key is fenced (see
   * fences.ts) is not recorded: its place holds the RunFencedError, the
   * others are recorded as usual.
   */
  enqueueRuns(runs: readonly NewQueuedRun[]): Array<QueuedRun | RunFencedError>;
  /** Forgets a run that will not start (ended before its start, cancelled, or unknown). True when it was there. */
  dequeueRun(runId: string): boolean;
  /** One accepted run, cancelled or not. */
  queuedRun(runId: string): QueuedRun | undefined;
  /** The accepted runs, cancelled ones included, oldest first, optionally of one owner or project. */
  queuedRuns(filter?: { owner?: string; projectUuid?: string }): QueuedRun[];
  /** The owners that have accepted runs recorded. */
  queuedOwners(): string[];
  /** Gives run `runId` to owner `owner`. */
  setQueuedOwner(runId: string, owner: string): void;
  /**
   * Marks an accepted run cancelled, unless it started or was cancelled
   * already: atomic against its start, so exactly one of the two wins.
   * True when this call cancelled it.
   */
  cancelQueuedRun(runId: string): boolean;
}
