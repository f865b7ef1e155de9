/**
 * Runs a linear flow: per task, prepare (which returns the undo value),
 * journal the intent with that value, apply, journal done; on the first
 * failure revert, in reverse order, every task whose undo value was
 * journaled (the failed task too when its apply threw: it may have done part).
 *
 * @module
 */
import { NothingAppliedError, UndoNotJsonError, errorMessage, type RunEndNotRecordedError } from './errors.js';
import type { RunEvents } from './events.js';
import type { LinearFlow } from './flow.js';
import type { Journal } from './journal.js';
import type { RunProgressTracker } from './progress.js';
import { newRunId } from './run-id.js';
import { RunState, isThenable, nullJournal } from './run-state.js';
import type { Json, RunResult } from './types.js';

/** Options of {@link runFlow}. */
export interface RunOptions {
  /** Where the run is recorded (none: not recorded, cannot be recovered). */
  journal?: Journal;
  /** Run id (default: a new time-ordered UUID, see {@link newRunId}). Must be new to the journal. */
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
  /** Its outcome is reported after it ends, by the caller (see `JournalRunStart.reportDue`). */
  reportDue?: boolean;
  /** The key a fence refuses it by (see `JournalRunStart.fenceKey`): a fenced one throws RunFencedError, nothing applied. */
  fenceKey?: string;
  /**
   * Where the run's progress is kept: the runner reports each applied task
   * and ends it when the run ends; the run's tasks report their own counts
   * to it through their context (the caller wires that).
   */
  progress?: RunProgressTracker;
  /**
   * Called once task `index` is applied and journaled; a promise it returns
   * holds the run there until it settles (test hooks pause runs this way).
   */
  afterTask?: (index: number) => PromiseLike<unknown> | void;
  /**
   * Asked before each task applies: a reason fails the run there, before
   * that task changes anything, and the tasks before it roll back (the
   * service stops a run whose project lock was lost, which another process
   * may hold by now).
   */
  stopIf?: () => string | undefined;
  /**
   * Called once the run's outcome is known, right before its end is
   * recorded: what the caller holds only while the run runs is let go before
   * anyone can read the run as ended (the service frees a validate-only
   * check's slot). Not called for a run whose start the journal refused;
   * a throw is ignored.
   */
  beforeEnd?: () => void;
}

/** The error of a run failed by `forceFail` (SODAR shows it in zone statuses and timeline events). */
export const FORCED_FAILURE_MESSAGE = 'Forced failure (force_fail was requested): the flow was rolled back';

/** Where a forced failure happened, in a submit's failure reason: before the closing tail. */
export const FORCED_FAILURE_POINT = 'Forced failure';

/**
 * Runs `flow` with `ctx` passed to every task. Never throws for task
 * failures: the result's `status` says what happened (`completed`,
 * `rolled_back`, or `revert_failed` listing every revert that threw).
 * A journal write failing before or after a task counts as that task's
 * failure. Throws only when the journal cannot record the run's start
 * (nothing was applied) or its final state: then {@link RunEndNotRecordedError}
 * with the run's result, as it ended (the next `recoverRuns` ends the record
 * the same way: forward when every task is done, else reverted again).
 */
