/**
 * A journal in memory: for tests, benchmarks and runs that need no crash
 * recovery. Per task it keeps one byte of state, one number of duration and
 * (only when set) the undo value and error, so large runs stay small.
 *
 * @module
 */
import { DuplicateRunError, RunCancelledError, RunFencedError, RunNotFoundError } from './errors.js';
import type { FenceOutcome, KeyedRun, RunFences } from './fences.js';
import type { Journal } from './journal.js';
import { recordedProgress } from './progress.js';
import type { NewQueuedRun, QueuedRun, RunQueueStore } from './queue-store.js';
import type {
  Json,
  JournalRun,
  JournalRunStart,
  JournalRunStatus,
  JournalRunSummary,
  JournalTask,
  JournalTaskRecordState,
  ListRunsQuery,
  RunPage,
  RunProgress,
  RunResult,
  TaskSpec,
} from './types.js';

const STATES: readonly JournalTaskRecordState[] = ['pending', 'intent', 'done', 'failed', 'reverted', 'revert_failed'];
// indexes into STATES (pending = 0, the Uint8Array default)
const INTENT = 1;
const DONE = 2;
const FAILED = 3;
const REVERTED = 4;
const REVERT_FAILED = 5;
const RESOLVED: Promise<void> = Promise.resolve();

interface MemoryRun {
  seq: number;
  runId: string;
  flowName: string;
  label?: string;
  fenceKey?: string;
  meta?: Json;
  status: JournalRunStatus;
  startedAt: number;
  endedAt?: number;
  result?: RunResult;
  progress?: RunProgress;
  specs: readonly TaskSpec[];
  states: Uint8Array;
  durations: Float64Array;
  revertDurations: Float64Array;
  undos: (Json | undefined)[];
  errors: Map<number, string>;
}

/** {@link Journal} kept in this process's memory. */
export class MemoryJournal implements Journal, RunQueueStore, RunFences {
  private readonly queued = new Map<string, QueuedRun>();
  private queueSeq = 0;
  /** Fenced keys and when (ISO 8601). */
  private readonly fences = new Map<string, string>();

  enqueueRuns(runs: readonly NewQueuedRun[]): Array<QueuedRun | RunFencedError> {
    const acceptedAt = new Date().toISOString();
    return runs.map((run) => {
      const fencedAt = run.fenceKey === undefined ? undefined : this.fences.get(run.fenceKey);
      if (fencedAt !== undefined) return new RunFencedError(run.fenceKey!, fencedAt);
      const q: QueuedRun = { ...run, seq: ++this.queueSeq, acceptedAt };
      this.queued.set(run.runId, q);
      return { ...q };
    });
  }

  queuedRun(runId: string): QueuedRun | undefined {
    const q = this.queued.get(runId);
    return q === undefined ? undefined : { ...q };
  }

  cancelQueuedRun(runId: string): boolean {
    const q = this.queued.get(runId);
    if (q === undefined || q.cancelledAt !== undefined) return false;
    q.cancelledAt = new Date().toISOString();
    return true;
  }

  dequeueRun(runId: string): boolean {
    return this.queued.delete(runId);
  }

  queuedRuns(filter: { owner?: string; projectUuid?: string } = {}): QueuedRun[] {
    // a Map keeps insertion order, which is seq order
    return [...this.queued.values()]
      .filter((r) => (filter.owner === undefined || r.owner === filter.owner) && (filter.projectUuid === undefined || r.projectUuid === filter.projectUuid))
      .map((r) => ({ ...r }));
  }

  queuedOwners(): string[] {
    return [...new Set([...this.queued.values()].map((r) => r.owner))];
  }

  setQueuedOwner(runId: string, owner: string): void {
    const r = this.queued.get(runId);
    if (r) r.owner = owner;
  }

  private readonly runs = new Map<string, MemoryRun>();
  /** The runs not yet finished, in start order: what the unfinished-run queries scan. */
  private readonly running = new Map<string, MemoryRun>();
  /** The runs whose report is owed (started with `reportDue`) and not yet marked, in start order. */
  private readonly reportDue = new Map<string, MemoryRun>();
  private seq = 0;

