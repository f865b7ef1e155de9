/**
 * How far a running run is: the tasks the engine has applied, and whatever
 * its tasks count as they go (files checked, files moved). Kept in memory
 * while the run lasts and written to the journal at most every
 * `persistEveryMs` and at the end, so a run of a hundred thousand files pays
 * a few journal writes for its progress, not one per file, and holds the
 * same few numbers whatever its size.
 *
 * @module
 */
import type { Journal } from './journal.js';
import type { ProgressCount, RunProgress } from './types.js';

/** Options of {@link RunProgressTracker}. */
export interface ProgressTrackerOptions {
  /** Least time between two progress writes to the journal while the run lasts (default {@link PROGRESS_PERSIST_MS}). */
  persistEveryMs?: number;
  /** Called (synchronously) on every change; must not throw (a throw is ignored). */
  onChange?: (progress: RunProgress) => void;
}

/** Default least time between two journal writes of a run's progress. */
export const PROGRESS_PERSIST_MS = 1000;

/**
 * One run's progress. The runner reports each applied task
 * ({@link taskDone}); the run's tasks report their counts ({@link count})
 * through whatever their context offers. Counts only grow: a report below an
 * earlier one of the same key is ignored, so the record a reader sees never
 * goes back. A run ends with {@link end}, which writes what is not written yet.
 */
export class RunProgressTracker {
  private tasksDone = 0;
  private readonly counts = new Map<string, ProgressCount>();
  /** Something changed that the journal does not have yet. */
  private dirty = false;
  private lastWrite: number;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly persistEveryMs: number;

  constructor(
    readonly runId: string,
    private readonly journal: Pick<Journal, 'progress'>,
    readonly totalTasks: number,
    private readonly opts: ProgressTrackerOptions = {},
  ) {
    this.persistEveryMs = Math.max(0, opts.persistEveryMs ?? PROGRESS_PERSIST_MS);
    // a run shorter than the interval writes no progress: its result says how far it got
    this.lastWrite = performance.now();
  }

  /** `done` tasks of the flow have been applied. */
  taskDone(done: number): void {
    if (done <= this.tasksDone) return;
    this.tasksDone = done;
    this.changed();
  }

  /** `done` of `total` of what `key` counts are done. Cheap: call it as often as convenient. */
  count(key: string, done: number, total: number): void {
    if (this.ended || !Number.isFinite(done) || !Number.isFinite(total)) return;
    const c = this.counts.get(key);
    if (c !== undefined) {
      if (done < c.done || (done === c.done && total === c.total)) return;
      c.done = done;
      c.total = total;
    } else {
      this.counts.set(key, { done, total });
    }
    this.changed();
  }

  /** The progress now (a copy). */
  snapshot(): RunProgress {
    const p: RunProgress = { tasks: { done: this.tasksDone, total: this.totalTasks } };
    if (this.counts.size > 0) {
      p.counts = {};
      for (const [k, c] of this.counts) p.counts[k] = { done: c.done, total: c.total };
    }
    return p;
  }

  /**
   * The run ended: writes the counts the journal does not have yet (tasks
   * done are in the run's result) and stops. Idempotent; a failing write is
   * left to the run's result, which still says how far it got.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty && this.counts.size > 0) this.write();
  }

  private changed(): void {
    if (this.ended) return;
    this.dirty = true;
    const listener = this.opts.onChange;
    if (listener !== undefined) {
      try {
        listener(this.snapshot());
      } catch {
        // an observer cannot change the run
      }
    }
    if (this.timer !== undefined) return;
    const wait = this.lastWrite + this.persistEveryMs - performance.now();
    if (wait <= 0) {
      this.write();
      return;
    }
    // the last change before a quiet spell is written too, once the interval has passed
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.ended && this.dirty) this.write();
    }, wait);
    this.timer.unref();
  }

  private write(): void {
    this.dirty = false;
    this.lastWrite = performance.now();
    try {
      this.journal.progress(this.runId, this.snapshot());
    } catch {
      // progress is a display: a journal that cannot take it now fails the run's own writes, not this one
    }
  }
}

/**
 * The progress a journal shows with a run record: for an ended run, the
 * tasks its result says were applied (or, recovered after a crash, the ones
 * last written) and the counts last written; for a
 * running one, what was last written, with tasks done raised to
 * `tasksSettled` when the caller counted the task records (they are written
 * per task, so they are ahead of the throttled progress).
 */
export function recordedProgress(
  run: { taskCount: number; result?: { completed: number; total: number } },
  written: RunProgress | undefined,
  tasksSettled?: number,
): RunProgress | undefined {
  let tasks: ProgressCount | undefined;
  // a run recovered after a crash applied nothing in its recovery: it keeps the count it had reached
  if (run.result !== undefined) tasks = { done: Math.max(run.result.completed, written?.tasks.done ?? 0), total: run.result.total };
  else if (written !== undefined || tasksSettled !== undefined) {
    tasks = { done: Math.max(written?.tasks.done ?? 0, tasksSettled ?? 0), total: run.taskCount };
  }
  if (tasks === undefined) return undefined;
  return written?.counts !== undefined ? { tasks, counts: written.counts } : { tasks };
}
