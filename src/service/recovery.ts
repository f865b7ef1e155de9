/**
 * Recovery of runs whose service process is gone: every run the journal
 * shows unfinished whose owner's lease (see `OwnerLeases`) has run out or
 * was released is taken over, reverted from the journal alone, its outcome
 * reported to the site (timeline event, zone status), and its project lock
 * freed. A run whose revert fails stays `revert_failed` and its project
 * quarantined. An async run that finished but whose outcome its process
 * never reported (it died between the run's final record and the journal's
 * mark that the site has the report) is taken over the same way and
 * reported, once (see {@link reportUnreportedRuns}). The service looks at start-up and then every quarter of a
 * lease (see {@link RecoveryWatch}), so a run of a peer that dies while this
 * process lives is recovered about one lease period after the death.
 *
 * A site out of reach (see `SiteCallError.retryLater`) fails nothing: a
 * revert that cannot reach it leaves the run unfinished, its project lease
 * kept (see {@link RecoveryDeps.keptLeases}), and a report that cannot reach it leaves the
 * run unreported; the next look (or a submit that finds the run) tries again.
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
import { RevertDeferredError, recoverRun } from '../engine/index.js';
import type { Journal } from '../engine/journal.js';
import type { QueuedRun, RunQueueStore } from '../engine/queue-store.js';
import type { JournalRun, JournalRunSummary, RunResult } from '../engine/types.js';
import { getFlow } from '../flows/index.js';
import type { FlowDeps } from '../flows/types.js';
import type { OwnerLeases } from '../locks/owner-lease.js';
import type { LockHandle, LockManager } from '../locks/types.js';
import { LockBusyError } from '../locks/types.js';
import { siteOutOfReach, type SiteClient } from '../site/client.js';
import type { FlowStore } from '../store/types.js';
import type { TaskContext } from '../tasks/context.js';
import { taskRegistry } from '../tasks/index.js';
import { errorText } from './messages.js';
import { quarantineReason } from './quarantine.js';
import type { OutcomeReporter, ReportDelivery } from './reporter.js';
import { inputOfRun, ownerOf, parseRunMeta, type RunMeta } from './run-meta.js';
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
  journal: Journal & RunQueueStore;
  locks: LockManager;
  /** This process's owner lease; dead owners' leases are taken over through it. */
  owners: OwnerLeases;
  stores: Pick<StoreProvider, 'get'>;
  site: SiteClient;
  reporter: OutcomeReporter;
  /** Takes a gone owner's accepted runs that never started into this process's line, in submit order. */
  adopt?: (runs: QueuedRun[]) => Promise<void>;
  /**
   * The project leases of runs whose revert waits for the site, by run id:
   * one map per service, made with its recovery deps and passed to every
   * look. Kept from one look to the next so that the project stays locked,
   * to `GET /locks` and to every submit here or in a peer, as long as the
   * run owes its revert; released once the run has ended (see
   * {@link recoverOne}), or when the service stops, when the next owner
   * takes the run on.
   */
  keptLeases: Map<string, LockHandle>;
  /** Sends again the reports of this process's own runs that the site could not take (each look does, first). */
  retryOwedReports?: () => Promise<void>;
}

