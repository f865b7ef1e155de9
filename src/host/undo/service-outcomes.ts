/**
 * At the site's start and then at each look: the outcome of flows whose
 * pending undo no report settled, read from the taskflow service's run
 * records, or settled by a fence when the service holds no run of them. The service's
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
import type { TimelineStatus } from '../constants.js';
import { pendingUndo, settleUndo, settleUndoByStatus } from './repository.js';

/** The part of a run record of the service's `GET /runs` read here. */
interface RunRecord {
  runId: string;
  status: string;
  meta?: { timeline_uuid?: unknown };
}

/** Most runs of a project asked for at once (the service's page limit). */
const RUNS_PAGE = 500;

/** What the service's `PUT /runs/fences/<event>` answers (our service; the original has no such endpoint). */
type FenceAnswer =
  | { fenced: true; fenced_at: string }
  | { fenced: false; runs: { run_id: string; status: string }[] };

/** The timeline text of a change taken back because the service fenced its event: its flow never ran. */
export const neverRanText = (fencedAt: string): string =>
  `The flow never ran: the taskflow service holds no run of this event and refuses any later submit of it (fenced at ${fencedAt}); the change was taken back`;

/** The timeline status and text of a pending change settled by run `runId`'s status; undefined while it may still change. */
function settlementOf(runId: string, status: string): { status: TimelineStatus; text: string } | undefined {
  if (status === 'completed') return { status: 'OK', text: `Run ${runId} completed (read from the taskflow service's runs)` };
  if (status === 'rolled_back') return { status: 'FAILED', text: `Run ${runId} was rolled back (read from the taskflow service's runs)` };
  if (status === 'cancelled') return { status: 'CANCEL', text: `Run ${runId} was cancelled before it started (read from the taskflow service's runs)` };
  // running, waiting in line: its report settles it; revert_failed: left for whoever resolves the project
  return undefined;
}

/**
 * Settles each pending undo whose flow the service shows ended: completed
 * keeps the change, rolled back takes it back, each with the timeline
 * status the report would have set, in one transaction. A change with no
 * submit in flight here and no run in `GET /runs` is fenced at the service
 * (`PUT /runs/fences/<event>`): either the service finds its run after all
 * (an older one than the page read, or one labelled otherwise) and it is
 * settled by that run, or no run of it will ever be recorded, and the change
 * is taken back, its flow never having run (the site died before its submit
 * left, or the service before it journaled the submit). A run still going
 * is left to the service's report; a service that cannot be asked (down, or
 * one without `/runs` or fences, as the original SODAR Taskflow) leaves all
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
    const listed = runsOf.get(key)!.find((r) => r.meta?.timeline_uuid === eventUuid);
    let settlement: { status: TimelineStatus; text: string } | undefined;
    let neverRan = false;
    if (listed !== undefined) {
      settlement = settlementOf(listed.runId, listed.status);
    } else {
      // asked now, not before the runs were read: a submit of this process may have begun meanwhile
      // (a later one is refused by the fence, and its own failure takes the change back, once)
      if (submitsInFlight.has(eventUuid)) continue;
      const fence = await askFence(ctx, eventUuid);
      if (fence?.fenced === true) {
        settlement = { status: 'FAILED', text: neverRanText(fence.fenced_at) };
        neverRan = true;
      } else if (fence !== undefined) {
        const run = fence.runs.at(-1);
        settlement = run === undefined ? undefined : settlementOf(run.run_id, run.status);
      }
    }
    if (settlement === undefined) continue;
    const { status, text } = settlement;
    const done = await ctx.db.transaction(async (tx) => {
      if (!(await pendingUndo(tx, eventUuid))) return false;
      await addEventStatus(tx, eventUuid, status, text);
      // a flow that never ran reports no failure of its own (a zone's status): the change goes back whatever its kind
      if (neverRan) await settleUndo(tx, eventUuid, 'failed');
      else await settleUndoByStatus(tx, eventUuid, status);
      return true;
    });
    if (done) settled++;
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

/** The service's fence of `eventUuid` (see {@link FenceAnswer}); undefined when it cannot be asked or has no fences (404). */
async function askFence(ctx: SiteContext, eventUuid: string): Promise<FenceAnswer | undefined> {
  try {
    const res = await askService(ctx.config, `/runs/fences/${encodeURIComponent(eventUuid)}`, 'PUT');
    if (!res.ok) return undefined;
    const body = JSON.parse(res.text) as Partial<{ fenced: unknown; fenced_at: unknown; runs: unknown }>;
    if (body.fenced === true && typeof body.fenced_at === 'string') return { fenced: true, fenced_at: body.fenced_at };
    if (body.fenced === false && Array.isArray(body.runs)) return { fenced: false, runs: body.runs as { run_id: string; status: string }[] };
    return undefined;
  } catch {
    return undefined;
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
