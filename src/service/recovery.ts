/**
 * Recovery of runs whose service process is gone: every run the journal
 * shows unfinished whose owner's lease (see `OwnerLeases`) has run out or
 * was released is taken over, reverted from the journal alone, its outcome
 * reported to the site (timeline event, zone status), and its project lock
 * freed. A run whose revert fails stays `revert_failed` and its project
 * quarantined. The service looks at start-up and then every quarter of a
 * lease (see {@link RecoveryWatch}), so a run of a peer that dies while this
 * process lives is recovered about one lease period after the death.
 *
 * Taking over is exclusive: the taker holds the dead owner's lease while it
 * recovers, and reads the journal again once it holds it, so a run is never
 * reverted by two processes. A locked run's project lease is also won only
 * once its holder has stopped renewing it.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { recoverRun } from '../engine/index.js';
import type { Journal } from '../engine/journal.js';
import type { JournalRun, RunResult } from '../engine/types.js';
import { getFlow } from '../flows/index.js';
import type { OwnerLeases } from '../locks/owner-lease.js';
import type { LockHandle, LockManager } from '../locks/types.js';
import { LockBusyError } from '../locks/types.js';
import type { SiteClient } from '../site/client.js';
import type { DataStore } from '../store/types.js';
import type { TaskContext } from '../tasks/context.js';
import { taskRegistry } from '../tasks/index.js';
import { Text, asyncRunError, errorText, runError } from './messages.js';
import type { ProjectQuarantine } from './quarantine.js';
import type { OutcomeReporter } from './reporter.js';
import { inputOfRun, ownerOf, parseRunMeta } from './run-meta.js';
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
  /** This process's owner lease; dead owners' leases are taken over through it. */
  owners: OwnerLeases;
  stores: Pick<StoreProvider, 'get'>;
  site: SiteClient;
  quarantine: ProjectQuarantine;
  reporter: OutcomeReporter;
}

/** How long recovery polls for a crashed holder's project lease to expire. */
const LEASE_POLL_MS = 250;

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

/**
 * The lease a run without an owner id (not written by this version) is taken
 * over under: none holds it, so the first process to look recovers the run.
 */
const unownedRun = (runId: string): string => `unowned/${runId}`;

/**
 * One look: takes over the unfinished runs of owners that are gone and
 * reverts them. Returns their results. Throws {@link RecoveryError} when a
 * run cannot be recovered safely (the lock backend or the store fails); the
 * runs not reached stay for the next look.
 */
export async function recoverUnfinishedRuns(deps: RecoveryDeps): Promise<RunResult[]> {
  const { journal, log, owners } = deps;
  const byOwner = new Map<string, string[]>();
  for (const runId of journal.unfinishedRuns()) {
    const owner = ownerOf(parseRunMeta(journal.getRun(runId)?.meta)) ?? unownedRun(runId);
    if (owner === owners.id) continue; // ours, and we live
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), runId]);
  }
  const results: RunResult[] = [];
  let store: DataStore | undefined;
  for (const [owner, runIds] of byOwner) {
    let claim: LockHandle | undefined;
    try {
      claim = await owners.takeOver(owner);
    } catch (err) {
      throw new RecoveryError(runIds[0], `owner lease: ${errorText(err)}`);
    }
    if (!claim) {
      log.debug({ owner, runs: runIds }, 'unfinished runs belong to a live process; left to it');
      continue;
    }
    try {
      // Read again now that the claim is ours: a peer that held it before may have recovered some.
      const unfinished = new Set(journal.unfinishedRuns());
      for (const runId of runIds) {
        const run = journal.getRun(runId);
        if (!run || !unfinished.has(runId)) continue;
        if (claim.lost) throw new RecoveryError(runId, `owner lease of ${owner} lost while recovering: ${claim.lostReason}`);
        try {
          store ??= await deps.stores.get();
        } catch (err) {
          throw new RecoveryError(runId, `the data store cannot be opened: ${errorText(err)}`);
        }
        log.warn({ run: runId, owner, flow: run.flowName }, 'unfinished run of a process that is gone; taking it over');
        const result = await recoverOne(deps, store, run);
        if (result) results.push(result);
      }
    } finally {
      await claim.release().catch(() => undefined);
    }
  }
  return results;
}

/** Reverts (or rolls forward) one run whose owner is gone and reports it. Undefined when left to a live lock holder. */
async function recoverOne(deps: RecoveryDeps, store: DataStore, run: JournalRun): Promise<RunResult | undefined> {
  const { journal, log, config } = deps;
  const runId = run.runId;
  const meta = parseRunMeta(run.meta);
  const ctx: TaskContext = { store, site: deps.site, config };
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
        return undefined;
      }
      throw new RecoveryError(runId, `project lock: ${errorText(err)}`);
    }
  }
  try {
    if (run.tasks.length > 0 && run.tasks.every((t) => t.state === 'done') && meta?.force_fail !== true) {
      // Every task finished; only the final record is missing. Reverting now would undo a
      // flow whose last step the site already saw (a zone MOVED never changes again): roll forward.
      const result = await rollForward(journal, run.runId, run.flowName, run.tasks.length);
      log.warn({ run: runId, flow: run.flowName, project: meta?.project_uuid, outcome: 'completed' }, 'recovered finished run');
      if (meta) await deps.reporter.timeline(inputOfRun(run.flowName, meta), true, Text.asyncOk);
      return result;
    }
    const result = await recoverRun(journal, taskRegistry, ctx, runId);
    if (!result) return undefined;
    // Durable before the claim is released: the next taker must read it as finished.
    await journal.whenDurable();
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
      if (def) await deps.reporter.failure(def, input, ctx, { stage: 'run', reason });
      await deps.reporter.timeline(input, false, text);
    }
    return result;
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

/**
 * Looks for runs to take over every `periodMs`, after the start-up look,
 * until stopped. A look that fails is logged and tried again next period.
 */
export class RecoveryWatch {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: RecoveryDeps,
    private readonly periodMs: number,
  ) {}

  /** Starts looking every period. */
  start(): void {
    this.schedule();
  }

  /** Stops looking; resolves once a look in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.looking;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.looking = this.look().finally(() => {
        this.looking = undefined;
        this.schedule();
      });
    }, this.periodMs);
    // The server keeps the process alive, not this timer.
    this.timer.unref();
  }

  private async look(): Promise<void> {
    const { owners, log } = this.deps;
    try {
      // Held again after an outage of the lease store: until then peers may take our runs for dead.
      if (!owners.held && !(await owners.hold())) {
        log.error({ owner: owners.id }, 'this process\'s owner lease is held by a peer that took it for dead');
      }
    } catch (err) {
      log.warn({ owner: owners.id, err: errorText(err) }, 'owner lease cannot be renewed');
    }
    try {
      await recoverUnfinishedRuns(this.deps);
    } catch (err) {
      log.error({ err: errorText(err) }, 'recovery failed; trying again in one period');
    }
  }
}
