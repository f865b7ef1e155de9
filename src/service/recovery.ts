/**
 * Start-up recovery: every run the journal shows unfinished (the service
 * died in it) is reverted from the journal alone, its outcome reported to the
 * site (timeline event, zone status), and its project lock freed. A run whose
 * revert fails stays `revert_failed` and its project quarantined.
 *
 * Runs of another live service process sharing the data folder are left
 * alone: their owner is recorded in the run's meta, and a locked run's
 * project lease is only won once its holder has stopped renewing it.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { recoverRuns } from '../engine/index.js';
import type { Journal } from '../engine/journal.js';
import type { RunResult } from '../engine/types.js';
import { getFlow } from '../flows/index.js';
import type { LockHandle, LockManager } from '../locks/types.js';
import { LockBusyError } from '../locks/types.js';
import type { SiteClient } from '../site/client.js';
import type { TaskContext } from '../tasks/context.js';
import { taskRegistry } from '../tasks/index.js';
import { Text, asyncRunError, errorText, runError } from './messages.js';
import type { ProjectQuarantine } from './quarantine.js';
import type { OutcomeReporter } from './reporter.js';
import { inputOfRun, ownerIsAlive, parseRunMeta } from './run-meta.js';
import type { StoreProvider } from './store-provider.js';
import { failureReason } from './submit-pipeline.js';

/** Raised when an unfinished run cannot be recovered safely; the service does not start. */
export class RecoveryError extends Error {
  override readonly name = 'RecoveryError';
  constructor(
    readonly runId: string,
    reason: string,
  ) {
    super(`Cannot recover unfinished run ${runId}: ${reason}`);
  }
}

/** What recovery needs. */
export interface RecoveryDeps {
  config: Config;
  log: Logger;
  journal: Journal;
  locks: LockManager;
  stores: StoreProvider;
  site: SiteClient;
  quarantine: ProjectQuarantine;
  reporter: OutcomeReporter;
}

/** How long recovery polls for a crashed holder's project lease to expire. */
const LEASE_POLL_MS = 250;

/** The journal as seen by `recoverRuns`, restricted to one unfinished run. */
function singleRunView(journal: Journal, runId: string): Journal {
  return new Proxy(journal, {
    get(target, prop) {
      if (prop === 'unfinishedRuns') return () => [runId];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Records a run whose tasks all completed as `completed`, durably. */
async function rollForward(journal: Journal, runId: string, flowName: string, total: number): Promise<RunResult> {
  const result: RunResult = {
    runId,
    flowName,
    status: 'completed',
    total,
    completed: total,
    reverted: 0,
    revertFailures: [],
    durationMs: 0,
    executeMs: 0,
    revertMs: 0,
  };
  journal.finish(runId, result);
  await journal.whenDurable();
  return result;
}

/** Reverts the unfinished runs of dead processes. Returns their results. Throws {@link RecoveryError}. */
export async function recoverUnfinishedRuns(deps: RecoveryDeps): Promise<RunResult[]> {
  const { journal, log, config } = deps;
  const ids = journal.unfinishedRuns();
  if (ids.length === 0) return [];
  let store;
  try {
    store = await deps.stores.get();
  } catch (err) {
    throw new RecoveryError(ids[0], `the data store cannot be opened: ${errorText(err)}`);
  }
  const ctx: TaskContext = { store, site: deps.site, config };
  const results: RunResult[] = [];
  for (const runId of ids) {
    const run = journal.getRun(runId);
    if (!run) continue;
    const meta = parseRunMeta(run.meta);
    if (meta && ownerIsAlive(meta)) {
      log.info({ run: runId, pid: meta.owner.pid }, 'unfinished run belongs to a live process; left to it');
      continue;
    }
    let lock: LockHandle | undefined;
    if (meta?.locked) {
      try {
        // A crashed holder's lease runs out within one lease period.
        lock = await deps.locks.acquire(meta.project_uuid, {
          retryCount: Math.ceil((config.lockLeaseSeconds * 1000) / LEASE_POLL_MS) + 4,
          retryIntervalMs: LEASE_POLL_MS,
        });
      } catch (err) {
        if (err instanceof LockBusyError) {
          log.warn({ run: runId, project: meta.project_uuid }, 'project lock still held by a live holder; run left to it');
          continue;
        }
        throw new RecoveryError(runId, `project lock: ${errorText(err)}`);
      }
    }
    try {
      if (run.tasks.length > 0 && run.tasks.every((t) => t.state === 'done') && meta?.force_fail !== true) {
        // Every task finished; only the final record is missing. Reverting now would undo a
        // flow whose last step the site already saw (a zone MOVED never changes again): roll forward.
        results.push(await rollForward(journal, run.runId, run.flowName, run.tasks.length));
        log.warn({ run: runId, flow: run.flowName, project: meta?.project_uuid, outcome: 'completed' }, 'recovered finished run');
        if (meta) await deps.reporter.timeline(inputOfRun(run.flowName, meta), true, Text.asyncOk);
        continue;
      }
      const [result] = await recoverRuns(singleRunView(journal, runId), taskRegistry, ctx);
      if (!result) continue;
      results.push(result);
      log.warn(
        { run: runId, flow: run.flowName, project: meta?.project_uuid, outcome: result.status, reverted: result.reverted },
        'recovered unfinished run',
      );
      if (result.status === 'revert_failed' && meta) deps.quarantine.add(meta.project_uuid);
      if (meta) {
        const input = inputOfRun(run.flowName, meta);
        const reason = failureReason(result);
        const text = input.requestMode === 'async' ? asyncRunError(reason) : runError(reason);
        const def = getFlow(run.flowName);
        if (def) await deps.reporter.failure(def, input, { store, site: deps.site, config }, text);
        await deps.reporter.timeline(input, false, text);
      }
    } finally {
      await lock?.release().catch(() => undefined);
    }
  }
  return results;
}
