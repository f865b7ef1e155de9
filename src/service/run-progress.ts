/**
 * The progress of the runs this process is running: each run's tracker
 * (kept with its record, see `RunProgressTracker`) and its zone status
 * channel (see `ZoneProgress`), wired into the run's task context.
 * `GET /runs/<id>` shows a running run's progress from here, fresher than
 * what the journal has been given so far.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Journal } from '../engine/journal.js';
import { PROGRESS_PERSIST_MS, RunProgressTracker } from '../engine/progress.js';
import type { RunProgress } from '../engine/types.js';
import { ZoneProgress } from '../flows/zone-progress.js';
import type { SiteClient } from '../site/client.js';
import type { TaskProgress } from '../tasks/progress.js';
import { errorText } from './messages.js';

/** What follows one run's progress. */
export interface FollowedRun {
  /** For the runner. */
  tracker: RunProgressTracker;
  /** For the run's task context. */
  taskProgress: TaskProgress;
  /**
   * The run has ended: writes its last counts, and resolves once its last
   * progress callback has ended (a failure status reported next comes after it).
   */
  end(): Promise<void>;
}

/** Options of {@link LiveRuns}. */
export interface LiveRunsOptions {
  journal: Pick<Journal, 'progress'>;
  site: SiteClient;
  log: Logger;
  /** TASKFLOW_ZONE_PROGRESS_INTERVAL, in milliseconds. */
  zoneIntervalMs: number;
}

/** The runs of this process that are running, with their progress. */
export class LiveRuns {
  private readonly runs = new Map<string, RunProgressTracker>();

  constructor(private readonly opts: LiveRunsOptions) {}

  /** Starts following run `runId` of `totalTasks` tasks (of flow `flowName`). */
  follow(runId: string, flowName: string, totalTasks: number): FollowedRun {
    const { journal, site, log, zoneIntervalMs } = this.opts;
    // written to the journal at least as often as the zone hears of it, so `taskflow runs --follow` keeps up
    const tracker = new RunProgressTracker(runId, journal, totalTasks, { persistEveryMs: Math.min(PROGRESS_PERSIST_MS, zoneIntervalMs) });
    const zone = new ZoneProgress(site, {
      intervalMs: zoneIntervalMs,
      onError: (err, call) =>
        log.warn({ run: runId, flow: flowName, zone: call.zone_uuid, err: errorText(err) }, 'zone progress callback failed; the run goes on'),
    });
    const taskProgress: TaskProgress = {
      count(key, done, total) {
        tracker.count(key, done, total);
        zone.count(key, done, total);
      },
      zoneStatus: (call) => zone.zoneStatus(call),
    };
    this.runs.set(runId, tracker);
    return {
      tracker,
      taskProgress,
      end: async () => {
        tracker.end();
        try {
          await zone.close();
        } finally {
          this.runs.delete(runId);
        }
      },
    };
  }

  /** The progress of run `runId` now, when this process runs it. */
  progressOf(runId: string): RunProgress | undefined {
    return this.runs.get(runId)?.snapshot();
  }
}

/**
 * A running run's progress as its record should show it: the live one of
 * this process (newer counts), with tasks done never below what the
 * journal's task records say (they are written per task).
 */
export function withLiveProgress(recorded: RunProgress | undefined, live: RunProgress | undefined): RunProgress | undefined {
  if (live === undefined) return recorded;
  const done = Math.max(live.tasks.done, recorded?.tasks.done ?? 0);
  const counts = live.counts ?? recorded?.counts;
  return counts !== undefined ? { tasks: { done, total: live.tasks.total }, counts } : { tasks: { done, total: live.tasks.total } };
}
