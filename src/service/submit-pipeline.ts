/**
 * The submit pipeline of protocol section 2: parse → authenticate → find flow
 * → open store → validate → (async: enqueue, answer True) → lock → build →
 * run → unlock → answer. Each step answers with the protocol's status code and
 * plain-text body; nothing a client sends makes it throw.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Journal } from '../engine/journal.js';
import type { QueuedRun, RunQueueStore } from '../engine/queue-store.js';
import type { Json } from '../engine/types.js';
import { FORCED_FAILURE_MESSAGE, FORCED_FAILURE_POINT, RunCancelledError, RunEndNotRecordedError, RunFencedError, newRunId, runFlow } from '../engine/index.js';
import type { RunFences } from '../engine/fences.js';
import type { RunProgress, RunResult } from '../engine/types.js';
import { FlowValidationError } from '../flows/errors.js';
import { getFlow } from '../flows/index.js';
import type { FlowDefinition, FlowDeps, FlowFailure, FlowInput, RequestMode } from '../flows/types.js';
import type { LockHandle, LockManager } from '../locks/types.js';
import { LockBackendError, LockBusyError } from '../locks/types.js';
import type { SiteClient } from '../site/client.js';
import type { TaskContext } from '../tasks/context.js';
import { secretMatches } from './auth.js';
import {
  Text,
  asyncRunError,
  buildError,
  echoed,
  errorText,
  FENCED_STATUS,
  fencedSubmit,
  flowNotSupported,
  lockBackendError,
  missingArgument,
  runError,
  storeInitError,
  validationError,
  zoneFileLimitExceeded,
  zoneValidateLimitReached,
} from './messages.js';
import { ValidationSlots, isZoneMove, zoneFilesUpTo } from './zone-limits.js';
import { LocalProjectQueue } from './local-project-queue.js';
import { ProjectQuarantine, quarantineReason } from './quarantine.js';
import { OutcomeReporter, type ReportDelivery } from './reporter.js';
import { runMetaOf } from './run-meta.js';
import type { StoreProvider } from './store-provider.js';
import { parseSubmitBody } from './submit-request.js';
import type { FreezeHook, PauseHook, ReportHook, UnjournaledFreezeHook } from './test-hooks.js';
import { LiveRuns } from './run-progress.js';
import { QueueClosedError, WorkQueue } from './work-queue.js';
import { RunLine, type LineEntry } from './run-line.js';
import { AcceptGroup } from './accept-group.js';
import { cancelWaitingRun, type CancelOutcome } from './cancel-run.js';

/** A status code and plain-text body. */
export interface Answer {
  status: number;
  body: string;
}

/** How a submit ended, for the log line. */
export type SubmitOutcome =
  | 'invalid_argument'
  | 'unauthorized'
  | 'unknown_flow'
  | 'store_error'
  | 'invalid'
  | 'quarantined'
  | 'locked'
  | 'lock_error'
  | 'build_error'
  | 'completed'
  | 'rolled_back'
  | 'revert_failed'
  | 'accepted'
  | 'limited'
  | 'not_started'
  | 'cancelled'
  | 'fenced';

/** The result of running a validated submit (sync answer, or async report). */
interface Execution extends Answer {
  outcome: SubmitOutcome;
  /** What went wrong, for the timeline; undefined on success. */
  reason?: string;
  /** Where and why it failed, for the flow's own report (zone status); undefined on success. */
  failure?: FlowFailure;
  result?: RunResult;
}

/** A held project lease and this process's turn for the project. */
interface HeldLock {
  lock: LockHandle;
  endTurn: () => void;
}

/** Everything the pipeline works with. */
export interface PipelineDeps {
  config: Config;
  log: Logger;
  site: SiteClient;
  stores: StoreProvider;
  locks: LockManager;
  journal: Journal & RunQueueStore & RunFences;
  quarantine: ProjectQuarantine;
  /** Async runs. */
  asyncQueue: WorkQueue;
  /** Lock-free `validate_only` zone moves. */
  validationQueue: WorkQueue;
  /** This process's owner lease id, recorded as the owner of its runs. */
  ownerId: string;
  /** Clears a project of runs interrupted by processes that are gone; none: nothing to clear (tests). */
  interruptedRuns?: InterruptedRuns;
  freezeHook?: FreezeHook;
  unjournaledFreezeHook?: UnjournaledFreezeHook;
  pauseHook?: PauseHook;
  reportHook?: ReportHook;
}