export async function runFlow<C>(flow: LinearFlow<C>, ctx: C, opts: RunOptions = {}): Promise<RunResult> {
  const tasks = flow.tasks;
  const n = tasks.length;
  const runId = opts.runId ?? newRunId();
  const journal = opts.journal ?? nullJournal;
  const state = new RunState(runId, flow.name, n, ctx, journal, opts.events);
  const end = opts.forceFail ? flow.closingFrom : n;
  const base = { runId, flowName: flow.name, label: opts.label, meta: opts.meta, reportDue: opts.reportDue, fenceKey: opts.fenceKey, tasks };

  // undo values stay in memory for the revert: the journal holds them for recovery
  const undos: (Json | undefined)[] = new Array(n);
  let failed = false;
  // tasks [0, revertFrom) are reverted on failure: those whose undo value was journaled
  let revertFrom = 0;
  const execStart = performance.now();
  const fail = (index: number, error: string, durationMs: number, nothingApplied = false): void => {
    failed = true;
    const task = tasks[index];
    state.failedTask = { index, name: task.name, kind: task.kind };
    state.error = error;
    try {
      journal.failed(runId, index, error, durationMs, nothingApplied);
    } catch {
      // the task failed anyway; its journaled intent makes recovery cautious enough
    }
    state.emit('task:failed', index, task, durationMs, error);
  };

  // the undo value of the task last prepared; prepareTask returns the error message when its prepare threw
  let nextUndo: Json | undefined;
  const setUndo = (u: unknown): undefined => {
    nextUndo = u as Json | undefined;
    return undefined;
  };
  // a promise only when the prepare is asynchronous: a synchronous one costs no await and no allocation
  const prepareTask = (index: number): string | undefined | Promise<string | undefined> => {
    try {
      const out = tasks[index].prepare(ctx);
      if (!isThenable(out)) return setUndo(out);
      return Promise.resolve(out).then(setUndo, errorMessage);
    } catch (err) {
      return errorMessage(err);
    }
  };

  let t0 = performance.now();
  let ready = end > 0;
  let prepError: string | undefined;
  if (ready) {
    const r = prepareTask(0);
    prepError = isThenable(r) ? await r : r;
  }
  if (ready && prepError === undefined) {
    // task 0's intent goes with the start: one commit less per run
    try {
      journal.start({ ...base, firstIntent: true, firstUndo: nextUndo });
    } catch (err) {
      if (!(err instanceof UndoNotJsonError)) throw err;
      journal.start(base);
      prepError = `Journal write failed before task "${tasks[0].name}": ${err.message}`;
    }
  } else {
    journal.start(base);
  }
  // The start, with task 0's intent, is durable before task 0 applies anything it would have to undo, and
  // before anyone outside the runner sees the run at work (a task:start listener, the afterTask hook). A first
  // task with nothing to undo applies at once: the start then rides on the run's next commit (the next intent
  // with an undo value, a failure or the end; the end of this event-loop turn at the latest). Should the
  // process die before it, the journal holds no trace of the run, as if it had died just before the start: an
  // accepted run is still in the line and runs again, and nothing it applied had anything to undo.
  const quietStart = ready && prepError === undefined && nextUndo === undefined && !state.observed('task:start') && opts.afterTask === undefined;
  if (!quietStart) {
    const started = journal.committed?.();
    if (started !== undefined) await started;
  }

  for (let i = 0; ready; i++) {
    const task = tasks[i];
    state.emit('task:start', i, task);
    if (prepError !== undefined) {
      // nothing applied: this task has nothing to revert
      fail(i, prepError, performance.now() - t0);
      break;
    }
    const stop = opts.stopIf?.();
    if (stop !== undefined) {
      // not applied: its undo goes with the failure, as for a refused apply
      fail(i, stop, performance.now() - t0, true);
      break;
    }
    const undo = nextUndo;
    undos[i] = undo;
    revertFrom = i + 1;
    try {
      const out = task.apply(ctx, undo);
      if (isThenable(out)) await out;
    } catch (err) {
      if (err instanceof NothingAppliedError) {
        // it changed nothing: its undo is about a change someone else made, which is not ours to take back
        revertFrom = i;
        fail(i, errorMessage(err), performance.now() - t0, true);
        break;
      }
      // reverted with the others: it may have done part of its work
      fail(i, errorMessage(err), performance.now() - t0);
      break;
    }
    state.completed++;
    const durationMs = performance.now() - t0;
    const next = i + 1;
    ready = next < end;
    if (ready) {
      t0 = performance.now();
      const r = prepareTask(next);
      prepError = isThenable(r) ? await r : r;
    }
    try {
      if (ready && prepError === undefined) {
        journal.doneThenIntent(runId, i, durationMs, nextUndo);
        // the next task's undo value is durable before its apply (a commit shared with the runs writing meanwhile)
        const recorded = nextUndo === undefined ? undefined : journal.committed?.();
        if (recorded !== undefined) await recorded;
      } else {
        journal.done(runId, i, durationMs);
        // durable before anything outside the runner sees the task done (an event listener, the afterTask
        // hook); otherwise the run's end follows in this turn and shares the commit
        if (state.observed('task:done') || opts.afterTask !== undefined) {
          const recorded = journal.committed?.();
          if (recorded !== undefined) await recorded;
        }
      }
    } catch (err) {
      let unrecorded: unknown = err;
      if (err instanceof UndoNotJsonError && ready && prepError === undefined) {
        // the next task's undo value cannot be recorded: that task fails before applying anything
        prepError = `Journal write failed before task "${tasks[next].name}": ${err.message}`;
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
    opts.progress?.taskDone(state.completed);
    if (opts.afterTask !== undefined) {
      const held = opts.afterTask(i);
      if (isThenable(held)) await held;
    }
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
  opts.progress?.end();
  return state.finish(state.result(failed), opts.beforeEnd);
}