  fence(key: string): FenceOutcome {
    const fencedAt = this.fences.get(key);
    if (fencedAt !== undefined) return { fenced: true, fencedAt };
    const runs: KeyedRun[] = [...this.runs.values()].filter((r) => r.fenceKey === key).map((r) => ({ runId: r.runId, status: r.status }));
    for (const q of this.queued.values()) {
      if (q.fenceKey === key) runs.push({ runId: q.runId, status: q.cancelledAt === undefined ? 'waiting' : 'cancelled' });
    }
    if (runs.length > 0) return { fenced: false, runs };
    const at = new Date().toISOString();
    this.fences.set(key, at);
    return { fenced: true, fencedAt: at };
  }

  fencedAt(key: string): string | undefined {
    return this.fences.get(key);
  }

  start(run: JournalRunStart): void {
    if (this.runs.has(run.runId)) throw new DuplicateRunError(run.runId);
    const fencedAt = run.fenceKey === undefined ? undefined : this.fences.get(run.fenceKey);
    if (fencedAt !== undefined) throw new RunFencedError(run.fenceKey!, fencedAt);
    // as the SQLite journal: an accepted run leaves the line with its start, a cancelled one never starts
    const queued = this.queued.get(run.runId);
    if (queued?.cancelledAt !== undefined) throw new RunCancelledError(run.runId);
    this.queued.delete(run.runId);
    const n = run.tasks.length;
    const record: MemoryRun = {
      seq: this.seq++,
      runId: run.runId,
      flowName: run.flowName,
      label: run.label,
      fenceKey: run.fenceKey,
      meta: run.meta === undefined ? undefined : structuredClone(run.meta),
      status: 'running',
      startedAt: Date.now(),
      specs: run.tasks.slice(),
      states: new Uint8Array(n),
      durations: new Float64Array(n).fill(NaN),
      revertDurations: new Float64Array(n).fill(NaN),
      undos: [],
      errors: new Map(),
    };
    this.runs.set(run.runId, record);
    this.running.set(run.runId, record);
    if (run.reportDue === true) this.reportDue.set(run.runId, record);
    if (run.firstIntent === true && n > 0) this.intent(run.runId, 0, run.firstUndo);
  }

  intent(runId: string, index: number, undo: Json | undefined): void {
    const run = this.run(runId);
    run.states[index] = INTENT;
    if (undo !== undefined) run.undos[index] = undo;
  }

  done(runId: string, index: number, durationMs: number): void {
    const run = this.run(runId);
    run.states[index] = DONE;
    run.durations[index] = durationMs;
  }

  doneThenIntent(runId: string, index: number, durationMs: number, nextUndo: Json | undefined): void {
    const run = this.run(runId);
    run.states[index] = DONE;
    run.durations[index] = durationMs;
    run.states[index + 1] = INTENT;
    if (nextUndo !== undefined) run.undos[index + 1] = nextUndo;
  }

  failed(runId: string, index: number, error: string, durationMs: number, nothingApplied = false): void {
    const run = this.run(runId);
    run.states[index] = FAILED;
    if (nothingApplied) run.undos[index] = undefined;
    run.durations[index] = durationMs;
    run.errors.set(index, error);
  }

  reverted(runId: string, index: number, durationMs: number): void {
    const run = this.run(runId);
    // a failed apply's error stays; a failed revert's is forgotten once a revert succeeds
    if (run.states[index] === REVERT_FAILED) run.errors.delete(index);
    run.states[index] = REVERTED;
    run.revertDurations[index] = durationMs;
  }

  revertFailed(runId: string, index: number, error: string, durationMs: number): void {
    const run = this.run(runId);
    run.states[index] = REVERT_FAILED;
    run.revertDurations[index] = durationMs;
    run.errors.set(index, error);
  }