/**
 * Runs of a project that a process that is gone left unfinished (see
 * `RecoveryWatch.clearProject`): asked by every submit once it holds the
 * project lock, before it builds its flow.
 */
export interface InterruptedRuns {
  /** Recovers such runs of `projectUuid`; undefined when the submit may run, else why it may not. */
  clearProject(projectUuid: string): Promise<string | undefined>;
}

const MODES: readonly string[] = ['sync', 'async'] satisfies RequestMode[];

/**
 * A wait for the project lock is logged once it lasts this long: shorter
 * waits are routine on a busy project, and a submit logs one line.
 */
const LOCK_WAIT_LOG_MS = 250;

/** A short printable form of an untrusted value, for logs. */
const loggable = (v: unknown): string | undefined => (typeof v === 'string' ? echoed(v) : undefined);

/** What a run brings to its execution besides its flow and input. */
interface RunTerms {
  /**
   * When it was accepted (ISO 8601), for an accepted async run: recorded with
   * its start, so its line can still show it, and it waits for its project as
   * long as it takes instead of failing busy. None for a sync submit.
   */
  acceptedAt?: string;
  /** Frees its validate-only slot (see {@link ValidationSlots}), right before its run's end is recorded; none for other runs. */
  freeSlot?: () => void;
}

/** An accepted async run in this process's line. */
interface AcceptedRun extends LineEntry, RunTerms {
  def: FlowDefinition;
  input: FlowInput;
  acceptedAt: string;
}

export type { CancelOutcome } from './cancel-run.js';

/** Runs submits. One per service. */
export class SubmitPipeline {
  private readonly reporter: OutcomeReporter;
  private readonly background = new Set<Promise<void>>();
  private readonly turns = new LocalProjectQueue();
  private readonly line = new RunLine<AcceptedRun>((run) => this.runAccepted(run));
  private closing = false;
  private readonly validationSlots: ValidationSlots;
  private readonly live: LiveRuns;
  private readonly accepts: AcceptGroup;
  /** Project leases between two runs of the same project (see {@link passOnOrRelease}). */
  private readonly kept = new Map<string, LockHandle>();
  /** The run each lease held here serves now, for the log should the lease be lost. */
  private readonly holders = new WeakMap<LockHandle, { run: string }>();
  /**
   * Reports of this process's async runs that the site could not take for
   * now (out of reach), by run id: each sends its report again. Their runs
   * stay unreported in the journal meanwhile, so should this process die,
   * the one that takes its lease over reports them.
   */
  private readonly owedReports = new Map<string, () => Promise<ReportDelivery>>();

  constructor(private readonly deps: PipelineDeps) {
    this.reporter = new OutcomeReporter(deps.site, deps.log);
    this.validationSlots = new ValidationSlots(deps.config.zoneValidateLimit);
    this.accepts = new AcceptGroup(deps.journal);
    this.live = new LiveRuns({ journal: deps.journal, site: deps.site, log: deps.log, zoneIntervalMs: deps.config.zoneProgressInterval * 1000 });
  }

  /** The progress of run `runId` now, when this process is running it (fresher than its journal record). */
  liveProgress(runId: string): RunProgress | undefined {
    return this.live.progressOf(runId);
  }

  /** Answers one `POST /submit` body. Never throws. */
  async submit(body: unknown): Promise<Answer> {
    const t0 = performance.now();
    const runId = newRunId();
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const line = { run: runId, flow: loggable(b.flow_name), project: loggable(b.project_uuid), mode: loggable(b.request_mode) };
    let outcome: SubmitOutcome = 'invalid_argument';
    let answer: Answer;
    try {
      ({ answer, outcome } = await this.steps(body, runId));
    } catch (err) {
      // A bug, not a client error: answer 500 and keep serving.
      this.deps.log.error({ ...line, err: errorText(err) }, 'submit failed unexpectedly');
      answer = { status: 500, body: runError(errorText(err)) };
    }
    this.deps.log.info(
      { ...line, status: answer.status, outcome, ms: Math.round((performance.now() - t0) * 100) / 100 },
      'submit',
    );
    return answer;
  }

