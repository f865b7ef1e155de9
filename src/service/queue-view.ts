/**
 * The line of accepted async runs as `GET /queue` and `taskflow queue` show
 * it: one function over the journal, so both print the same for the same
 * state, and it covers every service process on the data folder: per
 * project, the runs that have their turn and the ones waiting, with
 * positions (1 runs next).
 *
 * Who has the turn is derived from the journal alone, by the rule each
 * process's line (run-line.ts) follows: a run that started and has not ended
 * has it; a run that takes no project lock has it as soon as it is accepted;
 * of a process's waiting runs of a project that take the lock, the oldest has
 * it unless that process already runs one of the project (it then waits for
 * the project lock, or for a slot of `TASKFLOW_ASYNC_CONCURRENCY`).
 *
 * @module
 */
import type { Journal } from '../engine/journal.js';
import type { QueuedRun, RunQueueStore } from '../engine/queue-store.js';
import type { JournalRunSummary } from '../engine/types.js';
import { getFlow } from '../flows/index.js';
import type { FlowInput } from '../flows/types.js';
import { ownerOf, parseRunMeta } from './run-meta.js';

/** One accepted run in a line. */
export interface LineRunView {
  run_id: string;
  flow_name: string;
  accepted_at: string;
  /** Owner id of the service process that runs it. */
  owner: string;
}

/** A project's line. */
export interface ProjectLineView {
  project_uuid: string;
  /** Runs that have their turn: started, or waiting only for the project lock or a slot. */
  running: LineRunView[];
  /** Runs waiting for their turn, in order; `position` 1 is next. */
  waiting: Array<LineRunView & { position: number }>;
}

/** Read at a time when listing the started runs. */
const RUNS_PAGE = 500;

/** Whether an accepted run waits for its project's earlier runs (a flow this version does not know: yes). */
export function takesProjectLock(q: QueuedRun): boolean {
  const input = q.input as unknown as FlowInput;
  const def = getFlow(input?.flowName);
  if (!def) return true;
  try {
    return def.needsLock(input);
  } catch {
    return true;
  }
}

const flowOf = (q: QueuedRun): string => {
  const input = q.input as { flowName?: unknown } | null;
  return typeof input?.flowName === 'string' ? input.flowName : '';
};

/** The async runs started and not ended, of one project or all, oldest first. */
function startedAsyncRuns(journal: Journal, projectUuid: string | undefined): JournalRunSummary[] {
  const out: JournalRunSummary[] = [];
  for (let offset = 0; ; offset += RUNS_PAGE) {
    const page = journal.listRuns({ status: 'running', label: projectUuid, limit: RUNS_PAGE, offset });
    out.push(...page.runs);
    if (page.runs.length < RUNS_PAGE) break;
  }
  return out.filter((r) => parseRunMeta(r.meta)?.mode === 'async').reverse();
}

/**
 * The lines of every project with accepted or started async runs, or of
 * `projectUuid` only (then always one entry, maybe empty), sorted by project.
 * Cancelled runs are left out: they never run.
 */
export function lineView(journal: Journal & RunQueueStore, projectUuid?: string): ProjectLineView[] {
  const byProject = new Map<string, ProjectLineView>();
  const lineOf = (p: string): ProjectLineView => {
    let line = byProject.get(p);
    if (!line) {
      line = { project_uuid: p, running: [], waiting: [] };
      byProject.set(p, line);
    }
    return line;
  };
  if (projectUuid !== undefined) lineOf(projectUuid);
  // project + owner pairs whose line already runs a run that took the project lock
  const busy = new Set<string>();
  for (const run of startedAsyncRuns(journal, projectUuid)) {
    const meta = parseRunMeta(run.meta)!;
    const owner = ownerOf(meta) ?? '';
    if (meta.locked) busy.add(`${meta.project_uuid}\n${owner}`);
    const acceptedAt = typeof meta.accepted_at === 'string' ? meta.accepted_at : run.startedAt;
    lineOf(meta.project_uuid).running.push({ run_id: run.runId, flow_name: run.flowName, accepted_at: acceptedAt, owner });
  }
  for (const q of journal.queuedRuns(projectUuid === undefined ? {} : { projectUuid })) {
    if (q.cancelledAt !== undefined) continue;
    const line = lineOf(q.projectUuid);
    const view: LineRunView = { run_id: q.runId, flow_name: flowOf(q), accepted_at: q.acceptedAt, owner: q.owner };
    let hasTurn = true;
    if (takesProjectLock(q)) {
      const key = `${q.projectUuid}\n${q.owner}`;
      hasTurn = !busy.has(key);
      busy.add(key);
    }
    if (hasTurn) line.running.push(view);
    else line.waiting.push({ ...view, position: line.waiting.length + 1 });
  }
  return [...byProject.values()].sort((a, b) => (a.project_uuid < b.project_uuid ? -1 : a.project_uuid > b.project_uuid ? 1 : 0));
}

/** Where a run stands in its line. */
export type LinePlace = 'running' | 'waiting' | 'absent';

/** Where run `runId` of project `projectUuid` stands, by {@link lineView}. */
export function placeInLine(journal: Journal & RunQueueStore, projectUuid: string, runId: string): LinePlace {
  const [line] = lineView(journal, projectUuid);
  if (line.running.some((r) => r.run_id === runId)) return 'running';
  if (line.waiting.some((r) => r.run_id === runId)) return 'waiting';
  return 'absent';
}
