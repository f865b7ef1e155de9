/**
 * Runs a linear flow: execute in order, journaling each task's intent before
 * and its undo value after; on the first failure revert every executed task
 * in reverse order.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from './errors.js';
import type { RunEvents } from './events.js';
import type { LinearFlow } from './flow.js';
import type { Journal } from './journal.js';
import { RunState, isThenable, nullJournal } from './run-state.js';
import type { Json, RunResult } from './types.js';

/** Options of {@link runFlow}. */
export interface RunOptions {
  /** Where the run is recorded (none: not recorded, cannot be recovered). */
  journal?: Journal;
  /** Run id (default: a random UUID). Must be new to the journal. */
  runId?: string;
  /** Execute the last task, then fail on purpose so the whole flow rolls back. */
  forceFail?: boolean;
  /** Progress events. */
  events?: RunEvents;
  /** Recorded with the run to find it later, e.g. the project uuid. */
  label?: string;
  /** Plain JSON recorded with the run, e.g. mode and targets. */
  meta?: Json;
}

/** The message of a run failed by `forceFail`. */
export function forcedFailureMessage(lastTaskName: string): string {
  return `Forced failure: force_fail was requested, so the flow rolls back after its last task "${lastTaskName}"`;
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
  // task 0's intent goes with the start: one commit less per run
  journal.start({ runId, flowName: flow.name, label: opts.label, meta: opts.meta, tasks, firstIntent: true });

  // undo values stay in memory for the revert: the journal holds them for recovery only
  const undos: (Json | undefined)[] = new Array(n);
  let failed = false;
  let i = 0;
  const execStart = performance.now();
  for (; !failed && i < n; i++) {
    const task = tasks[i];
    state.emit('task:start', i, task);
    const t0 = performance.now();
    let undo: Json | undefined;
    try {
      const out = task.execute(ctx);
      undo = isThenable(out) ? ((await out) as Json | undefined) : out;
    } catch (err) {
      const durationMs = performance.now() - t0;
      const error = errorMessage(err);
      failed = true;
      state.failedTask = { index: i, name: task.name, kind: task.kind };
      state.error = error;
      try {
        journal.failed(runId, i, error, durationMs);
      } catch {
        // the task failed anyway; its journaled intent makes recovery cautious enough
      }
      state.emit('task:failed', i, task, durationMs, error);
      break;
    }
    const durationMs = performance.now() - t0;
    undos[i] = undo;
    state.completed++;
    try {
      if (i + 1 < n) journal.doneThenIntent(runId, i, undo, durationMs);
      else journal.done(runId, i, undo, durationMs);
    } catch (err) {
      // executed but not recorded (e.g. undo not JSON, disk full): roll back, this task included
      failed = true;
      state.failedTask = { index: i, name: task.name, kind: task.kind };
      state.error = `Journal write failed after task "${task.name}": ${errorMessage(err)}`;
      i++;
      break;
    }
    state.emit('task:done', i, task, durationMs);
  }
  state.executeMs = performance.now() - execStart;

  if (!failed && opts.forceFail) {
    failed = true;
    if (n > 0) {
      const last = tasks[n - 1];
      state.failedTask = { index: n - 1, name: last.name, kind: last.kind };
      state.error = forcedFailureMessage(last.name);
    } else {
      state.error = forcedFailureMessage('(none)');
    }
  }

  if (failed) {
    // i: one past the last executed task (the failed task itself is not reverted: it did not complete)
    const revertStart = performance.now();
    for (let j = i - 1; j >= 0; j--) {
      const undo = undos[j];
      const pending = state.revertOne(j, tasks[j], tasks[j], undo, undo !== undefined);
      if (pending !== undefined) await pending;
    }
    state.revertMs = performance.now() - revertStart;
  }
  return state.finish(state.result(failed));
}
