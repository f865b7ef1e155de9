/**
 * The journal: what the engine remembers of a run, so a crashed run can be
 * reverted from it alone. Methods are synchronous: the engine calls them on
 * every task, and both implementations (memory, SQLite via better-sqlite3)
 * are synchronous, which keeps the per-task cost to a few microseconds.
 *
 * @module
 */
import type { Json, JournalRun, JournalRunStart, JournalRunSummary, ListRunsQuery, RunPage, RunProgress, RunResult } from './types.js';

/**
 * Records runs. Write methods must be durable against a process crash when
 * they return (SQLite: committed, in the OS cache), or, for a journal with
 * {@link Journal.committed}, once the promise it returns after them
 * resolves (`start`, a `doneThenIntent` with an undo value, `finish` and the
 * records the caller answers on once durable: the runs writing at the same
 * moment share one commit), except the records
 * recovery can do without, which may wait for the next durable write: a
 * `doneThenIntent` whose next task has nothing to undo, `progress` and
 * `reverted`. A lost one only makes recovery revert a task whose apply had
 * finished (as it does one left at `intent`), not call the revert of a task
 * with nothing to undo (it never does), show older progress, repeat an
 * (idempotent) revert, or report a run's outcome once more (`reported`). `done` (the runner's record of the last task it
 * applied) is durable: a run with every task done is rolled forward; with {@link Journal.committed} it may share the
 * commit of the run's `finish` (the runner waits for it first when a listener or hook sees the task done). Every intent with an undo value is durable before the
 * task's apply starts. `finish` includes every grouped record; it becomes durable against power loss once a {@link whenDurable}
 * called after it resolves (the runner awaits that before a run's result is
 * returned), so concurrent runs share one fsync instead of one each.
 */
export interface Journal {
  /**
   * Records a new run (status `running`) and its planned tasks (state
   * `pending`). Throws DuplicateRunError. A journal that also keeps accepted
   * runs (`RunQueueStore`) takes the run's accepted record out in the same
   * commit, and throws RunCancelledError (recording nothing) when that record
   * was cancelled.
   */
  start(run: JournalRunStart): void;
  /** Task `index` is about to be applied; `undo` (from its prepare) undefined means nothing to undo. Throws when `undo` is not JSON. */
  intent(runId: string, index: number, undo: Json | undefined): void;
  /** Task `index` was applied. */
  done(runId: string, index: number, durationMs: number): void;
  /** `done` for task `index` and `intent` for task `index + 1` with `nextUndo`, atomically: one commit per task. */
  doneThenIntent(runId: string, index: number, durationMs: number, nextUndo: Json | undefined): void;
  /**
   * Task `index`'s prepare or apply threw. An undo recorded with its intent is
   * kept (the apply may have done part), unless `nothingApplied`: the apply
   * refused before any change, so the undo goes and nothing reverts the task.
   */
  failed(runId: string, index: number, error: string, durationMs: number, nothingApplied?: boolean): void;
  /** Task `index` was reverted (or needed no revert). `durationMs`: time its revert took. May be grouped (see above). */
  reverted(runId: string, index: number, durationMs: number): void;
  /** Task `index`'s revert threw. */
  revertFailed(runId: string, index: number, error: string, durationMs: number): void;
  /**
   * How far the running run is (see `RunProgressTracker`): shown with its
   * record; a display only, recovery never reads it. Crash-durable like the others.
   */
  progress(runId: string, progress: RunProgress): void;
  /** The run's final state; afterwards it is no longer unfinished. Crash-durable; see {@link whenDurable}. */
  finish(runId: string, result: RunResult): void;
  /**
   * Resolves once every record written so far is crash-durable; undefined
   * when they already are (absent: every write is durable when it returns).
   * The runner waits for it after a run's start and after each intent with
   * an undo value, before the task's apply. Rejects when the commit failed:
   * the records written since the last commit are lost.
   */
  committed?(): Promise<void> | undefined;
  /**
   * Resolves once every record written before the call survives power loss
   * (SQLite: an fsync off the event loop, shared by all callers that arrive
   * before it starts). Rejects when the sync fails.
   */
  whenDurable(): Promise<void>;

  /** A run with all its tasks, or undefined. */
  getRun(runId: string): JournalRun | undefined;
  /** A run without its tasks (cheap to ask often, e.g. to follow its progress), or undefined. */
  getRunSummary(runId: string): JournalRunSummary | undefined;
  /** Runs matching the filter, newest first, one page. */
  listRuns(query: ListRunsQuery): RunPage;
  /** Ids of runs still `running` (or never finished: crashed), oldest first. */
  unfinishedRuns(): string[];
  /**
   * The run's outcome reached whom it was owed to (started with `reportDue`),
   * or reporting it was given up: it leaves {@link unreportedRuns}. May be
   * grouped (see above): a mark lost in a crash only means the outcome is
   * reported once more. Nothing for a run that owed no report or is unknown.
   */
  reported(runId: string): void;
  /**
   * The finished runs started with `reportDue` and not yet {@link reported},
   * oldest first, without their tasks (with meta and result: what the report
   * needs). Small: only runs whose report is in flight or was lost in a crash.
   */
  unreportedRuns(): JournalRunSummary[];
  /**
   * The runs with label `label` still `running` (or never finished), oldest
   * first, without their tasks. Cheap enough to ask on every submit: the
   * service asks it, under a project's lock, for runs of that project (label)
   * left by a process that is gone.
   */
  unfinishedRunsLabelled(label: string): JournalRunSummary[];
  /**
   * The latest run with label `label` that ended `revert_failed` and was not
   * rolled back since, if any. Cheap enough to ask on every submit and
   * again under the project's lock; reads the status as committed, whoever
   * committed it (another process on the same journal too).
   */
  revertFailedRunLabelled(label: string): string | undefined;
  /** Releases resources (the SQLite handle). */
  close(): void;
}
