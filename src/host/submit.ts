/**
 * How the site submits a flow: refuse when taskflow is off or the project is
 * locked, submit with this site as callback URL, and turn backend errors into
 * API answers (503 for a lock or an unreachable service, 400 for the rest,
 * with the backend's message). A service that cannot tell whether a project
 * is locked (no lock query, as the original SODAR Taskflow) gets the submit:
 * it takes the lock itself and answers 503 when it cannot.
 *
 * @module
 */
import { FlowSubmitException, LockQueryException } from '../backend/index.js';
import { LOCK_UNKNOWN, type LockShown } from './constants.js';
import type { SiteContext, TaskflowBackend } from './context.js';
import { HttpError, OutcomeUnknownError } from './errors.js';
import type { Db } from './db/types.js';
import { isProject, recordUndo, settleUndo, type Project, type Undo } from './repo.js';
import { freezeBeforeSubmit } from './test-hooks.js';

/** Options of {@link submitFlow}. */
export interface FlowRequest {
  projectUuid: string | null;
  flowName: string;
  flowData: Record<string, unknown>;
  requestMode?: 'sync' | 'async';
  timelineUuid?: string;
  forceFail?: boolean;
  /** Ask the service first whether the project is locked (flows that take the lock). */
  checkLock?: boolean;
  /** Targets; default the backend's TASKFLOW_TARGETS. */
  targets?: readonly string[];
}

/** The detail of the 503 answered for a locked project. */
export const LOCKED_DETAIL = 'Project is locked by another operation: try again later';

/** The backend API, or a 503 saying how to enable it. */
export async function requireTaskflow(ctx: SiteContext): Promise<TaskflowBackend> {
  const api = await ctx.taskflow();
  if (!api) {
    throw new HttpError(
      503,
      'Taskflow backend plugin is not enabled: run "taskflow manage syncplugins" and include "taskflow" in ENABLED_BACKEND_PLUGINS',
    );
  }
  return api;
}

/** Whether the project is locked, or {@link LOCK_UNKNOWN} when the site cannot tell. */
export async function lockState(ctx: SiteContext, projectUuid: string): Promise<LockShown> {
  const api = await ctx.taskflow();
  if (!api) return LOCK_UNKNOWN;
  try {
    return (await api.isLocked(projectUuid)) ?? LOCK_UNKNOWN;
  } catch {
    return LOCK_UNKNOWN;
  }
}

/** What the API shows as a project's lock: its state for a project, false for a category (which has none). */
export async function projectLockShown(ctx: SiteContext, project: Project): Promise<LockShown> {
  return isProject(project) ? lockState(ctx, project.uuid) : false;
}

/** Submits a flow; throws {@link HttpError} carrying the backend's message on failure. */
export async function submitFlow(ctx: SiteContext, req: FlowRequest): Promise<void> {
  const api = await requireTaskflow(ctx);
  if (req.checkLock && req.projectUuid) {
    let locked: boolean | null;
    try {
      locked = await api.isLocked(req.projectUuid);
    } catch (err) {
      if (err instanceof LockQueryException) throw new HttpError(503, err.message);
      throw err;
    }
    if (locked === true) throw new HttpError(503, LOCKED_DETAIL);
  }
  freezeBeforeSubmit(ctx.config.testMode, req.flowName);
  try {
    await api.submit(req.projectUuid, req.flowName, req.flowData, {
      requestMode: req.requestMode ?? 'sync',
      timelineUuid: req.timelineUuid ?? null,
      forceFail: req.forceFail ?? false,
      sodarUrl: ctx.siteUrl(),
      ...(req.targets ? { targets: req.targets } : {}),
    });
  } catch (err) {
    if (err instanceof FlowSubmitException) {
      if (err.failure?.mayHaveArrived) throw new OutcomeUnknownError(err.message);
      const status = err.failure?.status;
      throw new HttpError(status === 503 || status === 0 ? 503 : 400, err.message);
    }
    throw err;
  }
}

/** What {@link withCompensation}'s `apply` changed: its result, and how to take it back under which event. */
export interface Applied<T> {
  value: T;
  /** The timeline event of the change, which the flow's submit carries (its outcome is reported there). */
  eventUuid: string;
  projectUuid: string | null;
  undo: Undo;
  /** What the site does once the flow succeeded, in the transaction that settles the undo. */
  onOk?: Undo;
}

/**
 * The one way the site pairs its own change with a flow: runs `apply` (the
 * site's rows) in a transaction that also records how to take the change
 * back (see undo/repository.ts), then `submit` (the flow and whatever must
 * follow it). When `submit` throws, the recorded undo is applied, then
 * `failed` runs (for the timeline), and the error is rethrown; when it
 * succeeds, the recorded `onOk` is done and the record goes. A submit left
 * without an answer ({@link OutcomeUnknownError}: the flow may still run)
 * keeps the change and its record, as does a process that dies in between:
 * the service's report of the run, or the site's next look at the service's
 * runs, settles it.
 */
/**
 * The events of the changes whose submit is waiting for its answer in this
 * process: that answer settles them, so the looks at the service's runs
 * (undo/service-outcomes.ts) leave them alone.
 */
export const submitsInFlight = new Set<string>();

export async function withCompensation<T>(
  db: Db,
  apply: (tx: Db) => Promise<Applied<T>>,
  submit: (value: T) => Promise<void>,
  failed?: (value: T, err: unknown) => Promise<void>,
): Promise<T> {
  const applied = await db.transaction(async (tx) => {
    const a = await apply(tx);
    await recordUndo(tx, a.eventUuid, a.projectUuid, a.undo, a.onOk);
    return a;
  });
  submitsInFlight.add(applied.eventUuid);
  try {
    await submit(applied.value);
  } catch (err) {
    // the run may go on: its report, or the site's next look at the service's runs, settles the change
    if (err instanceof OutcomeUnknownError) throw err;
    await db.transaction((tx) => settleUndo(tx, applied.eventUuid, 'failed'));
    await failed?.(applied.value, err);
    throw err;
  } finally {
    submitsInFlight.delete(applied.eventUuid);
  }
  await db.transaction((tx) => settleUndo(tx, applied.eventUuid, 'ok'));
  return applied.value;
}