  progress(runId: string, progress: RunProgress): void {
    this.run(runId).progress = structuredClone(progress);
  }

  finish(runId: string, result: RunResult): void {
    const run = this.run(runId);
    run.status = result.status;
    run.endedAt = Date.now();
    run.result = structuredClone(result);
    this.running.delete(runId);
  }

  /** Memory has nothing to sync. */
  whenDurable(): Promise<void> {
    return RESOLVED;
  }

  getRun(runId: string): JournalRun | undefined {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    const tasks: JournalTask[] = new Array(run.specs.length);
    let settled = 0;
    for (let i = 0; i < run.specs.length; i++) {
      const spec = run.specs[i];
      const state = run.states[i];
      if (state === DONE || state === REVERTED || state === REVERT_FAILED) settled++;
      const task: JournalTask = {
        index: i,
        kind: spec.kind,
        name: spec.name,
        target: spec.target,
        args: structuredClone(spec.args),
        state: STATES[state],
      };
      // NaN: not measured (never executed, or never reverted)
      if (!Number.isNaN(run.durations[i])) task.durationMs = run.durations[i];
      if (!Number.isNaN(run.revertDurations[i])) task.revertMs = run.revertDurations[i];
      const undo = run.undos[i];
      if (undo !== undefined) task.undo = structuredClone(undo);
      const error = run.errors.get(i);
      if (error !== undefined) task.error = error;
      tasks[i] = task;
    }
    return { ...summarize(run, settled), tasks };
  }

  getRunSummary(runId: string): JournalRunSummary | undefined {
    const run = this.runs.get(runId);
    return run === undefined ? undefined : summarize(run);
  }

  listRuns(query: ListRunsQuery): RunPage {
    const matching = [...this.runs.values()]
      .filter(
        (r) =>
          (query.status === undefined || r.status === query.status) &&
          (query.flowName === undefined || r.flowName === query.flowName) &&
          (query.label === undefined || r.label === query.label),
      )
      .sort((a, b) => b.seq - a.seq);
    return {
      total: matching.length,
      runs: matching.slice(query.offset, query.offset + query.limit).map(summarize),
    };
  }

  unfinishedRuns(): string[] {
    return [...this.running.keys()];
  }

  reported(runId: string): void {
    this.reportDue.delete(runId);
  }

  unreportedRuns(): JournalRunSummary[] {
    const out: JournalRunSummary[] = [];
    for (const r of this.reportDue.values()) if (r.status !== 'running') out.push(summarize(r));
    return out;
  }

  unfinishedRunsLabelled(label: string): JournalRunSummary[] {
    const out: JournalRunSummary[] = [];
    for (const r of this.running.values()) if (r.label === label) out.push(summarize(r));
    return out;
  }

  revertFailedRunLabelled(label: string): string | undefined {
    let latest: MemoryRun | undefined;
    for (const r of this.runs.values()) if (r.label === label && r.status === 'revert_failed' && (latest === undefined || r.seq > latest.seq)) latest = r;
    return latest?.runId;
  }

  close(): void {}

  private run(runId: string): MemoryRun {
    const run = this.runs.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }
}

/** `settled`: tasks counted as done from the task records (see {@link recordedProgress}). */
function summarize(run: MemoryRun, settled?: number): JournalRunSummary {
  const summary: JournalRunSummary = {
    runId: run.runId,
    flowName: run.flowName,
    status: run.status,
    taskCount: run.specs.length,
    startedAt: new Date(run.startedAt).toISOString(),
  };
  if (run.label !== undefined) summary.label = run.label;
  if (run.meta !== undefined) summary.meta = structuredClone(run.meta);
  if (run.endedAt !== undefined) summary.endedAt = new Date(run.endedAt).toISOString();
  if (run.result !== undefined) summary.result = structuredClone(run.result);
  const progress = recordedProgress(summary, run.progress === undefined ? undefined : structuredClone(run.progress), settled);
  if (progress !== undefined) summary.progress = progress;
  return summary;
}
