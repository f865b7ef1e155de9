/**
 * The engine's public types: tasks, flows, journals and run results.
 * The engine depends on nothing else in the project: a task's context type
 * `C` is whatever the caller passes (the service passes store + site client).
 *
 * @module
 */

/** Plain JSON: what task args and undo values must be. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The serialisable description of a task: enough to rebuild it from a journal. */
export interface TaskSpec<A extends Json = Json> {
  /** Registry key of the task's definition, e.g. `store.createCollection`. */
  kind: string;
  /** Human-readable name shown in logs and run records. */
  name: string;
  /** `irods` (data store) or `sodar` (host site callbacks). */
  target: string;
  /** Plain JSON input of the task. */
  args: A;
}

/**
 * What a revert may return when it could not restore everything: `note` says
 * what stays changed and why (e.g. the site did not report a field's old
 * value). The run still counts as rolled back; the note is kept in its result.
 */
export interface RevertNote {
  note: string;
}

/** What a revert returns: nothing, or a {@link RevertNote}. */
export type RevertOutcome = void | RevertNote;

/**
 * What a task kind does and how it is undone, in three steps:
 *
 * - `prepare` reads the world (changes nothing) and decides everything the
 *   change and its undo depend on, e.g. the previous access level or the
 *   trash path: it returns the undo value (`undefined`: the task will change
 *   nothing that needs undoing, so its revert is never called).
 * - The engine journals that value with the task's intent, then calls
 *   `apply` with it.
 * - `revert` gets the same value, whether the run failed later, `apply`
 *   itself threw part-way, or the process ended anywhere in between and
 *   recovery rebuilds the task from the journal. So it checks the world
 *   before it undoes ("maybe half applied") and is idempotent.
 */
export interface TaskDefinition<C, A extends Json = Json, U extends Json = Json> {
  kind: string;
  prepare(ctx: C, args: A): Promise<U | undefined> | U | undefined;
  apply(ctx: C, args: A, undo: U | undefined): Promise<void> | void;
  revert(ctx: C, args: A, undo: U): Promise<RevertOutcome> | RevertOutcome;
}

/** A runnable task: its spec plus bound prepare, apply and revert. */
export interface Task<C = unknown, A extends Json = Json, U extends Json = Json> extends TaskSpec<A> {
  prepare(ctx: C): Promise<U | undefined> | U | undefined;
  apply(ctx: C, undo: U | undefined): Promise<void> | void;
  revert(ctx: C, undo: U): Promise<RevertOutcome> | RevertOutcome;
}

/** Final states of a run. */
export type RunStatus = 'completed' | 'rolled_back' | 'revert_failed';

/** A run's state in the journal, including the unfinished `running`. */
export type JournalRunStatus = 'running' | RunStatus;

/** State of one task in the journal. */
export type JournalTaskState = 'intent' | 'done' | 'reverted' | 'revert_failed';

/** One failed revert. */
export interface RevertFailure {
  index: number;
  name: string;
  error: string;
}

/** One revert that succeeded but could not restore everything. */
export interface RevertShortfall {
  index: number;
  name: string;
  /** What stays changed, and why. */
  note: string;
}

/** What a run of a flow ended with. */
export interface RunResult {
  runId: string;
  flowName: string;
  status: RunStatus;
  /** Tasks in the flow. */
  total: number;
  /** Tasks applied successfully (including the last task when `forceFail` failed the run). */
  completed: number;
  /** Tasks reverted successfully. */
  reverted: number;
  /** The task that failed, if any. */
  failedTask?: { index: number; name: string; kind: string };
  /** The failure's message, if any. */
  error?: string;
  /** Every revert that threw. */
  revertFailures: RevertFailure[];
  /** Reverts that succeeded but left something they could not restore (absent: none). */
  revertNotes?: RevertShortfall[];
  /** Wall time of the run. */
  durationMs: number;
  /** Wall time executing tasks, and reverting them. */
  executeMs: number;
  revertMs: number;
}

/**
 * State of one task in the journal: `pending` (planned, not started),
 * `intent` (prepared, its undo value recorded; being applied: maybe half
 * done), `done` (applied), `failed` (its prepare or apply threw; with an
 * undo value it still needs reverting, as its apply may have done part),
 * `reverted`, `revert_failed`.
 */
export type JournalTaskRecordState = 'pending' | 'failed' | JournalTaskState;

/** What a journal records when a run starts. */
export interface JournalRunStart {
  runId: string;
  flowName: string;
  /** Free text to find runs by, e.g. the project uuid. */
  label?: string;
  /** Plain JSON about the run, e.g. `{ mode, targets }`. */
  meta?: Json;
  /** The run's planned tasks, in order. */
  tasks: readonly TaskSpec[];
  /** Record task 0's intent with the start, in the same commit (the runner does: one commit less per run). */
  firstIntent?: boolean;
  /** Task 0's undo value, recorded with its intent (absent: nothing to undo). */
  firstUndo?: Json;
  /**
   * The run's outcome is owed to someone no answer reaches (an async run's
   * timeline event): once finished it is listed by
   * {@link Journal.unreportedRuns} until {@link Journal.reported} marks it.
   */
  reportDue?: boolean;
  /**
   * A key a fence refuses the run by (see fences.ts; the service: the
   * submit's timeline event): a journal with fences refuses to start a run
   * whose key is fenced (RunFencedError), and finds the run by it.
   */
  fenceKey?: string;
}

/** One task of a journaled run. */
export interface JournalTask extends TaskSpec {
  index: number;
  state: JournalTaskRecordState;
  /** The undo value recorded with the intent (absent: nothing to undo, or not prepared). */
  undo?: Json;
  /** Time its apply took (until it returned or threw). */
  durationMs?: number;
  /** Time its revert took (when reverted or failed to revert). */
  revertMs?: number;
  /** Why the prepare, apply or revert failed. */
  error?: string;
}

/** `done` of `total`. */
export interface ProgressCount {
  done: number;
  total: number;
}

/** A run's progress, as its record shows it. */
export interface RunProgress {
  /** Tasks applied, of the flow's tasks (the engine counts them). */
  tasks: ProgressCount;
  /**
   * What the run's tasks report counting, by key (e.g. `filesChecked`,
   * `filesMoved`): the furthest report of each. Absent when none reported.
   */
  counts?: Record<string, ProgressCount>;
}

/** A run as listed: no per-task detail. */
export interface JournalRunSummary {
  runId: string;
  flowName: string;
  label?: string;
  meta?: Json;
  status: JournalRunStatus;
  taskCount: number;
  /** ISO 8601 timestamps. */
  startedAt: string;
  endedAt?: string;
  /** The final result (absent while running). */
  result?: RunResult;
  /**
   * How far it got: while running, as last written (at most every second or
   * so; absent before the first write); once ended, the tasks applied (from
   * the result) and the counts its tasks reported.
   */
  progress?: RunProgress;
}

/** A run with all its tasks. */
export interface JournalRun extends JournalRunSummary {
  tasks: JournalTask[];
}

/** Filter and page for {@link Journal.listRuns}: newest first. */
export interface ListRunsQuery {
  status?: JournalRunStatus;
  flowName?: string;
  label?: string;
  limit: number;
  offset: number;
}

/** One page of runs plus how many match the filter in total. */
export interface RunPage {
  total: number;
  runs: JournalRunSummary[];
}
