/**
 * The service's own JSON endpoints: run records (`GET /runs`, `GET /runs/:id`),
 * fences of timeline events (`PUT /runs/fences/:timelineUuid`) and project
 * lock state (`GET /locks/:projectUuid`). All need the secret in the
 * `x-taskflow-secret` header.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RunFences } from '../engine/fences.js';
import type { Journal } from '../engine/journal.js';
import type { RunQueueStore } from '../engine/queue-store.js';
import type { JournalRunStatus, JournalRunSummary } from '../engine/types.js';
import { projectId } from '../flows/validate.js';
import type { LockManager } from '../locks/types.js';
import { SECRET_HEADER, secretMatches } from './auth.js';
import { Text, errorText, lockBackendError } from './messages.js';
import type { ProjectQuarantine } from './quarantine.js';
import { lineView } from './queue-view.js';
import { withLiveProgress } from './run-progress.js';
import type { SubmitPipeline } from './submit-pipeline.js';

const RUN_STATUSES: readonly JournalRunStatus[] = ['running', 'completed', 'rolled_back', 'revert_failed'];
/** Largest page of `GET /runs`. */
export const MAX_RUNS_PAGE = 500;

interface RoutesDeps {
  secret: string;
  journal: Journal & RunQueueStore & RunFences;
  locks: LockManager;
  quarantine: ProjectQuarantine;
  /** Cancels waiting async runs (`DELETE /runs/:id`); the live progress of runs this process runs. */
  pipeline: Pick<SubmitPipeline, 'cancel' | 'liveProgress'>;
}

function plain(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(body);
}

function authorized(req: FastifyRequest, reply: FastifyReply, secret: string): boolean {
  if (secretMatches(req.headers[SECRET_HEADER], secret)) return true;
  plain(reply, 403, Text.notAuthorized);
  return false;
}

/** A query parameter given more than once. Carries status 400 for the service's error handler. */
export class RepeatedQueryParamError extends Error {
  override readonly name = 'RepeatedQueryParamError';
  /** Fastify's error handlers read the answer's status from here. */
  readonly statusCode = 400;
  readonly code = 'TASKFLOW_QUERY_PARAM_REPEATED';
  constructor(
    /** The parameter's name. */
    readonly param: string,
  ) {
    super(`Invalid "${param}": give it once`);
  }
}

/**
 * The query parameters `names` of `req`, each a string or undefined. One
 * given twice is refused ({@link RepeatedQueryParamError}): Fastify hands it
 * over as an array, which a filter taking strings would drop, answering as if
 * it had never been given; and which of two filters was meant is not ours to guess.
 */
function singleParams<N extends string>(req: FastifyRequest, names: readonly N[]): Record<N, string | undefined> {
  const q = req.query as Record<string, unknown>;
  const out = {} as Record<N, string | undefined>;
  for (const name of names) {
    const v = q[name];
    if (Array.isArray(v)) throw new RepeatedQueryParamError(name);
    out[name] = typeof v === 'string' ? v : undefined;
  }
  return out;
}