/** Releases the kept leases of runs that are no longer unfinished (`unfinished` undefined: all of them). */
async function releaseKeptLeases(deps: RecoveryDeps, unfinished?: ReadonlySet<string>): Promise<void> {
  const kept = deps.keptLeases;
  for (const [runId, lease] of kept) {
    if (unfinished?.has(runId)) continue;
    kept.delete(runId);
    await lease.release().catch(() => undefined);
  }
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
  await deps.retryOwedReports?.();
  const byOwner = new Map<string, string[]>();
  const unfinishedNow = journal.unfinishedRuns();
  // a run whose lease was lost meanwhile may have been finished by a peer
  await releaseKeptLeases(deps, new Set(unfinishedNow));
  for (const runId of unfinishedNow) {
    const owner = ownerOf(parseRunMeta(journal.getRun(runId)?.meta)) ?? unownedRun(runId);
    if (owner === owners.id) continue; // ours, and we live
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), runId]);
  }
  // owners with finished runs they never reported are gone too once their lease is (ours: reports in flight)
  for (const run of journal.unreportedRuns()) {
    const owner = ownerOfRun(run);
    if (owner !== owners.id && !byOwner.has(owner)) byOwner.set(owner, []);
  }
  // owners with accepted runs only (none started) are gone too once their lease is
  for (const owner of journal.queuedOwners()) if (owner !== owners.id && !byOwner.has(owner)) byOwner.set(owner, []);
  const results: RunResult[] = [];
  let store: FlowStore | undefined;
  for (const [owner, runIds] of byOwner) {
    let claim: LockHandle | undefined;
    try {
      claim = await owners.takeOver(owner);
    } catch (err) {
      throw new RecoveryError(runIds[0], `owner lease: ${errorText(err)}`);
    }
    if (!claim) {
      log.debug({ owner, runs: runIds }, 'unfinished or unreported runs belong to a live process; left to it');
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
        try {
          const result = await recoverOne(deps, store, run);
          if (result) results.push(result);
        } catch (err) {
          if (!(err instanceof RevertDeferredError)) throw err;
          log.warn({ run: runId, owner, flow: run.flowName, err: errorText(err) }, 'revert of an interrupted run waits for the site; tried again at the next look');
        }
      }
      if (claim.lost) throw new RecoveryError(owner, `owner lease of ${owner} lost while recovering: ${claim.lostReason}`);
      await reportUnreportedRuns(deps, owner, claim, async () => {
        try {
          return (store ??= await deps.stores.get());
        } catch (err) {
          throw new RecoveryError(owner, `the data store cannot be opened: ${errorText(err)}`);
        }
      });
      // Still under the claim: the accepted runs become ours, so exactly one process runs them.
      await adoptAcceptedRuns(deps, owner);
    } finally {
      await claim.release().catch(() => undefined);
    }
  }
  return results;
}

/** The owner lease a journaled run is taken over under. */
const ownerOfRun = (run: JournalRunSummary): string => ownerOf(parseRunMeta(run.meta)) ?? unownedRun(run.runId);

/**
 * Reports the finished runs of gone owner `owner` (the caller holds its
 * lease) whose outcome it never reported, as it would have, and marks each
 * reported. Read under the claim: a taker before us may have reported some,
 * and no other process reports them while we hold it.
 *
 * Each report reaches the site once, except when this process (or the
 * run's own, see `SubmitPipeline.reportAsync`) dies after the site answered
 * and before the mark is committed: the next taker sends it again. What the
 * site does with a second one: the timeline status set adds a status row
 * (sodar-core's timeline app, read in bihealth/sodar-core-legacy, the line
 * v0.10 belongs to, at commits e272851 and 24a0625, no tag pinned:
 * `TaskflowEventStatusSetAPIView` calls `ProjectEvent.set_status`, which
 * saves a new `ProjectEventStatus`, and the current status is the newest
 * row; the reference site's `addEventStatus` likewise), so the event's
 * status stays the same and its history shows it twice. The zone status set of the reference site leaves a finished zone
 * (MOVED, FAILED) as it is; SODAR's (`TaskflowZoneStatusSetAPIView`) sets
 * the same status again and, for FAILED, adds the owner's alert and email
 * once more.
 */
async function reportUnreportedRuns(deps: RecoveryDeps, owner: string, claim: LockHandle, store: () => Promise<FlowStore>): Promise<void> {
  const { journal, log } = deps;
  for (const run of journal.unreportedRuns()) {
    if (ownerOfRun(run) !== owner || run.result === undefined) continue;
    if (claim.lost) throw new RecoveryError(run.runId, `owner lease of ${owner} lost while reporting: ${claim.lostReason}`);
    log.warn({ run: run.runId, owner, flow: run.flowName, outcome: run.status }, 'finished run of a process that is gone was never reported; reporting it');
    await reportOutcome(deps, await store(), run, run.result);
  }
}

/**
 * Tells the site how a run of a process that is gone ended, as that process
 * would have (timeline event; for a failure also the flow's own report, the
 * zone status; a failed revert leaves its project quarantined, as the
 * journal says), then marks it reported, durably before the caller releases
 * the owner's claim: the next taker must not report it again. A site out of
 * reach gets no mark: the run stays among the unreported, for the next look.
 */
async function reportOutcome(deps: RecoveryDeps, store: FlowStore, run: JournalRunSummary, result: RunResult): Promise<void> {
  const meta = parseRunMeta(run.meta);
  if (meta && (await reportRunEnd(deps.reporter, run.flowName, meta, result, { store, site: deps.site, config: deps.config })) === 'owed') {
    deps.log.warn({ run: run.runId, flow: run.flowName, outcome: result.status }, 'the site cannot be reached for the report of a recovered run; reported at a later look');
    return;
  }
  deps.journal.reported(run.runId);
  await deps.journal.whenDurable();
}

