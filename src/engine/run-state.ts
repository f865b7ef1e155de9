/**
 * The bookkeeping shared by a run and a recovery: statistics, journal
 * writes, events and the revert of one task. Internal to the engine.
 *
 * @module
 */
import { RunEndNotRecordedError, errorMessage } from './errors.js';
import type { RunEvents, RunEventMap, TaskEvent } from './events.js';
import type { Journal } from './journal.js';
import type { Json, RevertFailure, RevertOutcome, RevertShortfall, RunResult, RunStatus, TaskSpec } from './types.js';

/** Whether `value` is a promise-like (tasks may return plain values to skip an await). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/** A journal that records nothing: used when the caller passes none. */
export const nullJournal: Journal = {
  start() {},
  intent() {},
  done() {},
  doneThenIntent() {},
  failed() {},
  reverted() {},
  revertFailed() {},
  progress() {},
  finish() {},
  whenDurable: () => Promise.resolve(),
  getRun: () => undefined,
  getRunSummary: () => undefined,
  listRuns: () => ({ total: 0, runs: [] }),
  unfinishedRuns: () => [],
  reported() {},
  unreportedRuns: () => [],
  unfinishedRunsLabelled: () => [],
  revertFailedRunLabelled: () => undefined,
  close() {},
};

type TaskEventName = Exclude<keyof RunEventMap, 'run:end'>;

/** Something that can be reverted: a rebuilt task, or the reason it could not be rebuilt. */
export interface Revertible<C> {
  revert(ctx: C, undo: Json): Promise<RevertOutcome> | RevertOutcome;
}

/** Statistics and side channels of one run (or one recovery of a run). */
export class RunState<C> {
  completed = 0;
  reverted = 0;
  readonly revertFailures: RevertFailure[] = [];
  readonly revertNotes: RevertShortfall[] = [];
  failedTask?: RunResult['failedTask'];
  error?: string;
  executeMs = 0;
  revertMs = 0;
  /** Says of a revert's error whether it passes (see `recoverRun`); none: no error does. */
  retryLater?: (err: unknown) => boolean;
  /** How many of {@link revertFailures} {@link retryLater} said pass. */
  passingRevertFailures = 0;
  readonly startedAt = performance.now();

  constructor(
    readonly runId: string,
    readonly flowName: string,
    readonly total: number,
    readonly ctx: C,
    readonly journal: Journal,
    readonly events: RunEvents | undefined,
  ) {}

  /** Whether someone listens to task event `name`. */
  observed(name: TaskEventName): boolean {
    return this.events !== undefined && this.events.listenerCount(name) > 0;
  }

  /** Emits a task event when someone listens; a throwing listener cannot break the run. */
  emit(name: TaskEventName, index: number, spec: TaskSpec, durationMs?: number, error?: string, note?: string): void {
    const events = this.events;
    if (events === undefined || events.listenerCount(name) === 0) return;
    const payload: TaskEvent = { runId: this.runId, index, name: spec.name, kind: spec.kind };
    if (durationMs !== undefined) payload.durationMs = durationMs;
    if (error !== undefined) payload.error = error;
    if (note !== undefined) payload.note = note;
    try {
      events.emit(name, payload);
    } catch {
      // listeners are observers: their bugs must not change the run's outcome
    }
  }

  /**
   * Reverts one task with its journaled undo value. `callRevert` false (or
   * no undo value): its prepare found nothing to undo. Returns a promise only when the
   * revert is asynchronous, so synchronous reverts cost no allocation.
   */
  revertOne(
    index: number,
    spec: TaskSpec,
    task: Revertible<C> | Error,
    undo: Json | undefined,
    callRevert: boolean,
  ): Promise<void> | undefined {
    const t0 = performance.now();
    if (task instanceof Error) {
      this.revertFailed(index, spec, task, t0);
      return undefined;
    }
    let pending: unknown;
    try {
      if (callRevert && undo !== undefined) pending = task.revert(this.ctx, undo);
    } catch (err) {
      this.revertFailed(index, spec, err, t0);
      return undefined;
    }
    if (isThenable(pending)) {
      return Promise.resolve(pending).then(
        (out: unknown) => this.revertSucceeded(index, spec, t0, out as RevertOutcome),
        (err: unknown) => this.revertFailed(index, spec, err, t0),
      );
    }
    this.revertSucceeded(index, spec, t0, pending as RevertOutcome);
    return undefined;
  }

  private revertSucceeded(index: number, spec: TaskSpec, t0: number, out: RevertOutcome): void {
    const durationMs = performance.now() - t0;
    this.reverted++;
    const note = typeof out === 'object' && out !== null && typeof out.note === 'string' ? out.note : undefined;
    if (note !== undefined) this.revertNotes.push({ index, name: spec.name, note });
    try {
      this.journal.reverted(this.runId, index, durationMs);
    } catch {
      // the revert happened; an unrecorded revert is only repeated by recovery (reverts are idempotent)
    }
    this.emit('task:reverted', index, spec, durationMs, undefined, note);
  }

  private revertFailed(index: number, spec: TaskSpec, err: unknown, t0: number): void {
    const durationMs = performance.now() - t0;
    const error = errorMessage(err);
    this.revertFailures.push({ index, name: spec.name, error });
    if (this.retryLater?.(err) === true) this.passingRevertFailures++;
    try {
      this.journal.revertFailed(this.runId, index, error, durationMs);
    } catch {
      // still reported in the result; recovery or retryRevert will try this task again
    }
    this.emit('task:revert_failed', index, spec, durationMs, error);
  }

  /** The final result; `failed` says whether the run (or recovery) rolled back. */
  result(failed: boolean): RunResult {
    const status: RunStatus = !failed ? 'completed' : this.revertFailures.length > 0 ? 'revert_failed' : 'rolled_back';
    const result: RunResult = {
      runId: this.runId,
      flowName: this.flowName,
      status,
      total: this.total,
      completed: this.completed,
      reverted: this.reverted,
      revertFailures: this.revertFailures,
      durationMs: performance.now() - this.startedAt,
      executeMs: this.executeMs,
      revertMs: this.revertMs,
    };
    if (this.failedTask !== undefined) result.failedTask = this.failedTask;
    if (this.error !== undefined) result.error = this.error;
    if (this.revertNotes.length > 0) result.revertNotes = this.revertNotes;
    return result;
  }

  /**
   * Records the final state, waits until it is durable (a group fsync shared
   * with concurrent runs), then tells listeners. `beforeRecord` is called
   * first (see `RunOptions.beforeEnd`). Rejects only if the journal cannot
   * record or sync it: with {@link RunEndNotRecordedError}, which carries the
   * result.
   */
  async finish(result: RunResult, beforeRecord?: () => void): Promise<RunResult> {
    try {
      beforeRecord?.();
    } catch {
      // the caller's bookkeeping cannot change the outcome or keep it from being recorded
    }
    try {
      this.journal.finish(this.runId, result);
      await this.journal.whenDurable();
    } catch (err) {
      throw new RunEndNotRecordedError(result, err);
    }
    const events = this.events;
    if (events !== undefined && events.listenerCount('run:end') > 0) {
      try {
        events.emit('run:end', result);
      } catch {
        // observers cannot change the outcome
      }
    }
    return result;
  }
}