function intParam(v: unknown, dflt: number, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return dflt;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

/** A running run's record with the progress this process holds for it (newer than the journal's). */
function withLive<R extends JournalRunSummary>(run: R, pipeline: Pick<SubmitPipeline, 'liveProgress'>): R {
  if (run.status !== 'running') return run;
  const progress = withLiveProgress(run.progress, pipeline.liveProgress(run.runId));
  if (progress !== undefined) run.progress = progress;
  return run;
}

/** Registers `/runs`, `/runs/:id` and `/locks/:projectUuid`. */
export function registerRunsRoutes(app: FastifyInstance, deps: RoutesDeps): void {
  app.get('/runs', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const q = singleParams(req, ['limit', 'offset', 'status', 'flow', 'project']);
    const limit = intParam(q.limit, 50, 1, MAX_RUNS_PAGE);
    const offset = intParam(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    if (limit === undefined) return plain(reply, 400, `Invalid "limit": an integer from 1 to ${MAX_RUNS_PAGE}`);
    if (offset === undefined) return plain(reply, 400, 'Invalid "offset": a non-negative integer');
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const status = str(q.status);
    if (status !== undefined && !RUN_STATUSES.includes(status as JournalRunStatus)) {
      return plain(reply, 400, `Invalid "status": one of ${RUN_STATUSES.join(', ')}`);
    }
    const page = deps.journal.listRuns({
      status: status as JournalRunStatus | undefined,
      flowName: str(q.flow),
      label: str(q.project),
      limit,
      offset,
    });
    for (const run of page.runs) withLive(run, deps.pipeline);
    return reply.send({ total: page.total, limit, offset, runs: page.runs });
  });

  app.get('/runs/:id', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const { id } = req.params as { id: string };
    const run = deps.journal.getRun(id);
    if (!run) return plain(reply, 404, `Run "${id}" not found`);
    return reply.send(withLive(run, deps.pipeline));
  });

  // The site's exact settlement of a change whose submit it never saw answered (see fences.ts): the runs
  // carrying the event, or a fence that refuses every later submit carrying it. A fence is answered only
  // once it survives power loss: the site takes its change back on the strength of it.
  app.put('/runs/fences/:timelineUuid', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const { timelineUuid } = req.params as { timelineUuid: string };
    // what a submit sends when it has no event, which no fence may stand for
    if (timelineUuid === '' || timelineUuid === 'None') return plain(reply, 400, 'Invalid timeline event: a timeline event uuid');
    let outcome;
    try {
      outcome = deps.journal.fence(timelineUuid);
      if (outcome.fenced) await deps.journal.whenDurable();
    } catch (err) {
      return plain(reply, 503, `The run journal cannot fence the event now: ${errorText(err)}; try again`);
    }
    if (outcome.fenced) return reply.send({ timeline_uuid: timelineUuid, fenced: true, fenced_at: outcome.fencedAt });
    return reply.send({ timeline_uuid: timelineUuid, fenced: false, runs: outcome.runs.map((r) => ({ run_id: r.runId, status: r.status })) });
  });

  app.get('/queue', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const { project } = singleParams(req, ['project']);
    if (project === '') return plain(reply, 400, 'Invalid "project": a project UUID');
    return reply.send({ projects: lineView(deps.journal, project) });
  });

  app.delete('/runs/:id', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const { id } = req.params as { id: string };
    const outcome = await deps.pipeline.cancel(id);
    if (outcome === 'cancelled') return reply.send({ run_id: id, cancelled: true });
    if (outcome === 'not_waiting') return plain(reply, 409, `Run "${id}" is not waiting in line (it runs, or has its turn); only a waiting run can be cancelled`);
    return plain(reply, 404, `Run "${id}" is not waiting in line (unknown, or already ended)`);
  });

  app.get('/locks/:projectUuid', async (req, reply) => {
    if (!authorized(req, reply, deps.secret)) return reply;
    const { projectUuid } = req.params as { projectUuid: string };
    try {
      projectId(projectUuid, 'A lock query');
    } catch (err) {
      // an id no flow could run with is no project's: "not locked" would be a guess
      return plain(reply, 400, errorText(err));
    }
    try {
      const locked =
        deps.quarantine.blockingRun(projectUuid) !== undefined || (await deps.locks.isLocked(projectUuid));
      return reply.send({ project_uuid: projectUuid, locked });
    } catch (err) {
      return plain(reply, 503, lockBackendError(errorText(err)));
    }
  });
}

/**
 * Whether `url` addresses one of the routes registered here, which all ask
 * for the secret before anything else. The service asks it first too of such
 * a URL that Fastify refuses before routing (an escape that does not decode),
 * so that a caller without the secret learns nothing of these endpoints.
 */
export function isSecretOnlyUrl(url: string): boolean {
  return /^\/(?:runs|queue|locks)(?:[/?]|$)/.test(url);
}