/**
 * Tells the site how a run ended when no process that ran it is there to
 * tell it, from the run's journaled meta and its result: the timeline event
 * and, for a failure, the flow's own report (a zone: FAILED with the reason).
 * Recovery reports a run so, and so does `taskflow runs retry-revert` once
 * it has rolled one back (its reverts set the zone back to the status the
 * run found, a busy one).
 */
export function reportRunEnd(reporter: OutcomeReporter, flowName: string, meta: RunMeta, result: RunResult, deps: FlowDeps): Promise<ReportDelivery> {
  const reason = result.status === 'completed' ? undefined : failureReason(result);
  return reporter.ended(getFlow(flowName), inputOfRun(flowName, meta), deps, reason);
}

/**
 * Takes the accepted async runs of gone owner `owner` (the caller holds its
 * lease): one that never started is given to this process and put in its
 * line; one cancelled is forgotten; one that started (only an earlier
 * version kept such records) and has ended is forgotten (its outcome was or
 * is reported by recovery); one still unfinished stays for recovery.
 */
async function adoptAcceptedRuns(deps: RecoveryDeps, owner: string): Promise<void> {
  const { journal, owners, log } = deps;
  const adopted: QueuedRun[] = [];
  for (const q of journal.queuedRuns({ owner })) {
    if (q.cancelledAt !== undefined) {
      // cancelled while it waited (the canceller reported it): it never runs
      journal.dequeueRun(q.runId);
      continue;
    }
    // a record of an earlier version may outlive its run's start
    const run = journal.getRun(q.runId);
    if (run === undefined) {
      journal.setQueuedOwner(q.runId, owners.id);
      adopted.push({ ...q, owner: owners.id });
    } else if (run.status !== 'running') {
      journal.dequeueRun(q.runId);
    }
  }
  if (adopted.length === 0) return;
  await journal.whenDurable();
  log.warn({ owner, runs: adopted.length }, 'accepted runs of a process that is gone; taking them over');
  await deps.adopt?.(adopted);
}

/**
 * Reverts (or rolls forward) one run whose owner is gone and reports it.
 * Undefined when left to a live lock holder. `projectLockHeld`: the caller
 * holds the run's project lock already (a submit that found the run).
 * Throws {@link RevertDeferredError} when the revert waits for the site;
 * the run's project lease is then kept for the next try.
 */
