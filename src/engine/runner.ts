/**
 * Runs a linear flow: per task, prepare (which returns the undo value),
 * journal the intent with that value, apply, journal done; on the first
 * failure revert, in reverse order, every task whose undo value was
 * journaled (the failed task too when its apply threw: it may have done part).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { UndoNotJsonError, errorMessage } from './errors.js';
import type { RunEvents } from './events.js';
import type { LinearFlow } from './flow.js';
import type { Journal } from './journal.js';
import { RunState, isThenable, nullJournal } from './run-state.js';
import type { Json, RunResult, Task } from './types.js';

/** Options of {@link runFlow}. */
export interface RunOptions {
  /** Where the run is recorded (none: not recorded, cannot be recovered). */
  journal?: Journal;
  /** Run id (default: a random UUID). Must be new to the journal. */
  runId?: string;
  /**
   * Apply every task up to the flow's closing tail, then fail on purpose so
   * everything applied rolls back (the `force_fail` of a submit).
   */
  forceFail?: boolean;
  /** Progress events. */
  events?: RunEvents;
  /** Recorded with the run to find it later, e.g. the project uuid. */
  label?: string;
  /** Plain JSON recorded with the run, e.g. mode and targets. */
  meta?: Json;
}

/** The error of a run failed by `forceFail` (SODAR shows it in zone statuses and timeline events). */
export const FORCED_FAILURE_MESSAGE = 'Forced failure (force_fail was requested): the flow was rolled back';

/** Where a forced failure happened, in a submit's failure reason: before the closing tail. */
export const FORCED_FAILURE_POINT = 'Forced failure';

/** What a task's prepare gave: its undo value, or why it failed. */
type Prepared = { ok: true; undo: Json | undefined } | { ok: false; error: string };

async function prepareAsync<C>(out: PromiseLike<unknown>): Promise<Prepared> {
  try {
    return { ok: true, undo: (await out) as Json | undefined };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** Calls a task's prepare; a promise only when the prepare is asynchronous (a synchronous one costs no await). */
function prepare<C>(task: Task<C>, ctx: C): Prepared | Promise<Prepared> {
  try {
    const out = task.prepare(ctx);
    return isThenable(out) ? prepareAsync(out) : { ok: true, undo: out as Json | undefined };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/**
 * Runs `flow` with `ctx` passed to every task. Never throws for task
 * failures: the result's `status` says what happened (`completed`,
 * `rolled_back`, or `revert_failed` listing every revert that threw).
 * A journal write failing before or after a task counts as that task's
 * failure. Throws only when the journal cannot record the run's start or
 * its final state (a run whose final state is not recorded is reverted by
 * the next `recoverRuns`).
 */
export async function runFlow<C>(flow: LinearFlow<C>, ctx: C, opts: RunOptions = {}): Promise<RunResult> {
  const tasks = flow.tasks;
  const n = tasks.length;
  const runId = opts.runId ?? randomUUID();
  const journal = opts.journal ?? nullJournal;
  const state = new RunState(runId, flow.name, n, ctx, journal, opts.events);
  const end = opts.forceFail ? flow.closingFrom : n;
  const base = { runId, flowName: flow.name, label: opts.label, meta: opts.meta, tasks };

  // undo values stay in memory for the revert: the journal holds them for recovery
  const undos: (Json | undefined)[] = new Array(n);
  let failed = false;
  // tasks [0, revertFrom) are reverted on failure: those whose undo value was journaled
  let revertFrom = 0;
  const execStart = performance.now();
  const fail = (index: number, error: string, durationMs: number): void => {
    failed = true;
    const task = tasks[index];
    state.failedTask = { index, name: task.name, kind: task.kind };
    state.error = error;
    try {
      journal.failed(runId, index, error, durationMs);
    } catch {
      // the task failed anyway; its journaled intent makes recovery cautious enough
    }
    state.emit('task:failed', index, task, durationMs, error);
  };

  let t0 = performance.now();
  let prepared: Prepared | undefined;
  if (end > 0) {
    const p = prepare(tasks[0], ctx);
    prepared = isThenable(p) ? await p : p;
  }
  if (prepared?.ok === true) {
    // task 0's intent goes with the start: one commit less per run
    try {
      journal.start({ ...base, firstIntent: true, firstUndo: prepared.undo });
    } catch (err) {
      if (!(err instanceof UndoNotJsonError)) throw err;
      journal.start(base);
      prepared = { ok: false, error: `Journal write failed before task "${tasks[0].name}": ${err.message}` };
    }
  } else {
    journal.start(base);
  }

  for (let i = 0; prepared !== undefined; i++) {
    const task = tasks[i];
    state.emit('task:start', i, task);
    if (!prepared.ok) {
      // nothing applied: this task has nothing to revert
      fail(i, prepared.error, performance.now() - t0);
      break;
    }
    const undo = prepared.undo;
    undos[i] = undo;
    revertFrom = i + 1;
    try {
      const out = task.apply(ctx, undo);
      if (isThenable(out)) await out;
    } catch (err) {
      // reverted with the others: it may have done part of its work
      fail(i, errorMessage(err), performance.now() - t0);
      break;
    }
    state.completed++;
    const durationMs = performance.now() - t0;
    prepared = undefined;
    const next = i + 1;
    if (next < end) {
      t0 = performance.now();
      const p = prepare(tasks[next], ctx);
      prepared = isThenable(p) ? await p : p;
    }
    try {
      if (prepared?.ok === true) journal.doneThenIntent(runId, i, durationMs, prepared.undo);
      else journal.done(runId, i, durationMs);
    } catch (err) {
      let unrecorded: unknown = err;
      if (err instanceof UndoNotJsonError && prepared?.ok === true) {
        // the next task's undo value cannot be recorded: that task fails before applying anything
        prepared = { ok: false, error: `Journal write failed before task "${tasks[next].name}": ${err.message}` };
        try {
          journal.done(runId, i, durationMs);
          unrecorded = undefined;
        } catch (doneErr) {
          unrecorded = doneErr;
        }
      }
      if (unrecorded !== undefined) {
        // applied but not recorded (e.g. disk full): roll back, this task included
        failed = true;
        state.failedTask = { index: i, name: task.name, kind: task.kind };
        state.error = `Journal write failed after task "${task.name}": ${errorMessage(unrecorded)}`;
        break;
      }
    }
    state.emit('task:done', i, task, durationMs);
  }
  state.executeMs = performance.now() - execStart;

  if (!failed && opts.forceFail) {
    failed = true;
    state.error = FORCED_FAILURE_MESSAGE;
    if (end > 0) {
      const last = tasks[end - 1];
      state.failedTask = { index: end - 1, name: last.name, kind: last.kind };
    }
  }

  if (failed) {
    const revertStart = performance.now();
    for (let j = revertFrom - 1; j >= 0; j--) {
      const undo = undos[j];
      const pending = state.revertOne(j, tasks[j], tasks[j], undo, undo !== undefined);
      if (pending !== undefined) await pending;
    }
    state.revertMs = performance.now() - revertStart;
  }
  return state.finish(state.result(failed));
}
