/**
 * Rolling back runs from the journal alone: runs a crash left unfinished,
 * and runs whose revert failed (once the operator fixed the cause).
 *
 * @module
 */
import { RevertDeferredError, RunNotFoundError, RunStateError, errorMessage } from './errors.js';
import type { RunEvents } from './events.js';
import type { Journal } from './journal.js';
import type { TaskRegistry } from './registry.js';
import { RunState, type Revertible } from './run-state.js';
import type { JournalRun, JournalTask, RunResult } from './types.js';

/** Options of {@link recoverRuns} and {@link retryRevert}. */
export interface RecoverOptions {
  /** Progress events (`task:reverted`, `task:revert_failed`, `run:end`). */
  events?: RunEvents;
}

/** Options of {@link recoverRun}. */
export interface RecoverRunOptions extends RecoverOptions {
  /**
   * Whether a revert's error passes, so that trying the revert again later
   * may succeed (the service: the site was out of reach). When every revert
   * that threw says so, the run is not finished: {@link recoverRun} throws
   * {@link RevertDeferredError}. None: every failure ends the run `revert_failed`.
   */
  retryLater?: (err: unknown) => boolean;
}

/** The error recorded on a run that recovery rolled back. */
export const INTERRUPTED_MESSAGE = 'Run interrupted before it finished (the process ended); rolled back by recovery';

/**
 * Reverts every run the journal shows unfinished, oldest first: in reverse
 * order, each task whose undo value was journaled with its intent, with that
 * value: `done`, `intent` (being applied when the process ended: its revert
 * undoes whatever part may have happened), `failed` in its apply, or
 * `revert_failed`. Each run ends
 * `rolled_back`, or `revert_failed` listing every revert that threw.
 *
 * Call it when no run is in progress on this journal (at service start):
 * an unfinished run of a live process would be reverted under its feet.
 */
export async function recoverRuns<C>(
  journal: Journal,
  registry: TaskRegistry<C>,
  ctx: C,
  opts: RecoverRunOptions = {},
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const runId of journal.unfinishedRuns()) {
    const result = await recoverRun(journal, registry, ctx, runId, opts);
    if (result) results.push(result);
  }
  return results;
}

/**
 * Reverts one unfinished run as {@link recoverRuns} does. Undefined when the
 * journal no longer holds it. The caller makes sure no live process is in it.
 * Throws {@link RevertDeferredError} when `opts.retryLater` says every revert
 * that threw may succeed later; the run stays unfinished for the next try.
 */
export async function recoverRun<C>(
  journal: Journal,
  registry: TaskRegistry<C>,
  ctx: C,
  runId: string,
  opts: RecoverRunOptions = {},
): Promise<RunResult | undefined> {
  const run = journal.getRun(runId);
  if (!run) return undefined; // removed meanwhile: nothing to do
  const state = new RunState(runId, run.flowName, run.tasks.length, ctx, journal, opts.events);
  const failedTask = run.tasks.find((t) => t.state === 'failed');
  if (failedTask) {
    state.failedTask = { index: failedTask.index, name: failedTask.name, kind: failedTask.kind };
    state.error = `${INTERRUPTED_MESSAGE} (task "${failedTask.name}" had failed: ${failedTask.error ?? 'unknown error'})`;
  } else {
    state.error = INTERRUPTED_MESSAGE;
  }
  state.retryLater = opts.retryLater;
  return revertRecorded(run, registry, state);
}

/**
 * Tries again to revert a `revert_failed` run: every task still `revert_failed`
 * (or `done` / `intent`), in reverse order. Ends `rolled_back` when all
 * succeed, else `revert_failed` again. Throws RunNotFoundError, or
 * RunStateError when the run is not `revert_failed`.
 */
export async function retryRevert<C>(
  journal: Journal,
  registry: TaskRegistry<C>,
  ctx: C,
  runId: string,
  opts: RecoverOptions = {},
): Promise<RunResult> {
  const run = journal.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  if (run.status !== 'revert_failed') throw new RunStateError(runId, run.status, 'revert_failed');
  const state = new RunState(runId, run.flowName, run.tasks.length, ctx, journal, opts.events);
  const previous = run.result;
  if (previous?.failedTask) state.failedTask = previous.failedTask;
  state.error = previous?.error ?? 'Retried revert';
  return revertRecorded(run, registry, state);
}

/**
 * Whether a journaled task still needs reverting, and whether its revert must
 * be called: only a task whose prepare journaled an undo value has anything
 * to undo, whether it is done, was being applied (`intent`), threw in its
 * apply (`failed`: it may have done part) or failed an earlier revert.
 */
function revertPlan(task: JournalTask): { needed: boolean; callRevert: boolean } {
  const hasUndo = task.undo !== undefined;
  switch (task.state) {
    case 'done':
    case 'intent':
    case 'revert_failed':
      return { needed: true, callRevert: hasUndo };
    case 'failed':
      return { needed: hasUndo, callRevert: hasUndo };
    default:
      return { needed: false, callRevert: false };
  }
}

async function revertRecorded<C>(run: JournalRun, registry: TaskRegistry<C>, state: RunState<C>): Promise<RunResult> {
  state.completed = run.tasks.filter((t) => t.state === 'done' || t.state === 'reverted' || t.state === 'revert_failed').length;
  const start = performance.now();
  for (let i = run.tasks.length - 1; i >= 0; i--) {
    const recorded = run.tasks[i];
    const { needed, callRevert } = revertPlan(recorded);
    if (!needed) continue;
    let task: Revertible<C> | Error;
    try {
      task = callRevert ? registry.create(recorded) : noRevert;
    } catch (err) {
      task = err instanceof Error ? err : new Error(errorMessage(err));
    }
    const pending = state.revertOne(recorded.index, recorded, task, recorded.undo, callRevert);
    if (pending !== undefined) await pending;
  }
  state.revertMs = performance.now() - start;
  const failures = state.revertFailures;
  // Finished revert_failed, the run would quarantine its project for an operator over a
  // failure nobody has to mend; unfinished, the next recovery reverts what is left.
  if (failures.length > 0 && state.passingRevertFailures === failures.length) throw new RevertDeferredError(run.runId, failures);
  return state.finish(state.result(true));
}

const noRevert: Revertible<unknown> = { revert() {} };


