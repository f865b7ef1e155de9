/**
 * At the site's start: the outcome of flows whose pending undo no report
 * settled, read from the taskflow service's run records. The service's
 * recovery reports an interrupted run to the site, and sends the report
 * again while the site is out of reach; but a report the service gave up
 * (the site refused it) never settles the row, while the run's record
 * still says how it ended.
 *
 * @module
 */
import { askService } from '../service-url.js';
import { submitsInFlight } from '../submit.js';
import type { SiteContext } from '../context.js';
import { addEventStatus } from '../timeline/repository.js';
import { settleUndoByStatus } from './repository.js';

/** The part of a run record of the service's `GET /runs` read here. */
interface RunRecord {
  runId: string;
  status: string;
  meta?: { timeline_uuid?: unknown };
}

/** Most runs of a project asked for at once (the service's page limit). */
const RUNS_PAGE = 500;

/**
 * Settles each pending undo whose flow the service shows ended: completed
 * keeps the change, rolled back takes it back, each with the timeline
 * status the report would have set, in one transaction. A run still going
 * is left to the service's report; a service that cannot be asked (down,
 * or one without `/runs`, as the original SODAR Taskflow) leaves all
 * pending. Returns how many it settled.
 */
export async function settleFromServiceRuns(ctx: SiteContext): Promise<number> {
  const pending = await ctx.db.query<{ event_uuid: string; project_uuid: string | null }>('SELECT event_uuid, project_uuid FROM pending_undos');
  if (pending.length === 0 || !(await ctx.taskflow())) return 0;
  const runsOf = new Map<string, RunRecord[]>();
  let settled = 0;
  for (const { event_uuid: eventUuid, project_uuid: projectUuid } of pending) {
    if (submitsInFlight.has(eventUuid)) continue;
    const key = projectUuid ?? '';
    if (!runsOf.has(key)) runsOf.set(key, await askRuns(ctx, projectUuid));
    const run = runsOf.get(key)!.find((r) => r.meta?.timeline_uuid === eventUuid);
    if (run?.status !== 'completed' && run?.status !== 'rolled_back') continue;
    const ok = run.status === 'completed';
    await ctx.db.transaction(async (tx) => {
      await addEventStatus(tx, eventUuid, ok ? 'OK' : 'FAILED', `Run ${run.runId} ${ok ? 'completed' : 'was rolled back'} (read from the taskflow service's runs)`);
      await settleUndoByStatus(tx, eventUuid, ok ? 'OK' : 'FAILED');
    });
    settled++;
  }
  return settled;
}

/** The service's runs of a project (all when null); none when it cannot be asked. */
async function askRuns(ctx: SiteContext, projectUuid: string | null): Promise<RunRecord[]> {
  const params = new URLSearchParams({ limit: String(RUNS_PAGE) });
  if (projectUuid) params.set('project', projectUuid);
  try {
    const res = await askService(ctx.config, `/runs?${params}`);
    if (!res.ok) return [];
    const body = JSON.parse(res.text) as { runs?: unknown };
    return Array.isArray(body.runs) ? (body.runs as RunRecord[]) : [];
  } catch {
    return [];
  }
}

/** A running {@link lookForOutcomes}. */
export interface OutcomeLooks {
  /** Stops looking; resolves once a look in progress has ended. */
  stop(): Promise<void>;
}

/**
 * Looks at the service's runs every `everyMs` for the changes whose flow's
 * outcome the site has not heard (a submit whose answer never came, see
 * `OutcomeUnknownError`), settling those whose run has ended. A look that
 * fails goes to `onError`; the next one tries again. Never keeps the process
 * alive.
 */
export function lookForOutcomes(ctx: SiteContext, everyMs: number, onError: (err: unknown) => void): OutcomeLooks {
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<void> | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      looking = settleFromServiceRuns(ctx).then(
        () => undefined,
        (err: unknown) => onError(err),
      );
      void looking.then(schedule);
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await looking;
    },
  };
}
