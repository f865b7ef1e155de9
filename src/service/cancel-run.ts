/**
 * Cancelling an async run that waits in line, from any process on the data
 * folder (a service answering `DELETE /runs/<id>`, or `taskflow runs cancel`):
 * the run's accepted record is marked cancelled in the shared journal, which
 * then refuses to start it whichever process owns it (the mark and the start
 * are atomic against each other: exactly one wins), and the canceller reports
 * `CANCEL` to the site, once: only the call whose mark took effect reports.
 * The owner skips the run when its turn comes, silently, and forgets it.
 *
 * A run is cancellable while {@link lineView} shows it waiting; one that has
 * its turn (started, or waiting only for the project lock) is not, so what
 * the line shows and what a cancel does agree.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Journal } from '../engine/journal.js';
import type { RunQueueStore } from '../engine/queue-store.js';
import type { FlowInput } from '../flows/types.js';
import type { SiteClient } from '../site/client.js';
import { reportCancelled } from './cancel-report.js';
import { placeInLine } from './queue-view.js';

/** How cancelling a run went: cancelled; has its turn or runs (not waiting); not in line (unknown, ended, cancelled before). */
export type CancelOutcome = 'cancelled' | 'not_waiting' | 'not_found';

/** What a cancel needs. */
export interface CancelDeps {
  journal: Journal & RunQueueStore;
  site: SiteClient;
  log: Logger;
  /**
   * The caller's own line, when the caller is a service: takes the run out
   * if it waits there and says so (then nobody else will skip it, and its
   * record is forgotten at once).
   */
  takeFromOwnLine?: (runId: string) => boolean;
}

/** Where a run not (or no longer) cancellable stands. */
function notCancellable(journal: Journal, runId: string): CancelOutcome {
  return journal.getRun(runId)?.status === 'running' ? 'not_waiting' : 'not_found';
}

/** Cancels waiting run `runId`; the mark is durable and `CANCEL` reported before it resolves `cancelled`. */
export async function cancelWaitingRun(deps: CancelDeps, runId: string): Promise<CancelOutcome> {
  const { journal, log } = deps;
  const queued = journal.queuedRun(runId);
  if (queued === undefined || queued.cancelledAt !== undefined) return notCancellable(journal, runId);
  const place = placeInLine(journal, queued.projectUuid, runId);
  if (place === 'running') return 'not_waiting';
  // started (its record left with its start), or cancelled by another caller, since we looked
  if (place === 'absent' || !journal.cancelQueuedRun(runId)) return notCancellable(journal, runId);
  if (deps.takeFromOwnLine?.(runId) === true) journal.dequeueRun(runId);
  await journal.whenDurable();
  const input = queued.input as unknown as FlowInput;
  log.info({ run: runId, flow: input.flowName, project: queued.projectUuid, owner: queued.owner }, 'waiting run cancelled');
  await reportCancelled(deps.site, input, log);
  return 'cancelled';
}
