/**
 * Fences: a caller that made a change of its own before submitting a run
 * (the site, under its timeline event) and never learnt whether the submit
 * arrived asks the journal, for the run's key, either for the runs carrying
 * that key or for a fence, atomically: once a key is fenced, no run carrying
 * it is ever recorded (started, or accepted to run later), so the caller may
 * take its change back knowing the run never happens.
 *
 * Fences are kept for good: one is a key and a time, written only for a
 * change whose submit was lost (a crash, a refusal before the journal), and
 * no age is safe to drop one at, as a submit held up in the network or a
 * proxy has no deadline the journal could know.
 *
 * @module
 */
import type { JournalRunStatus } from './types.js';

/**
 * A run carrying a fenced-for key: recorded (its journal status), accepted
 * and waiting in line (`waiting`), or accepted and cancelled before it
 * started (`cancelled`).
 */
export interface KeyedRun {
  runId: string;
  status: JournalRunStatus | 'waiting' | 'cancelled';
}

/** What {@link RunFences.fence} found or did. */
export type FenceOutcome =
  /** No run carries the key, now or ever after: the fence stands (recorded now or before; ISO 8601). */
  | { fenced: true; fencedAt: string }
  /** Runs carry the key (oldest first): nothing was fenced. */
  | { fenced: false; runs: KeyedRun[] };

/** Fencing run keys (see the module's doc). */
export interface RunFences {
  /**
   * In one transaction: the runs carrying `key` (recorded, or accepted and
   * not started), or else a fence for it. Idempotent: a fenced key stays
   * fenced. Crash-durable when it returns; power-loss durable once the
   * journal's `whenDurable` called after it resolves.
   */
  fence(key: string): FenceOutcome;
  /** When `key` was fenced (ISO 8601), or undefined: a read, for refusing early what the journal would refuse anyway. */
  fencedAt(key: string): string | undefined;
}
