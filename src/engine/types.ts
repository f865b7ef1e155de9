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
 * What a task kind does and how it is undone. `execute` returns the value its
 * `revert` needs (journaled before the engine moves on), or `undefined` when it
 * changed nothing. `revert` receives `undefined` as undo when the task's intent
 * was journaled but not its result (a crash mid-task): it must then check the
 * world and undo whatever part may have happened. Reverts are idempotent.
 */
export interface TaskDefinition<C, A extends Json = Json, U extends Json = Json> {
  kind: string;
  execute(ctx: C, args: A): Promise<U | undefined> | U | undefined;
  revert(ctx: C, args: A, undo: U | undefined): Promise<void> | void;
}

/** A runnable task: its spec plus bound execute and revert. */
export interface Task<C = unknown, A extends Json = Json, U extends Json = Json> extends TaskSpec<A> {
  execute(ctx: C): Promise<U | undefined> | U | undefined;
  revert(ctx: C, undo: U | undefined): Promise<void> | void;
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

/** What a run of a flow ended with. */
export interface RunResult {
  runId: string;
  flowName: string;
  status: RunStatus;
  /** Tasks in the flow. */
  total: number;
  /** Tasks that executed successfully (including the forced-failure task's execute). */
  completed: number;
  /** Tasks reverted successfully. */
  reverted: number;
  /** The task that failed, if any. */
  failedTask?: { index: number; name: string; kind: string };
  /** The failure's message, if any. */
  error?: string;
  /** Every revert that threw. */
  revertFailures: RevertFailure[];
  /** Wall time of the run. */
  durationMs: number;
  /** Wall time executing tasks, and reverting them. */
  executeMs: number;
  revertMs: number;
}
