/**
 * The operator dashboard (superusers): the service's runs from its `/runs`
 * endpoints (filter by project, flow and status; paged), a run's tasks with
 * durations and errors, and whether the projects of unfinished runs are
 * locked. The site asks the service with the shared secret, as the backend
 * does; it never opens the service's journal itself.
 *
 * @module
 */
import { askService, serviceBaseUrl, type ServiceAnswer } from '../service-url.js';
import type { FastifyInstance } from 'fastify';
import { assertSuperuser } from '../api/access.js';
import type { SiteContext } from '../context.js';
import { HttpError } from '../errors.js';
import { listProjects } from '../repo.js';
import { lockState } from '../submit.js';
import type { Pages } from './index.js';
import { pageNumber } from './queries.js';

/** Runs a dashboard page shows. */
const RUNS_PAGE = 25;
/** The run statuses of the service's journal, for the filter. */
const RUN_STATUSES = ['running', 'completed', 'rolled_back', 'revert_failed'] as const;

interface RunSummary {
  runId: string;
  flowName: string;
  label?: string;
  status: string;
  taskCount: number;
  startedAt: string;
  endedAt?: string;
  result?: { error?: string; revertFailures?: unknown[] };
}

/** A project's line of accepted async runs, as the service's `GET /queue` answers it. */
interface ProjectLine {
  project_uuid: string;
  running: Array<{ run_id: string; flow_name: string }>;
  waiting: Array<{ run_id: string; flow_name: string; position: number }>;
}

/** Registers `/ops` and `/ops/run/<id>`. */
export function opsRoutes(app: FastifyInstance, ctx: SiteContext, pages: Pages): void {
  const ask = async <T>(path: string): Promise<T> => {
    let res: ServiceAnswer;
    try {
      res = await askService(ctx.config, path);
    } catch (err) {
      throw new HttpError(503, `The taskflow service at ${serviceBaseUrl(ctx.config)} cannot be reached: ${(err as Error).message}`);
    }
    if (!res.ok) throw new HttpError(res.status === 404 ? 404 : 502, `The taskflow service answered ${res.status}: ${res.text.slice(0, 300)}`);
    return JSON.parse(res.text) as T;
  };

  app.get<{ Querystring: Record<string, string> }>('/ops', async (req, reply) => {
    const user = await pages.user(req);
    assertSuperuser(user, 'see the operator dashboard');
    const q = req.query;
    const filter = { project: q.project ?? '', flow: q.flow ?? '', status: RUN_STATUSES.includes(q.status as never) ? q.status : '' };
    const page = pageNumber(q.page);
    const params = new URLSearchParams({ limit: String(RUNS_PAGE), offset: String((page - 1) * RUNS_PAGE) });
    if (filter.project) params.set('project', filter.project);
    if (filter.flow) params.set('flow', filter.flow);
    if (filter.status) params.set('status', filter.status);
    const answer = await ask<{ total: number; runs: RunSummary[] }>(`/runs?${params}`);
    const titles = new Map((await listProjects(ctx.db)).map((p) => [p.uuid, p.title]));
    // Projects with a run still going or stuck in a failed revert: are they locked now?
    const open = [...new Set(answer.runs.filter((r) => r.status === 'running' || r.status === 'revert_failed').map((r) => r.label).filter((l): l is string => !!l))];
    const locks = await Promise.all(open.map(async (uuid) => ({ uuid, title: titles.get(uuid) ?? uuid, locked: await lockState(ctx, uuid) })));
    // The line of accepted async runs; a service without `GET /queue` (the original) cannot show one.
    const line = await ask<{ projects: ProjectLine[] }>(filter.project ? `/queue?project=${encodeURIComponent(filter.project)}` : '/queue').then(
      (a) => a.projects.filter((p) => p.running.length + p.waiting.length > 0).map((p) => ({ ...p, title: titles.get(p.project_uuid) ?? p.project_uuid })),
      (err: unknown) => {
        if (err instanceof HttpError && err.status === 404) return undefined;
        throw err;
      },
    );
    const pagesTotal = Math.max(1, Math.ceil(answer.total / RUNS_PAGE));
    const keep = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== '')).toString();
    return pages.show(req, reply, 'ops.njk', {
      title: 'Operator dashboard',
      runs: answer.runs.map((r) => ({ ...r, projectTitle: r.label ? (titles.get(r.label) ?? r.label) : '' })),
      total: answer.total,
      page,
      pages: pagesTotal,
      filter,
      statuses: RUN_STATUSES,
      locks,
      line: line ?? [],
      lineKnown: line !== undefined,
      keep: keep ? `&${keep}` : '',
    });
  });

  app.get<{ Params: { run: string } }>('/ops/run/:run', async (req, reply) => {
    const user = await pages.user(req);
    assertSuperuser(user, 'see the operator dashboard');
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(req.params.run)) throw new HttpError(404, 'Run not found');
    const run = await ask<RunSummary & { tasks: { index: number; name: string; kind: string; state: string; durationMs?: number; revertMs?: number; error?: string }[] }>(
      `/runs/${encodeURIComponent(req.params.run)}`,
    );
    return pages.show(req, reply, 'run.njk', { title: `Run ${run.runId}`, run });
  });
}
