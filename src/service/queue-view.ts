/**
 * The line of accepted async runs as `GET /queue` and `taskflow queue` show
 * it, read from the journal (so it covers every service process on the data
 * folder): per project, the runs that have their turn and the ones waiting,
 * with positions (1 runs next).
 *
 * @module
 */
import type { Journal } from '../engine/journal.js';
import type { QueuedRun, RunQueueStore } from '../engine/queue-store.js';

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
  /** Runs that have their turn: started, or (in the answering process) waiting only for the project lock. */
  running: LineRunView[];
  /** Runs waiting for their turn, in order; `position` 1 is next. */
  waiting: Array<LineRunView & { position: number }>;
}

const flowOf = (q: QueuedRun): string => {
  const input = q.input as { flowName?: unknown } | null;
  return typeof input?.flowName === 'string' ? input.flowName : '';
};

/**
 * The lines of every project with accepted runs, or of `projectUuid` only
 * (then always one entry, maybe empty). `hasTurn`: runs the caller knows to
 * have their turn though not started yet (its own line's heads).
 */
export function lineView(journal: Journal & RunQueueStore, projectUuid?: string, hasTurn: (runId: string) => boolean = () => false): ProjectLineView[] {
  const byProject = new Map<string, ProjectLineView>();
  if (projectUuid !== undefined) byProject.set(projectUuid, { project_uuid: projectUuid, running: [], waiting: [] });
  for (const q of journal.queuedRuns(projectUuid === undefined ? {} : { projectUuid })) {
    let line = byProject.get(q.projectUuid);
    if (!line) {
      line = { project_uuid: q.projectUuid, running: [], waiting: [] };
      byProject.set(q.projectUuid, line);
    }
    const view: LineRunView = { run_id: q.runId, flow_name: flowOf(q), accepted_at: q.acceptedAt, owner: q.owner };
    if (hasTurn(q.runId) || journal.getRun(q.runId) !== undefined) line.running.push(view);
    else line.waiting.push({ ...view, position: line.waiting.length + 1 });
  }
  return [...byProject.values()].sort((a, b) => (a.project_uuid < b.project_uuid ? -1 : a.project_uuid > b.project_uuid ? 1 : 0));
}