async function recoverOne(deps: RecoveryDeps, store: FlowStore, run: JournalRun, projectLockHeld = false): Promise<RunResult | undefined> {
  const { journal, log, config } = deps;
  const runId = run.runId;
  const meta = parseRunMeta(run.meta);
  const ctx: TaskContext = { store, site: deps.site, config };
  const kept = deps.keptLeases;
  let lock = kept.get(runId);
  kept.delete(runId);
  if (lock !== undefined && (lock.lost || projectLockHeld)) {
    // lost: no longer ours to keep; a submit holding the project's lock: that lease is the one that counts
    await lock.release().catch(() => undefined);
    lock = undefined;
  }
  if (meta?.locked && !projectLockHeld && lock === undefined) {
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
      await reportOutcome(deps, store, run, result);
      return result;
    }
    let result: RunResult | undefined;
    try {
      result = await recoverRun(journal, taskRegistry, ctx, runId, { retryLater: siteOutOfReach });
    } catch (err) {
      if (err instanceof RevertDeferredError && lock !== undefined) {
        kept.set(runId, lock);
        lock = undefined;
      }
      throw err;
    }
    if (!result) return undefined;
    // Durable before the claim is released: the next taker must read it as finished.
    await journal.whenDurable();
    log.warn(
      { run: runId, flow: run.flowName, project: meta?.project_uuid, outcome: result.status, reverted: result.reverted },
      'recovered unfinished run',
    );
    await reportOutcome(deps, store, run, result);
    return result;
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

/** Why a submit holding a project lock must not run: an interrupted run of the project is not recovered yet. */
const interruptedReason = (runId: string, why: string): string =>
  `an interrupted run (${runId}) of the project is being recovered; try again shortly (${why})`;

/**
 * For a submit that holds the lock of `projectUuid`, before it builds its
 * flow: recovers the project's runs left unfinished by owners that are gone
 * (with or without the project lock), so the submit never runs on top of a
 * half-finished run. A dead owner's project lease runs out up to a quarter
 * lease before the watch's next look (and at start-up the service listens
 * before that owner's lease may have run out), and a submit in that gap
 * wins the lock.
 *
 * Recovered here, not left to the watch with a 503: the submit already holds
 * the project lock, which is what recovery would wait for, and taking over
 * the owner's lease makes the recovery exclusive exactly as in a look (the
 * watch or a peer that comes later reads the run as finished). So the
 * submit goes on at once instead of failing and being retried; only when
 * the owner's lease is still held (it may live: its lock was lost, or it
 * died less than a lease ago) or another taker is at it does the submit
 * give up. Undefined when the submit may run; else the reason it may not.
 */
export async function recoverProjectRuns(deps: RecoveryDeps, projectUuid: string): Promise<string | undefined> {
  const { journal, log, owners } = deps;
  // The one cost every locked submit pays: a probe of the journal's index of runs in flight.
  const byOwner = new Map<string, { runIds: string[]; locked: boolean }>();
  for (const summary of journal.unfinishedRunsLabelled(projectUuid)) {
    const meta = parseRunMeta(summary.meta);
    if (!meta || meta.project_uuid !== projectUuid) continue;
    const owner = ownerOf(meta) ?? unownedRun(summary.runId);
    if (owner === owners.id) continue; // ours, and we live
    const found = byOwner.get(owner) ?? { runIds: [], locked: false };
    found.runIds.push(summary.runId);
    found.locked ||= meta.locked === true;
    byOwner.set(owner, found);
  }
  for (const [owner, { runIds, locked }] of byOwner) {
    let claim: LockHandle | undefined;
    try {
      claim = await owners.takeOver(owner);
    } catch (err) {
      if (!locked) continue;
      return interruptedReason(runIds[0], `owner lease: ${errorText(err)}`);
    }
    // Runs without the project lock (zone creations and deletions, validate-only moves) of an owner
    // that lives run beside this one by design; a gone owner's are recovered here as its locked ones
    // are, so that nothing locked runs on top of a half-done zone creation.
    if (!claim && !locked) continue;
    if (!claim) return interruptedReason(runIds[0], 'its process may still live, or another process is recovering it');
    try {
      for (const runId of runIds) {
        // Read again now that the claim is ours: a taker before us may have finished it.
        const run = journal.getRun(runId);
        if (!run || run.status !== 'running') continue;
        let result: RunResult | undefined;
        try {
          const store = await deps.stores.get();
          log.warn({ run: runId, owner, flow: run.flowName, project: projectUuid }, 'interrupted run found by a submit; taking it over');
          result = await recoverOne(deps, store, run, true);
        } catch (err) {
          return interruptedReason(runId, errorText(err));
        }
        if (claim.lost) return interruptedReason(runId, `owner lease lost while recovering: ${claim.lostReason}`);
        if (result?.status === 'revert_failed') return quarantineReason(runId);
      }
    } finally {
      await claim.release().catch(() => undefined);
    }
  }
  return undefined;
}

/**
 * Looks for runs to take over every `periodMs`, after the start-up look,
 * until stopped. A look that fails is logged and tried again next period.
 * Submits ask it (see {@link RecoveryWatch.clearProject}) to clear their
 * project before they run.
 */
export class RecoveryWatch {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private stopped = false;
  /** A look was asked for while one was in progress: look again when it ends. */
  private again = false;

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
    // the runs stay unfinished in the journal: whoever takes their owner next locks their projects again
    await releaseKeptLeases(this.deps);
  }

  /** Looks now instead of at the end of the period (after the look in progress, if any). */
  lookNow(): void {
    if (this.stopped) return;
    if (this.looking !== undefined) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.lookThenSchedule();
  }

  /**
   * For a submit holding the project lock: see {@link recoverProjectRuns}.
   * When the submit may not run, the watch looks at once, so the run is
   * recovered as soon as it can be rather than a period later.
   */
  async clearProject(projectUuid: string): Promise<string | undefined> {
    const reason = await recoverProjectRuns(this.deps, projectUuid);
    if (reason !== undefined) {
      this.deps.log.warn({ project: projectUuid, reason }, 'submit refused: interrupted run of the project not recovered yet');
      this.lookNow();
    }
    return reason;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.lookThenSchedule(), this.periodMs);
    // The server keeps the process alive, not this timer.
    this.timer.unref();
  }

  private lookThenSchedule(): void {
    this.looking = this.look().finally(() => {
      this.looking = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.lookThenSchedule();
      } else {
        this.schedule();
      }
    });
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
