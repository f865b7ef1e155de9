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
import { HttpError } from './errors.js';
import { isProject, type Project } from './repo.js';

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
      const status = err.failure?.status;
      throw new HttpError(status === 503 || status === 0 ? 503 : 400, err.message);
    }
    throw err;
  }
}

/**
 * The one way the site pairs its own change with a flow: runs `apply` (the
 * site's rows), then `submit` (the flow and whatever must follow it); when
 * `submit` throws, runs `undo` so the site's rows are as before, and rethrows.
 * `undo` gets what `apply` returned and the error, for the timeline.
 */
export async function withCompensation<T>(
  apply: () => Promise<T>,
  submit: (applied: T) => Promise<void>,
  undo: (applied: T, err: unknown) => Promise<void>,
): Promise<T> {
  const applied = await apply();
  try {
    await submit(applied);
  } catch (err) {
    await undo(applied, err);
    throw err;
  }
  return applied;
}