  /**
   * Sends again the reports of this process's runs that the site could not
   * take (recovery's looks call this, every quarter lease); a run is marked
   * reported once the site has answered it.
   */
  async retryOwedReports(): Promise<void> {
    for (const [runId, send] of [...this.owedReports]) {
      if ((await send()) === 'owed') continue;
      this.owedReports.delete(runId);
      this.deps.journal.reported(runId);
      this.deps.log.info({ run: runId }, 'owed report of an async run delivered');
    }
  }

  /**
   * Puts runs accepted earlier (by this process's predecessor or a peer that
   * is gone: see recovery) into the line, in their submit order. A run whose
   * flow this version does not know is reported failed and forgotten.
   */
  async resume(runs: QueuedRun[]): Promise<void> {
    for (const q of runs) {
      if (q.cancelledAt !== undefined) {
        // cancelled by another process, which reported it; it never runs
        this.deps.journal.dequeueRun(q.runId);
        continue;
      }
      const input = q.input as unknown as FlowInput;
      const def = getFlow(input.flowName);
      if (!def) {
        this.deps.log.error({ run: q.runId, flow: input.flowName }, 'accepted run of an unknown flow; dropped');
        await this.reporter.timeline(input, false, asyncRunError(flowNotSupported(input.flowName)));
        this.deps.journal.dequeueRun(q.runId);
        continue;
      }
      this.deps.log.info({ run: q.runId, flow: input.flowName, project: input.projectUuid }, 'accepted run resumed');
      // accepted before: within the limit then, so it keeps its place whatever the count now
      const freeSlot = def.queue(input) === 'validation' ? this.validationSlots.take(input.projectUuid, true) : undefined;
      const entry = { runId: q.runId, projectUuid: input.projectUuid, seq: q.seq, locked: def.needsLock(input), def, input, acceptedAt: q.acceptedAt, freeSlot };
      this.line.push(entry);
    }
  }

  /**
   * Cancels a waiting async run of any service process on the data folder
   * (see cancel-run.ts): it never runs; its timeline event becomes `CANCEL`
   * and a zone returns to the status it had before the submit.
   */
  cancel(runId: string): Promise<CancelOutcome> {
    const { journal, site, log } = this.deps;
    return cancelWaitingRun({
      journal,
      site,
      log,
      takeFromOwnLine: (id) => {
        const run = this.line.cancel(id);
        run?.freeSlot?.();
        return run !== undefined;
      },
    }, runId);
  }

  /** Starts no more accepted runs: the ones waiting stay in the journal for whoever owns them next. */
  stopLine(): void {
    this.closing = true;
    this.line.stop();
  }

