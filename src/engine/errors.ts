/**
 * Typed errors of the engine. Task failures are never thrown by `runFlow`
 * (they end up in the RunResult); these are for misuse and missing data.
 *
 * @module
 */

import type { RevertFailure, RunResult } from './types.js';

/** Base class of every engine error. */
export class EngineError extends Error {
  override name = 'EngineError';
}

/** A task kind was defined twice in one registry. */
export class DuplicateTaskKindError extends EngineError {
  override name = 'DuplicateTaskKindError';
  constructor(readonly kind: string) {
    super(`Task kind "${kind}" is already defined in this registry`);
  }
}

/** A journaled task names a kind the registry does not know (so it cannot be rebuilt). */
export class UnknownTaskKindError extends EngineError {
  override name = 'UnknownTaskKindError';
  constructor(readonly kind: string) {
    super(`Unknown task kind "${kind}": define it in the TaskRegistry used to run and recover flows`);
  }
}

/** No run with this id in the journal. */
export class RunNotFoundError extends EngineError {
  override name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`Run "${runId}" not found in the journal`);
  }
}

/** The run is not in the state the operation needs (e.g. retryRevert on a completed run). */
export class RunStateError extends EngineError {
  override name = 'RunStateError';
  constructor(
    readonly runId: string,
    readonly status: string,
    readonly expected: string,
  ) {
    super(`Run "${runId}" is ${status}, expected ${expected}`);
  }
}

/** A run id was started twice in one journal. */
export class DuplicateRunError extends EngineError {
  override name = 'DuplicateRunError';
  constructor(readonly runId: string) {
    super(`Run "${runId}" already exists in the journal: use a new run id`);
  }
}

/**
 * An accepted async run was cancelled while it waited in line (see
 * queue-store.ts): the journal refuses to start it, and nothing was recorded.
 */
export class RunCancelledError extends EngineError {
  override name = 'RunCancelledError';
  constructor(readonly runId: string) {
    super(`Run "${runId}" was cancelled while waiting in line; it does not start`);
  }
}

/**
 * A run carrying fence key `fenceKey` was refused: that key was fenced (see
 * fences.ts) at `fencedAt` (ISO 8601), so whoever asked for the fence took
 * its change back; the journal recorded nothing of the run.
 */
export class RunFencedError extends EngineError {
  override name = 'RunFencedError';
  constructor(
    readonly fenceKey: string,
    readonly fencedAt: string,
  ) {
    super(`runs carrying "${fenceKey}" were fenced at ${fencedAt}: this one is refused and recorded nowhere`);
  }
}

/** A task's undo value cannot be recorded: it is not plain JSON (a function, a symbol). */
export class UndoNotJsonError extends EngineError {
  override name = 'UndoNotJsonError';
  constructor() {
    super('Undo value is not JSON');
  }
}

/** Message of any thrown value, for run records. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Thrown by a task's apply that refused before changing anything: it found
 * the state its prepare had seen changed by someone else meanwhile (a user
 * another run created, a membership another run added). Its undo value was
 * about a change it never made, so the task is not reverted: reverting it
 * would take back the other run's change. The run fails and rolls back the
 * tasks before it as for any failure.
 */
export class NothingAppliedError extends EngineError {
  override name = 'NothingAppliedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The journal could not record (or make durable) a run's final state. The
 * run itself ended as `result` says: its tasks are applied, or rolled back,
 * and the caller answers by that. The journal shows the run unfinished until
 * a recovery finishes it the same way (a run whose every task is done is
 * rolled forward; one whose tasks were reverted is reverted again, which
 * changes nothing).
 */
export class RunEndNotRecordedError extends EngineError {
  override name = 'RunEndNotRecordedError';
  constructor(
    readonly result: RunResult,
    cause: unknown,
  ) {
    super(`the run journal could not record how run ${result.runId} ended (${result.status}): ${errorMessage(cause)}`, { cause });
  }
}

/**
 * A recovery could not finish a run's revert now, only for reasons that
 * pass (its `retryLater` said so of every revert that threw, e.g. the site
 * was out of reach): the run is left unfinished, the tasks whose revert
 * threw recorded `revert_failed`, so the next recovery reverts exactly
 * those. Not a failed rollback: nothing is known to be wrong with the run.
 */
export class RevertDeferredError extends EngineError {
  override name = 'RevertDeferredError';
  constructor(
    readonly runId: string,
    readonly failures: readonly RevertFailure[],
  ) {
    super(`the revert of run ${runId} waits: ${failures.map((f) => `task "${f.name}": ${f.error}`).join('; ')}`);
  }
}