  /** Resolves when every async run started so far has ended and been reported. */
  async drained(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private async steps(body: unknown, runId: string): Promise<{ answer: Answer; outcome: SubmitOutcome }> {
    const { config } = this.deps;
    // 1. the required fields, 2. the secret, then the optional fields' types
    const parsed = parseSubmitBody(body);
    const secret = parsed.ok ? parsed.request.secret : parsed.secret;
    if (secret !== undefined && !secretMatches(secret, config.sodarSecret)) {
      return { answer: { status: 403, body: Text.notAuthorized }, outcome: 'unauthorized' };
    }
    if (!parsed.ok) return { answer: { status: 400, body: missingArgument(parsed.field) }, outcome: 'invalid_argument' };
    const req = parsed.request;
    // 3. flow
    const def = getFlow(req.flowName);
    if (!def) return { answer: { status: 501, body: flowNotSupported(req.flowName) }, outcome: 'unknown_flow' };
    // refused before anything that may call the site (a zone flow's validation failure sets the zone's
    // status): the site took its change back. The check that counts is the journal's, with the run's record.
    const fencedAt = req.timelineUuid === undefined ? undefined : this.deps.journal.fencedAt(req.timelineUuid);
    if (fencedAt !== undefined) return { answer: fencedAnswer(new RunFencedError(req.timelineUuid!, fencedAt)), outcome: 'fenced' };
    // 4. store
    let flowDeps: FlowDeps;
    try {
      flowDeps = { store: await this.deps.stores.get(), site: this.deps.site, config };
    } catch (err) {
      return { answer: { status: 500, body: storeInitError(errorText(err)) }, outcome: 'store_error' };
    }
    const input: FlowInput = {
      projectUuid: req.projectUuid,
      flowName: req.flowName,
      flowData: req.flowData,
      targets: req.targets,
      requestMode: req.requestMode === 'async' ? 'async' : 'sync',
      forceFail: req.forceFail,
      timelineUuid: req.timelineUuid,
      sodarUrl: req.sodarUrl ?? config.sodarUrl,
    };
    // 5. validation
    const invalid = await this.validate(def, input, flowDeps, req.requestMode);
    if (invalid !== undefined) {
      const text = validationError(invalid);
      await this.reporter.failure(def, input, flowDeps, { stage: 'validate', reason: invalid });
      return { answer: { status: 400, body: text }, outcome: 'invalid' };
    }
    // an async run on a quarantined project is refused before it is accepted; every run, sync ones
    // included, is asked again once it holds the project (lockedRun), which is the check that counts
    const blocking = input.requestMode === 'async' ? this.deps.quarantine.blockingRun(input.projectUuid) : undefined;
    if (blocking !== undefined) {
      const text = lockBackendError(quarantineReason(blocking));
      await this.reporter.failure(def, input, flowDeps, { stage: 'lock', reason: text });
      return { answer: { status: 503, body: text }, outcome: 'quarantined' };
    }
    // limits: refused without touching the zone, as SODAR refuses them before it submits
    const fileLimit = config.zoneFileLimit;
    if (fileLimit !== undefined && isZoneMove(input)) {
      const files = await zoneFilesUpTo(input, flowDeps, fileLimit);
      if (files > fileLimit) return { answer: { status: 400, body: zoneFileLimitExceeded(files, fileLimit) }, outcome: 'limited' };
    }
    let freeSlot: (() => void) | undefined;
    if (def.queue(input) === 'validation') {
      freeSlot = this.validationSlots.take(input.projectUuid);
      if (freeSlot === undefined) {
        return { answer: { status: 503, body: zoneValidateLimitReached(config.zoneValidateLimit) }, outcome: 'limited' };
      }
    }
    this.deps.unjournaledFreezeHook?.before(input.flowName);
    // 7. async: durable in the journal (a group commit with the submits of the same moment), then answer; runs in its project's line
    if (input.requestMode === 'async') {
      const { journal, ownerId } = this.deps;
      let accepted: QueuedRun;
      try {
        accepted = await this.accepts.accept({ runId, projectUuid: input.projectUuid, owner: ownerId, input: input as unknown as Json, fenceKey: input.timelineUuid });
      } catch (err) {
        if (err instanceof RunFencedError) {
          freeSlot?.();
          return { answer: fencedAnswer(err), outcome: 'fenced' };
        }
        try {
          journal.dequeueRun(runId);
        } catch {
          // the row, if written, runs after a restart: the client was told it failed, which is the safe side
        }
        freeSlot?.();
        return { answer: { status: 500, body: runError(`the run journal failed: ${errorText(err)}`) }, outcome: 'not_started' };
      }
      const locked = def.needsLock(input);
      this.line.push({ runId, projectUuid: input.projectUuid, seq: accepted.seq, locked, def, input, acceptedAt: accepted.acceptedAt, freeSlot });
      return { answer: { status: 200, body: Text.ok }, outcome: 'accepted' };
    }
    // 6. sync
    let ex: Execution;
    try {
      ex = await this.execute(def, input, flowDeps, runId, { freeSlot });
    } finally {
      // a check that never ran (lock or build failure) frees it here; one that ran, at its end
      freeSlot?.();
    }
    if (ex.failure !== undefined) await this.reporter.failure(def, input, flowDeps, ex.failure);
    return { answer: { status: ex.status, body: ex.body }, outcome: ex.outcome };
  }

  /** Step 5: the request mode, then the flow's own checks. Returns the reason, or undefined when valid. */
  private async validate(def: FlowDefinition, input: FlowInput, deps: FlowDeps, mode: string): Promise<string | undefined> {
    if (!MODES.includes(mode) || !def.modes.includes(mode as RequestMode)) {
      return `Request mode "${mode}" not supported by flow "${def.name}"`;
    }
    try {
      await def.validate(input, deps);
      return undefined;
    } catch (err) {
      if (!(err instanceof FlowValidationError)) {
        this.deps.log.warn({ flow: def.name, project: input.projectUuid, err: errorText(err) }, 'validation threw');
      }
      return errorText(err);
    }
  }

  /**
   * Lock → build → run → unlock, for both modes, on the run's `terms`. Never throws.
   */
  private async execute(def: FlowDefinition, input: FlowInput, deps: FlowDeps, runId: string, terms: RunTerms): Promise<Execution> {
    // a lock-free check waits in the bounded validation queue, never behind a project's runs
    if (def.queue(input) === 'validation' && !def.needsLock(input)) {
      return this.deps.validationQueue.run(() => this.lockedRun(def, input, deps, runId, false, terms));
    }
    const needsLock = def.needsLock(input);
    // an accepted run that waits for the project, or for its lane, waits as long as it takes
    const waits = needsLock || def.lane(input) !== undefined;
    if (terms.acceptedAt === undefined || !waits) return this.lockedRun(def, input, deps, runId, needsLock, terms);
    for (;;) {
      const ex = await this.lockedRun(def, input, deps, runId, needsLock, terms);
      if (ex.outcome !== 'locked') return ex;
      // stopping: not started, so it stays in the journal for the next owner (as one waiting for a slot)
      if (this.closing) throw new QueueClosedError();
      // cancelled (by any process) while it waited for the project: it leaves now instead of at its start
      if (this.cancelledMeanwhile(runId)) return CANCELLED;
      // busy (a holder in another process, or an interrupted run being recovered): try again
      await delay(Math.max(50, this.deps.config.lockRetryInterval * 1000));
    }
  }

  private async lockedRun(
    def: FlowDefinition,
    input: FlowInput,
    deps: FlowDeps,
    runId: string,
    needsLock: boolean,
    terms: RunTerms,
  ): Promise<Execution> {
    let held: HeldLock | undefined;
    // a run without the project lock may still have a lane: its lease is taken as a project's is, by the lane's name
    const lane = needsLock ? undefined : def.lane(input);
    const lockOf = lane === undefined ? input : { ...input, projectUuid: lane };
    if (needsLock || lane !== undefined) {
      try {
        held = await this.acquireLock(lockOf, runId);
        let holder = this.holders.get(held.lock);
        if (holder === undefined) {
          // one listener per lease, however many runs it serves
          const h = { run: runId };
          holder = h;
          this.holders.set(held.lock, h);
          held.lock.onLost((reason) =>
            this.deps.log.warn({ run: h.run, project: input.projectUuid, reason }, 'project lock lost during the run'),
          );
        }
        holder.run = runId;
      } catch (err) {
        if (err instanceof LockBusyError) {
          return { status: 503, body: Text.lockBusy, outcome: 'locked', reason: Text.lockBusy, failure: { stage: 'lock', reason: Text.lockBusy } };
        }
        const text = lockBackendError(err instanceof LockBackendError ? err.reason : errorText(err));
        return { status: 503, body: text, outcome: 'lock_error', reason: text, failure: { stage: 'lock', reason: text } };
      }
    }
    try {
      if (needsLock) {
        const interrupted = await this.interruptedRunOf(input.projectUuid);
        if (interrupted !== undefined) {
          // As a busy lock: the project is not free for this submit yet.
          const text = lockBackendError(interrupted);
          return { status: 503, body: text, outcome: 'locked', reason: text, failure: { stage: 'lock', reason: text } };
        }
      }
      // Asked again now, not only at the submit: a run this one waited behind (here or in a
      // peer process) may have failed its rollback meanwhile, and whatever starts after that
      // would run on a half-restored project.
      const blocking = this.deps.quarantine.blockingRun(input.projectUuid);
      if (blocking !== undefined) {
        const text = lockBackendError(quarantineReason(blocking));
        return { status: 503, body: text, outcome: 'quarantined', reason: text, failure: { stage: 'lock', reason: text } };
      }
      return await this.buildAndRun(def, input, deps, runId, needsLock, held?.lock, terms);
    } finally {
      if (held !== undefined) {
        await this.passOnOrRelease(lockOf.projectUuid, held.lock, runId);
        held.endTurn();
      }
    }
  }

  /**
   * Ends a run's hold on its project lease. When another run of the project
   * waits in this process (in the async line, or for the project's turn),
   * the lease is kept for it instead of being released and taken again: two
   * lease writes less per run, and to other processes the project simply
   * stays locked while this process has runs for it, as it would between a
   * release and the next take anyway. The next run picks it up once it has
   * the project's turn (see {@link acquireLock}), in this event-loop turn
   * when it can start at once; a lease nobody picked up by the end of the
   * turn (the waiting run was cancelled, or waits for a slot of the async
   * queue) is released then.
   */
  private async passOnOrRelease(projectUuid: string, lock: LockHandle, runId: string): Promise<void> {
    if (!this.closing && !lock.lost && (this.line.hasWaiting(projectUuid) || this.turns.hasWaiting(projectUuid))) {
      this.kept.set(projectUuid, lock);
      setImmediate(() => {
        if (this.kept.get(projectUuid) !== lock) return;
        this.kept.delete(projectUuid);
        void this.release(projectUuid, lock, runId);
      });
      return;
    }
    await this.release(projectUuid, lock, runId);
  }

  private release(projectUuid: string, lock: LockHandle, runId: string): Promise<void> {
    return lock.release().catch((err: unknown) => {
      this.deps.log.warn({ run: runId, project: projectUuid, err: errorText(err) }, 'lock release failed');
    });
  }

  /** A lease kept for this project by its previous run here, if still held (see {@link passOnOrRelease}). */
  private takeKept(projectUuid: string): LockHandle | undefined {
    const lock = this.kept.get(projectUuid);
    if (lock === undefined) return undefined;
    this.kept.delete(projectUuid);
    if (!lock.lost) return lock;
    // lost meanwhile: nothing to release in the store; the run takes the lease anew
    void lock.release().catch(() => undefined);
    return undefined;
  }

  /** Why the project, now locked, must not run this submit yet (an interrupted run not recovered); undefined: it may. */
  private async interruptedRunOf(projectUuid: string): Promise<string | undefined> {
    try {
      return await this.deps.interruptedRuns?.clearProject(projectUuid);
    } catch (err) {
      return `the run journal cannot tell whether an interrupted run of the project is left: ${errorText(err)}`;
    }
  }

  /**
   * The project lock: this process's turn for the project (in order, no
   * polling), then the shared lease: a first try, then the configured
   * retries for holders in other processes. A wait longer than
   * {@link LOCK_WAIT_LOG_MS} is logged, so it is visible. The whole wait is
   * bounded by retry count × interval, as in the original.
   */
  private async acquireLock(input: FlowInput, runId: string): Promise<HeldLock> {
    const { config, locks, log } = this.deps;
    const retryIntervalMs = config.lockRetryInterval * 1000;
    const budgetMs = config.lockRetryCount * retryIntervalMs;
    const started = performance.now();
    let waitLog: NodeJS.Timeout | undefined;
    const noteWait = (): void => {
      if (waitLog !== undefined || budgetMs <= LOCK_WAIT_LOG_MS) return;
      waitLog = setTimeout(() => {
        log.info(
          { run: runId, flow: input.flowName, project: input.projectUuid, retries: config.lockRetryCount, waited_ms: Math.round(performance.now() - started) },
          'waiting for project lock',
        );
      }, LOCK_WAIT_LOG_MS - (performance.now() - started));
    };
    try {
      if (this.turns.busy(input.projectUuid)) noteWait();
      const endTurn = await this.turns.take(input.projectUuid, budgetMs);
      const kept = this.takeKept(input.projectUuid);
      if (kept !== undefined) return { lock: kept, endTurn };
      try {
        try {
          return { lock: await locks.acquire(input.projectUuid, { retryCount: 0, retryIntervalMs: 0 }), endTurn };
        } catch (err) {
          if (!(err instanceof LockBusyError) || config.lockRetryCount === 0) throw err;
        }
        noteWait();
        const left = Math.max(0, budgetMs - (performance.now() - started));
        const retryCount = Math.max(0, Math.ceil(left / Math.max(1, retryIntervalMs)) - 1);
        await delay(retryIntervalMs);
        return { lock: await locks.acquire(input.projectUuid, { retryCount, retryIntervalMs }), endTurn };
      } catch (err) {
        endTurn();
        throw err;
      }
    } finally {
      clearTimeout(waitLog);
    }
  }

  private async buildAndRun(
    def: FlowDefinition,
    input: FlowInput,
    deps: FlowDeps,
    runId: string,
    locked: boolean,
    lock: LockHandle | undefined,
    terms: RunTerms,
  ): Promise<Execution> {
    let flow;
    try {
      flow = await def.build(input, deps);
    } catch (err) {
      const text = buildError(errorText(err));
      return { status: 500, body: text, outcome: 'build_error', reason: text, failure: { stage: 'build', reason: errorText(err) } };
    }
    const followed = this.live.follow(runId, flow.name, flow.tasks.length);
    const ctx: TaskContext = { store: deps.store, site: deps.site, config: deps.config, progress: followed.taskProgress };
    let result: RunResult;
    try {
      result = await runFlow(flow, ctx, {
        journal: this.deps.journal,
        runId,
        // stops before the flow's closing tail (zone MOVED): a forced failure never does what cannot be undone
        forceFail: input.forceFail,
        label: input.projectUuid,
        meta: runMetaOf(input, locked, this.deps.ownerId, terms.acceptedAt),
        // an async run's outcome reaches the site only through the report after it (see reportAsync);
        // a sync run's is the HTTP answer, which a crash breaks, and the client then knows it got none
        reportDue: input.requestMode === 'async',
        // the journal refuses the start of a run whose event the site has fenced, atomically with its record
        fenceKey: input.timelineUuid,
        events: this.deps.freezeHook?.eventsFor(flow.name, runId, flow.tasks.length),
        progress: followed.tracker,
        afterTask: this.deps.pauseHook?.afterTaskFor(flow.name, runId, flow.tasks.map((t) => t.kind)),
        // a lost lease may be another process's by now: no task of this run applies after that
        stopIf: lock === undefined ? undefined : () => (lock.lost ? lockLostReason(lock.lostReason) : undefined),
        beforeEnd: terms.freeSlot,
      });
    } catch (err) {
      // cancelled by another process while it waited: the journal refused its start, nothing was done
      if (err instanceof RunCancelledError) return CANCELLED;
      // fenced meanwhile: nothing was recorded or applied, and the site, which took its change back, hears nothing
      if (err instanceof RunFencedError) return { ...fencedAnswer(err), outcome: 'fenced' };
      if (err instanceof RunEndNotRecordedError) {
        // the run ended as its result says (applied, or rolled back): answered so, never as a failure that
        // did not happen; recovery later ends its record the same way
        this.deps.log.error({ run: runId, flow: input.flowName, err: errorText(err) }, 'run journal failed at the run\'s end');
        result = err.result;
      } else {
        // the journal could not record the run's start: nothing was applied
        const reason = `the run journal failed: ${errorText(err)}`;
        this.deps.log.error({ run: runId, flow: input.flowName, err: errorText(err) }, 'run journal failed');
        return { status: 500, body: runError(reason), outcome: 'rolled_back', reason, failure: { stage: 'run', reason } };
      }
    } finally {
      // before anything reports the outcome: no progress callback may land after a failure status
      await followed.end();
    }
    if (result.status === 'completed') return { status: 200, body: Text.ok, outcome: 'completed', result };
    if (result.revertNotes !== undefined) {
      this.deps.log.warn(
        { run: runId, flow: input.flowName, project: input.projectUuid, not_restored: result.revertNotes },
        'rollback could not restore everything',
      );
    }
    const reason = failureReason(result);
    return { status: 500, body: runError(reason), outcome: result.status, reason, failure: { stage: 'run', reason }, result };
  }

  /** Runs an accepted async run once its turn in the line comes, reports it, then forgets it. */
  private async runAccepted(run: AcceptedRun): Promise<void> {
    const { def, input, runId } = run;
    const t0 = performance.now();
    let deps: FlowDeps;
    try {
      deps = { store: await this.deps.stores.get(), site: this.deps.site, config: this.deps.config };
    } catch (err) {
      deps = { store: undefined as never, site: this.deps.site, config: this.deps.config };
      run.freeSlot?.();
      await this.reportAsync(run, deps, { status: 500, body: storeInitError(errorText(err)), outcome: 'store_error', reason: storeInitError(errorText(err)) }, t0);
      return;
    }
    const executed = this.deps.asyncQueue.run(() => this.execute(def, input, deps, runId, run));
    const job = executed
      .then(
        (ex) => {
          // a check that ran freed its slot at its end; one that never ran (lock or build failure) frees it
          // here, before its report: the slot is for a check at work, not for telling the site about it
          run.freeSlot?.();
          return this.reportAsync(run, deps, ex, t0);
        },
        async (err: unknown) => {
          // shutting down before it started: it stays in the journal for the next owner
          if (err instanceof QueueClosedError) return;
          const reason = errorText(err);
          await this.reportAsync(run, deps, { status: 500, body: runError(reason), outcome: 'rolled_back', reason }, t0);
        },
      )
      .catch((err: unknown) => this.deps.log.error({ run: runId, err: errorText(err) }, 'async report failed'))
      .finally(() => {
        this.background.delete(job);
        run.freeSlot?.();
      });
    this.background.add(job);
    // The project's next run may start once this one has ended (its lock released, its end durable):
    // its report to the site, a round trip, goes on beside the next run instead of before it.
    await executed.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Whether an accepted run that has not started was cancelled (by any process). */
  private cancelledMeanwhile(runId: string): boolean {
    try {
      return this.deps.journal.queuedRun(runId)?.cancelledAt !== undefined;
    } catch {
      return false;
    }
  }

  private async reportAsync(run: AcceptedRun, deps: FlowDeps, executed: Execution, t0: number): Promise<void> {
    const { def, input, runId } = run;
    // a run that never started (build, store or lock failure) and was cancelled meanwhile says nothing either:
    // the canceller told the site, and a cancelled run's zone must not turn FAILED
    const ex = executed.result === undefined && executed.outcome !== 'cancelled' && this.cancelledMeanwhile(runId) ? CANCELLED : executed;
    // a run that started owes its report (see Journal.reported): the hook holds it here, between its durable end and the report
    if (ex.result !== undefined) await this.deps.reportHook?.beforeReport(input.flowName, runId);
    if (ex.outcome === 'cancelled' || ex.outcome === 'fenced') {
      // the canceller reported it, or the site fenced it and knows; its record, if kept for us to find, goes
      this.deps.journal.dequeueRun(runId);
    } else {
      const send = (): Promise<ReportDelivery> => this.reporter.ended(def, input, deps, ex.reason, ex.failure);
      // a run that started owes its report until the site takes it (a run that never started has no record to keep it)
      if ((await send()) === 'owed' && ex.result !== undefined) {
        this.owedReports.set(runId, send);
        this.deps.log.warn({ run: runId, flow: input.flowName, project: input.projectUuid }, 'the site cannot be reached for the report of an async run; sent again at the next look');
      }
    }
    // A run that started left the line with its start record (no commit of its own here); one that
    // ended before it could start (build, store, lock failure) leaves now that it is reported.
    if (ex.result === undefined && ex.outcome !== 'cancelled') this.deps.journal.dequeueRun(runId);
    // Reported (or given up, as the reporter gives up): the mark rides on the journal's next commit.
    // Should this process die before that commit, recovery reports the run again; that, or a death
    // between the site's answer and the mark, is the one way a report reaches the site twice, which
    // the site's callbacks bear (see recovery.ts, reportUnreportedRuns).
    if (ex.result !== undefined && !this.owedReports.has(runId)) this.deps.journal.reported(runId);
    this.deps.log.info(
      { run: runId, flow: input.flowName, project: input.projectUuid, mode: 'async', outcome: ex.outcome, ms: Math.round((performance.now() - t0) * 100) / 100 },
      'async run',
    );
  }
}

/** The answer to a submit refused by a fence: nothing recorded, nothing run. */
function fencedAnswer(err: RunFencedError): Answer {
  return { status: FENCED_STATUS, body: fencedSubmit(err.fenceKey, err.fencedAt) };
}

/** How an accepted run that was cancelled before it started ends: nothing done, nothing to report. */
const CANCELLED: Execution = { status: 200, body: Text.ok, outcome: 'cancelled' };

/** A readable reason for a failed run (protocol's "Improve": never a leaked exception). */
export function failureReason(result: RunResult): string {
  // a forced failure is named as the point it happened at, as when it was a task of its own
  const failedAt = result.error === FORCED_FAILURE_MESSAGE ? FORCED_FAILURE_POINT : result.failedTask?.name;
  const where = failedAt !== undefined ? ` (task "${failedAt}")` : '';
  let reason = `${result.error ?? 'the flow failed'}${where}`;
  const notes = result.revertNotes ?? [];
  if (result.status === 'revert_failed') {
    reason += `; rollback failed for ${result.revertFailures.length} task(s), the project stays locked until "taskflow runs retry-revert ${result.runId}" succeeds`;
  } else if (notes.length === 0) {
    reason += '; all changes were rolled back';
  } else {
    reason += '; rolled back as far as possible';
  }
  for (const n of notes) reason += `; task "${n.name}": ${n.note}`;
  return reason;
}

/** Why a run stopped when its project lock was lost (e.g. the lock store unreachable for longer than a lease). */
function lockLostReason(why: string | undefined): string {
  return `the project lock was lost during the run${why ? ` (${why})` : ''}; stopped before the next task, as another process may hold the project now`;
}
