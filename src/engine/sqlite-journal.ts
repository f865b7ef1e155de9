/**
 * A journal in a SQLite file (better-sqlite3, WAL): survives crashes, and is
 * the store of run records the service lists and shows.
 *
 * Durability: a commit stands before every apply that has something to undo
 * (the task's `intent` with its undo value, with the previous task's
 * `done`), with `synchronous = NORMAL`: in WAL mode a commit is then in the
 * OS page cache when it returns, which survives the process being killed,
 * without an fsync per task. Records recovery can do without wait for the
 * next commit of this handle instead of taking one of their own (see
 * {@link GROUP_MS}): a `done` followed by an `intent` with nothing to undo,
 * progress, `reverted`. Losing them in a crash only makes recovery revert a
 * task whose apply had finished, which it does for one left at `intent`
 * anyway. The `done` of the last task applied is committed: all tasks done
 * is what makes recovery roll a run forward instead of reverting it. With
 * `commitPerTurn` (the service's handle), runs writing at the same moment
 * share one commit (see {@link SqliteJournalOptions.commitPerTurn}); the
 * runner waits for it before each apply. The final state of a run is committed the same
 * way; {@link SqliteJournal.whenDurable} then makes it survive power loss
 * with a group fsync of the `-wal` file on the libuv threadpool, so the
 * event loop never waits for the disk and concurrent runs share one fsync
 * (better-sqlite3 is synchronous: `synchronous = FULL` fsynced on the event
 * loop, one run after another).
 *
 * Why syncing the `-wal` file alone suffices, checkpoints included: with
 * `synchronous = NORMAL` SQLite fsyncs the WAL before a checkpoint copies its
 * frames into the database file, and fsyncs the database file before the WAL
 * is reset and reused. So a commit is durable either in the WAL (our
 * fdatasync, or the checkpoint's own sync) or in the database file (synced
 * by the checkpoint before its frames can be overwritten). The `-wal` file
 * keeps its inode while any connection is open (a reset rewrites it in
 * place), so the handle opened once stays valid.
 *
 * Checkpoints: run by this connection they would fsync on the event loop
 * (better-sqlite3 is synchronous) and copy megabytes, stalling every run
 * for tens to hundreds of ms. Once a journal is busy, a worker thread with
 * its own connection runs PASSIVE checkpoints every
 * {@link CHECKPOINT_INTERVAL_MS} (see checkpointer.ts); they never block the
 * writer. A PASSIVE checkpoint cannot reset the WAL while commits keep
 * arriving, so this connection keeps an automatic checkpoint as a backstop
 * at {@link WAL_BACKSTOP_PAGES}: by then the worker has copied and
 * synced nearly everything, so it is short, and it resets the WAL, which
 * stays bounded.
 *
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { BusyCheckpoints, CHECKPOINT_INTERVAL_MS, CHECKPOINT_WORKER_AFTER_COMMITS, WAL_BACKSTOP_PAGES } from './checkpointer.js';
import { DuplicateRunError, RunCancelledError, RunFencedError, RunNotFoundError, UndoNotJsonError } from './errors.js';
import type { FenceOutcome, KeyedRun, RunFences } from './fences.js';
import type { Journal } from './journal.js';
import type { NewQueuedRun, QueuedRun, RunQueueStore } from './queue-store.js';
import { openSqlite } from '../sqlite-busy.js';
import { recordedProgress } from './progress.js';
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
} from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  seq INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  flow_name TEXT NOT NULL,
  label TEXT,
  meta TEXT,
  status TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  result TEXT,
  progress TEXT,
  -- 1: its outcome is owed to the site (an async run) and not reported yet; 0: reported; NULL: none owed
  report_due INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, seq);
CREATE INDEX IF NOT EXISTS runs_by_flow ON runs (flow_name, seq);
CREATE INDEX IF NOT EXISTS runs_by_label ON runs (label, seq);
-- partial: holds only the runs in flight, so the per-submit look for a project's is a probe of a tiny index
CREATE INDEX IF NOT EXISTS runs_running_by_label ON runs (label, seq) WHERE status = 'running';
-- partial: the quarantined projects' runs, which every submit asks about
CREATE INDEX IF NOT EXISTS runs_revert_failed_by_label ON runs (label, seq) WHERE status = 'revert_failed';
CREATE TABLE IF NOT EXISTS run_tasks (
  run_seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  target TEXT NOT NULL,
  args TEXT NOT NULL,
  state TEXT NOT NULL,
  undo TEXT,
  duration_ms REAL,
  revert_ms REAL,
  error TEXT,
  PRIMARY KEY (run_seq, idx)
) WITHOUT ROWID;
-- accepted async runs not started yet (see queue-store.ts). Only the run id is indexed: the table
-- holds the runs waiting now, a scan of it is cheap, and each accept and start writes fewer pages
CREATE TABLE IF NOT EXISTS queued_runs (
  seq INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  project TEXT NOT NULL,
  owner TEXT NOT NULL,
  input TEXT NOT NULL,
  accepted_at INTEGER NOT NULL,
  cancelled_at INTEGER
);
-- fenced run keys (see fences.ts): kept for good, one per change whose submit was lost
CREATE TABLE IF NOT EXISTS fences (
  fence_key TEXT PRIMARY KEY,
  fenced_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Page size of new journal files. */
export const PAGE_SIZE = 2048;

/** Longest a `reverted` record waits to be committed with others (a crash then repeats those reverts). */
export const REVERT_GROUP_MS = 2;
/** Most `reverted` records committed together. */
export const REVERT_GROUP_SIZE = 256;
/**
 * Longest a grouped record (see the module's doc) waits for the next commit
 * before it is committed on its own: what other processes see of a run lags
 * by at most this much. On a busy journal the next commit comes much sooner.
 */
export const GROUP_MS = 100;

/** Task rows written by one INSERT at a run's start: one statement for most flows, bounded for long ones. */
const TASK_ROWS_PER_INSERT = 16;

interface RunRow {
  seq: number;
  run_id: string;
  flow_name: string;
  label: string | null;
  meta: string | null;
  status: JournalRunStatus;
  task_count: number;
  started_at: number;
  ended_at: number | null;
  result: string | null;
  progress: string | null;
  report_due: number | null;
}

interface TaskRow {
  idx: number;
  kind: string;
  name: string;
  target: string;
  args: string;
  state: JournalTaskRecordState;
  undo: string | null;
  duration_ms: number | null;
  revert_ms: number | null;
  error: string | null;
}

/** Options of {@link SqliteJournal}. */
export interface SqliteJournalOptions {
  /** How long a write waits for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Checkpoint in a worker thread once the journal is busy (default true; false: this connection checkpoints). */
  backgroundCheckpoints?: boolean;
  /**
   * Share commits between the runs writing at the same moment (default
   * false: each record commits before it returns). A run's start and its
   * intents go into an open transaction that commits as soon as the
   * callbacks queued before the runner's wait ({@link SqliteJournal.committed})
   * have run: the runs resumed by one event (one group fsync ends several
   * runs, and their projects' next runs start together) write into it, and
   * none waits for I/O. Run ends and accepted runs, whose writers wait for
   * {@link SqliteJournal.whenDurable} anyway, commit at the end of the
   * event-loop turn. For the one handle of a service process: another handle
   * writing from the same thread before that commit would wait for the lock
   * this one holds.
   */
  commitPerTurn?: boolean;
  /**
   * Where runs recorded before fence keys existed hold theirs (see
   * {@link LegacyFenceKeys}): read once, when this handle is the one that
   * brings an older journal up to date. Every handle of a program whose
   * runs carry fence keys should give it.
   */
  legacyFenceKeys?: LegacyFenceKeys;
}

/**
 * Where a journal written before fence keys existed holds them, so that a
 * fence finds those runs too: JSON paths into a run's meta and an accepted
 * run's input (SQLite's `json_extract` syntax), and the value meaning "no key".
 */
export interface LegacyFenceKeys {
  runMeta: string;
  queuedInput: string;
  none?: string;
}

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => {};

/** The journal's pragmas and tables; `legacy`: see {@link SqliteJournalOptions.legacyFenceKeys}. */
function setUpJournal(db: Database.Database, legacy: LegacyFenceKeys | undefined): void {
  // new files only (a WAL database keeps its page size): a run's commits rewrite ~10 pages, and
  // 2 KiB pages halve the bytes written to the WAL (and checkpointed) compared with 4 KiB
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
  // Statement journals in memory: a turn's transaction holds a savepoint per multi-statement record, and
  // SQLite spills a savepoint's journal past 64 KiB to a temp file (opened, written page by page with three
  // pwrites each, deleted), which the queue bench saw about once per ten runs. They are never durable anyway.
  db.pragma('temp_store = MEMORY');
  db.exec(SCHEMA);
  addColumnIfMissing(db, 'runs', 'progress', 'TEXT');
  addColumnIfMissing(db, 'queued_runs', 'cancelled_at', 'INTEGER');
  // runs of an older journal owe nothing: whether their outcome reached the site is not known, and
  // reporting a history again would repeat every report
  addColumnIfMissing(db, 'runs', 'report_due', 'INTEGER');
  // partial: holds only the runs whose report is owed (running, or finished and in flight or lost in a crash)
  db.exec('CREATE INDEX IF NOT EXISTS runs_report_due ON runs (seq) WHERE report_due = 1');
  // the queue of an earlier version had two more indexes, whose pages every accept and start rewrote
  db.exec('DROP INDEX IF EXISTS queued_runs_by_owner; DROP INDEX IF EXISTS queued_runs_by_project;');
  // a fence (fences.ts) looks runs up by key; older runs get theirs from where their writer kept it
  const runsKeyed = addColumnIfMissing(db, 'runs', 'fence_key', 'TEXT');
  const queuedKeyed = addColumnIfMissing(db, 'queued_runs', 'fence_key', 'TEXT');
  // partial: only runs carrying a key pay for the index
  db.exec('CREATE INDEX IF NOT EXISTS runs_by_fence_key ON runs (fence_key) WHERE fence_key IS NOT NULL');
  if (legacy !== undefined) {
    const none = legacy.none ?? null;
    if (runsKeyed) {
      db.prepare('UPDATE runs SET fence_key = NULLIF(json_extract(meta, ?), ?) WHERE fence_key IS NULL AND json_valid(meta)').run(legacy.runMeta, none);
    }
    if (queuedKeyed) {
      db.prepare('UPDATE queued_runs SET fence_key = NULLIF(json_extract(input, ?), ?) WHERE fence_key IS NULL AND json_valid(input)').run(legacy.queuedInput, none);
    }
  }
}

/** Brings a table of an older journal up to date (a new column; old rows have none). True when this call added it. */
function addColumnIfMissing(db: Database.Database, table: string, column: string, type: string): boolean {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
  if (columns.includes(column)) return false;
  try {
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    return true;
  } catch (err) {
    // another process opening the same journal added it first
    if (!/duplicate column name/i.test(String((err as Error).message))) throw err;
    return false;
  }
}

/** {@link Journal} in a SQLite file; several processes may open the same file. */
export class SqliteJournal implements Journal, RunQueueStore, RunFences {
  private readonly db: Database.Database;
  /** run id → runs.seq, for the runs this handle writes (task rows are keyed by seq). */
  private readonly seqs = new Map<string, number>();
  private readonly stmts: ReturnType<SqliteJournal['prepare']>;
  private readonly listStmts = new Map<string, { count: Database.Statement; page: Database.Statement }>();
  /** INSERTs of n task rows (n up to {@link TASK_ROWS_PER_INSERT}), prepared when first needed. */
  private readonly taskInserts: Database.Statement[] = [];
  private readonly insertRun: (run: JournalRunStart) => number;
  private readonly insertQueued: (runs: readonly NewQueuedRun[], at: number) => Array<number | RunFencedError>;
  /** Statements of this turn's transaction (see {@link SqliteJournal.write}). */
  private readonly beginTurn: Database.Statement;
  private readonly commitTurn: Database.Statement;
  private readonly rollbackTurn: Database.Statement;
  /** Runs a function in a savepoint of the open transaction: a failing one leaves the others' records. */
  private readonly savepoint: Database.Transaction<(body: () => unknown) => unknown>;
  /** The write transaction open in this event-loop turn, and the promise its commit settles. */
  private turn: { done: Promise<void>; resolve: () => void; reject: (err: unknown) => void; soon: boolean } | undefined;
  private readonly perTurn: boolean;
  /** Grouped records, in the order they were written, waiting for the next transaction. */
  private pending: Array<() => void> = [];
  /** `reverted` records among them, and when the first of those was grouped (see {@link REVERT_GROUP_MS}). */
  private pendingReverts = 0;
  private revertsSince = 0;
  /** Commits the grouped records once {@link GROUP_MS} passed without another commit. */
  private groupTimer: NodeJS.Timeout | undefined;
  /** Something was committed since the last sync started. */
  private dirty = false;
  /** The sync in flight, and the one queued behind it for callers that arrived during it. */
  private syncing: Promise<void> | undefined;
  private queuedSync: Promise<void> | undefined;
  /** The `-wal` file, opened at the first sync. */
  private wal: Promise<FileHandle> | undefined;
  private syncs = 0;
  private readonly checkpoints: BusyCheckpoints;
  /** See {@link SqliteJournal.whenClosed}. */
  private workerEnded: Promise<void> = Promise.resolve();

  /** Opens (creating if needed) the journal at `filePath`. */
  constructor(
    readonly filePath: string,
    opts: SqliteJournalOptions = {},
  ) {
    // two services starting on one data folder open the journal at the same moment
    this.db = openSqlite(filePath, opts.busyTimeoutMs ?? 5000, (db) => setUpJournal(db, opts.legacyFenceKeys));
    this.checkpoints = new BusyCheckpoints(this.db, { afterCommits: opts.backgroundCheckpoints === false ? -1 : CHECKPOINT_WORKER_AFTER_COMMITS });
    this.perTurn = opts.commitPerTurn === true;
    this.stmts = this.prepare();
    const s = this.stmts;
    this.beginTurn = this.db.prepare('BEGIN IMMEDIATE');
    this.commitTurn = this.db.prepare('COMMIT');
    this.rollbackTurn = this.db.prepare('ROLLBACK');
    this.savepoint = this.db.transaction((body: () => unknown) => body());
    this.insertRun = (run: JournalRunStart): number => {
      // in the start's own transaction: a fence committed before it refuses it, one after it finds it
      if (run.fenceKey !== undefined) this.refuseFenced(run.fenceKey);
      const info = s.insertRun.run(
        run.runId,
        run.flowName,
        run.label ?? null,
        run.meta === undefined ? null : JSON.stringify(run.meta),
        run.tasks.length,
        Date.now(),
        run.reportDue === true ? 1 : null,
        run.fenceKey ?? null,
      );
      // an accepted run leaves the line with its start, in this commit; a cancelled one never starts
      // (the throw rolls back this savepoint, its row and the run's included)
      const queued = s.dequeueReturning.get(run.runId) as { cancelled_at: number | null } | undefined;
      if (queued !== undefined && queued.cancelled_at !== null) throw new RunCancelledError(run.runId);
      const runSeq = Number(info.lastInsertRowid);
      const tasks = run.tasks;
      // the rows go in groups of TASK_ROWS_PER_INSERT, one statement each (most runs: one statement)
      for (let from = 0; from < tasks.length; from += TASK_ROWS_PER_INSERT) {
        const to = Math.min(tasks.length, from + TASK_ROWS_PER_INSERT);
        const params: unknown[] = new Array((to - from) * 8);
        let k = 0;
        for (let i = from; i < to; i++) {
          const t = tasks[i];
          const first = i === 0 && run.firstIntent === true;
          params[k++] = runSeq;
          params[k++] = i;
          params[k++] = t.kind;
          params[k++] = t.name;
          params[k++] = t.target;
          params[k++] = JSON.stringify(t.args);
          params[k++] = first ? 'intent' : 'pending';
          params[k++] = first ? encodeUndo(run.firstUndo) : null;
        }
        this.insertTasks(to - from).run(params);
      }
      return runSeq;
    };
    this.insertQueued = (runs: readonly NewQueuedRun[], at: number): Array<number | RunFencedError> =>
      runs.map((r) => {
        // in the accept's transaction, as for a start (see insertRun); the others of the group are recorded
        const fencedAt = r.fenceKey === undefined ? undefined : this.fencedAt(r.fenceKey);
        if (fencedAt !== undefined) return new RunFencedError(r.fenceKey!, fencedAt);
        return Number(s.enqueue.run(r.runId, r.projectUuid, r.owner, JSON.stringify(r.input), at, r.fenceKey ?? null).lastInsertRowid);
      });
  }

  /** The INSERT of `n` task rows. */
  private insertTasks(n: number): Database.Statement {
    let stmt = this.taskInserts[n];
    if (stmt === undefined) {
      const rows = new Array<string>(n).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      stmt = this.db.prepare(`INSERT INTO run_tasks (run_seq, idx, kind, name, target, args, state, undo) VALUES ${rows}`);
      this.taskInserts[n] = stmt;
    }
    return stmt;
  }

  private prepare() {
    const db = this.db;
    return {
      insertRun: db.prepare(
        `INSERT INTO runs (run_id, flow_name, label, meta, status, task_count, started_at, report_due, fence_key)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      ),
      seqOf: db.prepare('SELECT seq FROM runs WHERE run_id = ?').pluck(),
      intent: db.prepare(`UPDATE run_tasks SET state = 'intent', undo = ? WHERE run_seq = ? AND idx = ?`),
      done: db.prepare(`UPDATE run_tasks SET state = 'done', duration_ms = ? WHERE run_seq = ? AND idx = ?`),
      // done of task idx and intent of task idx + 1 in one statement: atomic without a savepoint
      doneThenIntent: db.prepare(
        `UPDATE run_tasks SET
           state = CASE WHEN idx = ? THEN 'done' ELSE 'intent' END,
           duration_ms = CASE WHEN idx = ? THEN ? ELSE duration_ms END,
           undo = CASE WHEN idx = ? THEN undo ELSE ? END
         WHERE run_seq = ? AND idx IN (?, ?)`,
      ),
      failed: db.prepare(`UPDATE run_tasks SET state = 'failed', error = ?, duration_ms = ?, undo = CASE WHEN ? THEN NULL ELSE undo END WHERE run_seq = ? AND idx = ?`),
      // A task whose apply failed is reverted too and keeps its error; only a revert's own failure is forgotten once it succeeds.
      reverted: db.prepare(
        `UPDATE run_tasks SET state = 'reverted', error = CASE WHEN state = 'revert_failed' THEN NULL ELSE error END, revert_ms = ? WHERE run_seq = ? AND idx = ?`,
      ),
      revertFailed: db.prepare(
        `UPDATE run_tasks SET state = 'revert_failed', error = ?, revert_ms = ? WHERE run_seq = ? AND idx = ?`,
      ),
      finish: db.prepare('UPDATE runs SET status = ?, ended_at = ?, result = ? WHERE seq = ?'),
      progress: db.prepare('UPDATE runs SET progress = ? WHERE seq = ?'),
      getRun: db.prepare('SELECT * FROM runs WHERE run_id = ?'),
      getTasks: db.prepare(
        'SELECT idx, kind, name, target, args, state, undo, duration_ms, revert_ms, error FROM run_tasks WHERE run_seq = ? ORDER BY idx',
      ),
      unfinished: db.prepare(`SELECT run_id FROM runs WHERE status = 'running' ORDER BY seq`).pluck(),
      // the literal report_due = 1 lets SQLite use the partial index runs_report_due
      unreported: db.prepare(`SELECT * FROM runs WHERE report_due = 1 AND status != 'running' ORDER BY seq`),
      // by run id, not the cached seq: the cache forgets a run once it is finished, and recovery marks others' runs
      reported: db.prepare('UPDATE runs SET report_due = 0 WHERE run_id = ? AND report_due = 1'),
      // the literal status = 'running' lets SQLite use the partial index runs_running_by_label
      unfinishedLabelled: db.prepare(`SELECT * FROM runs WHERE status = 'running' AND label = ? ORDER BY seq`),
      // the literal status lets SQLite use the partial index runs_revert_failed_by_label
      revertFailedLabelled: db.prepare(`SELECT run_id FROM runs WHERE status = 'revert_failed' AND label = ? ORDER BY seq DESC LIMIT 1`).pluck(),
      enqueue: db.prepare('INSERT INTO queued_runs (run_id, project, owner, input, accepted_at, fence_key) VALUES (?, ?, ?, ?, ?, ?)'),
      fencedAt: db.prepare('SELECT fenced_at FROM fences WHERE fence_key = ?').pluck(),
      addFence: db.prepare('INSERT INTO fences (fence_key, fenced_at) VALUES (?, ?)'),
      // the literal IS NOT NULL lets SQLite use the partial index runs_by_fence_key
      runsKeyed: db.prepare('SELECT run_id, status FROM runs WHERE fence_key = ? AND fence_key IS NOT NULL ORDER BY seq'),
      queuedKeyed: db.prepare('SELECT run_id, cancelled_at FROM queued_runs WHERE fence_key = ? ORDER BY seq'),
      dequeue: db.prepare('DELETE FROM queued_runs WHERE run_id = ?'),
      dequeueReturning: db.prepare('DELETE FROM queued_runs WHERE run_id = ? RETURNING cancelled_at'),
      queuedOne: db.prepare('SELECT * FROM queued_runs WHERE run_id = ?'),
      queuedAll: db.prepare('SELECT * FROM queued_runs ORDER BY seq'),
      queuedByOwner: db.prepare('SELECT * FROM queued_runs WHERE owner = ? ORDER BY seq'),
      queuedByProject: db.prepare('SELECT * FROM queued_runs WHERE project = ? ORDER BY seq'),
      queuedOwners: db.prepare('SELECT DISTINCT owner FROM queued_runs').pluck(),
      setQueuedOwner: db.prepare('UPDATE queued_runs SET owner = ? WHERE run_id = ?'),
      cancelQueued: db.prepare('UPDATE queued_runs SET cancelled_at = ? WHERE run_id = ? AND cancelled_at IS NULL'),
    };
  }

  start(run: JournalRunStart): void {
    let seq: number;
    try {
      seq = this.write(() => this.insertRun(run));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateRunError(run.runId);
      throw err;
    }
    this.seqs.set(run.runId, seq);
  }

  intent(runId: string, index: number, undo: Json | undefined): void {
    const text = encodeUndo(undo);
    const seq = this.seq(runId);
    this.commitNow(() => this.stmts.intent.run(text, seq, index), true);
  }

  /**
   * Committed: the runner writes it after the last task it applies, and a
   * run whose tasks are all done is rolled forward by recovery, not reverted
   * (its last step, e.g. a zone MOVED, may be one the site saw). With
   * `commitPerTurn` it goes into this turn's transaction, like the run's
   * `finish` that follows it: the two share one commit, and a crash before
   * it leaves the run as a crash just before the record would
   * ({@link committed} makes it durable at once for a caller that must wait).
   */
  done(runId: string, index: number, durationMs: number): void {
    const seq = this.seq(runId);
    this.write(() => this.stmts.done.run(durationMs, seq, index), true);
  }

  /** Committed when the next task has something to undo; otherwise both records are grouped (see the module's doc). */
  doneThenIntent(runId: string, index: number, durationMs: number, nextUndo: Json | undefined): void {
    const text = encodeUndo(nextUndo);
    const seq = this.seq(runId);
    const both = this.stmts.doneThenIntent;
    // one statement: atomic by itself, so it needs no savepoint
    const step = (): void => {
      both.run(index, index, durationMs, index, text, seq, index, index + 1);
    };
    if (text === null) this.group(step);
    else this.write(step, true);
  }

  failed(runId: string, index: number, error: string, durationMs: number, nothingApplied = false): void {
    const seq = this.seq(runId);
    this.commitNow(() => this.stmts.failed.run(error, durationMs, nothingApplied ? 1 : 0, seq, index), true);
  }

  /**
   * Grouped: committed with the next commit, and by itself once
   * {@link REVERT_GROUP_MS} passed or {@link REVERT_GROUP_SIZE} are waiting,
   * so a long revert of many quick tasks costs a commit per group, not per task.
   */
  reverted(runId: string, index: number, durationMs: number): void {
    const seq = this.seq(runId);
    const reverted = this.stmts.reverted;
    const now = performance.now();
    if (this.pendingReverts === 0) this.revertsSince = now;
    this.pendingReverts++;
    this.group(() => reverted.run(durationMs, seq, index));
    if (this.pendingReverts >= REVERT_GROUP_SIZE || now - this.revertsSince >= REVERT_GROUP_MS) this.flushGrouped();
  }

  revertFailed(runId: string, index: number, error: string, durationMs: number): void {
    const seq = this.seq(runId);
    this.commitNow(() => this.stmts.revertFailed.run(error, durationMs, seq, index), true);
  }

  /** Grouped (see the module's doc): a display, which recovery never reads. */
  progress(runId: string, progress: RunProgress): void {
    const seq = this.seq(runId);
    const text = JSON.stringify(progress);
    const write = this.stmts.progress;
    this.group(() => write.run(text, seq));
  }

  /** In this turn's commit: {@link whenDurable} waits for it. */
  finish(runId: string, result: RunResult): void {
    const seq = this.seq(runId);
    const text = JSON.stringify(result);
    this.write(() => this.stmts.finish.run(result.status, Date.now(), text, seq), true);
    this.seqs.delete(runId);
  }

  /**
   * Group commit: one fsync in flight at a time; it covers every record
   * committed before it started, so callers that committed meanwhile share
   * the next one. Resolves at once when nothing was written since the last sync
   * started and none is in flight.
   */
  whenDurable(): Promise<void> {
    if (!this.db.open) return RESOLVED; // a clean close checkpointed and synced everything
    this.flushGrouped();
    // this turn's commit first (shared with every run writing in this turn), then the sync
    if (this.turn !== undefined) return this.turn.done.then(() => this.whenDurable());
    if (this.queuedSync !== undefined) return this.queuedSync;
    if (this.syncing !== undefined) {
      if (!this.dirty) return this.syncing; // nothing committed since it started: it covers the caller
      const queued = this.syncing.then(ignore, ignore).then(() => {
        this.queuedSync = undefined;
        return this.startSync();
      });
      this.queuedSync = queued;
      return queued;
    }
    if (!this.dirty) return RESOLVED;
    return this.startSync();
  }

  /** How many write transactions this handle committed or began (for tests: concurrent runs share them). */
  get commitCount(): number {
    return this.checkpoints.count;
  }

  /** How many fsyncs {@link whenDurable} performed (for tests: concurrent runs share them). */
  get syncCount(): number {
    return this.syncs;
  }

  /**
   * Resolves once every record written so far is committed (crash-durable);
   * undefined when they are. With `commitPerTurn`, asking it ends the open
   * transaction once the callbacks queued so far have run.
   */
  committed(): Promise<void> | undefined {
    const turn = this.turn;
    if (turn === undefined) return undefined;
    if (!turn.soon) {
      // someone waits: the commit comes once the callbacks queued before this one have run (other runs
      // resumed by the same event write theirs into it), not at the end of the turn
      turn.soon = true;
      queueMicrotask(() => {
        if (this.turn === turn) this.endTurn();
      });
    }
    return turn.done;
  }

  /**
   * With `commitPerTurn`, runs `body`'s statements in this event-loop turn's
   * write transaction (opened by the first write of the turn, immediate: the
   * write lock up front, so a busy file waits `busy_timeout` instead of
   * failing), in a savepoint of their own: a body that throws leaves the
   * others' records. The transaction commits at the end of the turn
   * ({@link committed}), or with the next {@link commitNow}; another process
   * waits at most that long. Without it, {@link commitNow}. `single`: the
   * body is one statement, which SQLite makes atomic by itself (a failing
   * statement changes nothing), so it needs no savepoint of its own (two
   * statements less).
   */
  private write<T>(body: () => T, single = false): T {
    if (!this.perTurn) return this.commitNow(body, single);
    return this.inTurn(body, single);
  }

  /** `body` in this turn's transaction, in a savepoint unless `single` (see {@link write}). */
  private inTurn<T>(body: () => T, single: boolean): T {
    this.openTurn();
    try {
      return single ? body() : (this.savepoint(body) as T);
    } catch (err) {
      // an I/O error or a full disk rolls back the whole transaction: every record of the turn is lost
      if (!this.db.inTransaction) this.turnLost(err);
      throw err;
    }
  }

  /** {@link write}, then the commit, before it returns: for records other processes act on, and rare ones. */
  private commitNow<T>(body: () => T, single = false): T {
    let out: T;
    try {
      out = this.inTurn(body, single);
    } catch (err) {
      // its savepoint is rolled back; what else the transaction holds is committed as usual
      this.endTurn();
      throw err;
    }
    const failed = this.endTurn();
    if (failed !== undefined) throw failed;
    return out;
  }

  /** Opens this turn's transaction, with the grouped records first. */
  private openTurn(): void {
    if (this.turn !== undefined) return;
    this.beginTurn.run();
    this.wrote();
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // a turn nobody waits for must not fail the process with an unhandled rejection
    done.catch(ignore);
    const turn = { done, resolve, reject, soon: false };
    this.turn = turn;
    // the end of this turn's transaction, unless a commitNow ended it before
    setImmediate(() => {
      if (this.turn === turn) this.endTurn();
    });
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    this.pendingReverts = 0;
    try {
      this.savepoint(() => {
        for (let i = 0; i < pending.length; i++) pending[i]();
      });
    } catch (err) {
      // dropped: recovery does without them
      if (!this.db.inTransaction) this.turnLost(err);
    }
  }

  /** Commits this turn's transaction, if open; returns the error when the commit failed (its waiters get it too). */
  private endTurn(): unknown {
    const turn = this.turn;
    if (turn === undefined) return undefined;
    this.turn = undefined;
    try {
      this.commitTurn.run();
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.rollbackTurn.run();
        } catch {
          // the connection rolls back on its own once closed
        }
      }
      turn.reject(err);
      return err;
    }
    turn.resolve();
    return undefined;
  }

  /** The transaction is gone (SQLite rolled it back): its waiters learn it failed. */
  private turnLost(err: unknown): void {
    const turn = this.turn;
    this.turn = undefined;
    turn?.reject(err);
  }

  /** Keeps a record for the next transaction (see the module's doc); into the open one, if any. */
  private group(record: () => void): void {
    if (this.turn !== undefined) {
      try {
        record();
      } catch (err) {
        // dropped, as recovery does without it
        if (!this.db.inTransaction) this.turnLost(err);
      }
      return;
    }
    this.pending.push(record);
    this.groupTimer ??= setTimeout(() => {
      this.groupTimer = undefined;
      if (this.db.open) this.flushGrouped();
    }, GROUP_MS).unref();
  }

  /**
   * Commits the grouped records now (for a read of this handle, a timer,
   * a group grown large); if that fails they are dropped. Never leaves a
   * transaction open: another handle of this process (a test's, a command's)
   * may write next, and would wait for the lock on this thread.
   */
  private flushGrouped(): void {
    if (this.pending.length === 0) return;
    try {
      this.openTurn();
      this.endTurn();
    } catch {
      this.pending = [];
      this.pendingReverts = 0;
    }
  }

  /** Notes a commit: there is something to sync, and a busy journal gets its checkpoint worker. */
  private wrote(): void {
    this.dirty = true;
    this.checkpoints.committed();
  }

  private startSync(): Promise<void> {
    this.dirty = false;
    this.syncs++;
    const sync: Promise<void> = this.syncWal().finally(() => {
      if (this.syncing === sync) this.syncing = undefined;
    });
    this.syncing = sync;
    return sync;
  }

  private async syncWal(): Promise<void> {
    let handle: FileHandle;
    try {
      this.wal ??= open(`${this.filePath}-wal`, 'r');
      handle = await this.wal;
    } catch (err) {
      this.wal = undefined;
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      // no WAL (everything checkpointed and the file removed): the database file holds it all
      const db = await open(this.filePath, 'r');
      try {
        await db.datasync();
      } finally {
        await db.close();
      }
      return;
    }
    await handle.datasync();
  }

  getRun(runId: string): JournalRun | undefined {
    this.flushGrouped();
    const row = this.stmts.getRun.get(runId) as RunRow | undefined;
    if (!row) return undefined;
    const rows = this.stmts.getTasks.all(row.seq) as TaskRow[];
    const tasks: JournalTask[] = new Array(rows.length);
    let settled = 0;
    for (let i = 0; i < rows.length; i++) {
      tasks[i] = toTask(rows[i]);
      if (SETTLED.has(rows[i].state)) settled++;
    }
    return { ...toSummary(row, settled), tasks };
  }

  getRunSummary(runId: string): JournalRunSummary | undefined {
    this.flushGrouped();
    const row = this.stmts.getRun.get(runId) as RunRow | undefined;
    return row === undefined ? undefined : toSummary(row);
  }

  listRuns(query: ListRunsQuery): RunPage {
    this.flushGrouped();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.flowName !== undefined) {
      where.push('flow_name = ?');
      params.push(query.flowName);
    }
    if (query.label !== undefined) {
      where.push('label = ?');
      params.push(query.label);
    }
    const key = where.join(' AND ');
    let stmts = this.listStmts.get(key);
    if (!stmts) {
      const clause = where.length > 0 ? `WHERE ${key}` : '';
      stmts = {
        count: this.db.prepare(`SELECT COUNT(*) FROM runs ${clause}`).pluck(),
        page: this.db.prepare(`SELECT * FROM runs ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`),
      };
      this.listStmts.set(key, stmts);
    }
    const total = stmts.count.get(...params) as number;
    const rows = stmts.page.all(...params, Math.max(0, query.limit), Math.max(0, query.offset)) as RunRow[];
    return { total, runs: rows.map(toSummary) };
  }

  unfinishedRuns(): string[] {
    this.flushGrouped();
    return this.stmts.unfinished.all() as string[];
  }

  /**
   * Grouped (see the module's doc): it rides on the next commit of this
   * handle, at most {@link GROUP_MS} later. A mark lost in a crash only
   * makes recovery report the outcome once more.
   */
  reported(runId: string): void {
    const write = this.stmts.reported;
    this.group(() => write.run(runId));
  }

  unreportedRuns(): JournalRunSummary[] {
    this.flushGrouped();
    return (this.stmts.unreported.all() as RunRow[]).map(toSummary);
  }

  /** Reads no grouped record's change (they never change a run's status): asked per submit, it commits nothing. */
  unfinishedRunsLabelled(label: string): JournalRunSummary[] {
    return (this.stmts.unfinishedLabelled.all(label) as RunRow[]).map(toSummary);
  }

  /** Like {@link unfinishedRunsLabelled}, reads no grouped record's change: none changes a run's status. */
  revertFailedRunLabelled(label: string): string | undefined {
    return this.stmts.revertFailedLabelled.get(label) as string | undefined;
  }

  /** One transaction for all of `runs`: concurrent submits share its commit (and then one fsync). */
  enqueueRuns(runs: readonly NewQueuedRun[]): Array<QueuedRun | RunFencedError> {
    if (runs.length === 0) return [];
    const at = Date.now();
    // this turn's commit: the caller answers once whenDurable resolves. One run with a key reads the
    // fences first: two statements, so a savepoint of their own
    const single = runs.length === 1 && runs[0].fenceKey === undefined;
    const seqs = this.write(() => this.insertQueued(runs, at), single);
    const acceptedAt = new Date(at).toISOString();
    return runs.map((r, i) => {
      const seq = seqs[i];
      return seq instanceof RunFencedError ? seq : { ...r, seq, acceptedAt };
    });
  }

  /**
   * Committed before it returns (other processes' submits act on it), in
   * the same serial order of write transactions as every start and accept
   * of every handle on the file.
   */
  fence(key: string): FenceOutcome {
    const s = this.stmts;
    return this.commitNow((): FenceOutcome => {
      const fencedAt = this.fencedAt(key);
      if (fencedAt !== undefined) return { fenced: true, fencedAt };
      const runs: KeyedRun[] = (s.runsKeyed.all(key) as { run_id: string; status: JournalRunStatus }[]).map((r) => ({ runId: r.run_id, status: r.status }));
      for (const q of s.queuedKeyed.all(key) as { run_id: string; cancelled_at: number | null }[]) {
        runs.push({ runId: q.run_id, status: q.cancelled_at === null ? 'waiting' : 'cancelled' });
      }
      if (runs.length > 0) return { fenced: false, runs };
      const at = Date.now();
      s.addFence.run(key, at);
      return { fenced: true, fencedAt: new Date(at).toISOString() };
    });
  }

  fencedAt(key: string): string | undefined {
    const at = this.stmts.fencedAt.get(key) as number | undefined;
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  /** Throws RunFencedError when `key` is fenced. */
  private refuseFenced(key: string): void {
    const fencedAt = this.fencedAt(key);
    if (fencedAt !== undefined) throw new RunFencedError(key, fencedAt);
  }

  dequeueRun(runId: string): boolean {
    return this.commitNow(() => this.stmts.dequeue.run(runId).changes > 0, true);
  }

  queuedRun(runId: string): QueuedRun | undefined {
    const row = this.stmts.queuedOne.get(runId) as QueuedRow | undefined;
    return row === undefined ? undefined : toQueued(row);
  }

  queuedRuns(filter: { owner?: string; projectUuid?: string } = {}): QueuedRun[] {
    const rows = (
      filter.owner !== undefined
        ? this.stmts.queuedByOwner.all(filter.owner)
        : filter.projectUuid !== undefined
          ? this.stmts.queuedByProject.all(filter.projectUuid)
          : this.stmts.queuedAll.all()
    ) as QueuedRow[];
    return rows.filter((r) => filter.projectUuid === undefined || r.project === filter.projectUuid).map(toQueued);
  }

  queuedOwners(): string[] {
    return this.stmts.queuedOwners.all() as string[];
  }

  setQueuedOwner(runId: string, owner: string): void {
    this.commitNow(() => this.stmts.setQueuedOwner.run(owner, runId), true);
  }

  cancelQueuedRun(runId: string): boolean {
    // one statement: a start (which takes the row out in its own commit) and this are serialised by SQLite
    return this.commitNow(() => this.stmts.cancelQueued.run(Date.now(), runId).changes > 0, true);
  }

  /**
   * Resolves once the journal's checkpoint worker, if it ever started, has
   * ended after {@link SqliteJournal.close}: until then it may still touch
   * the journal's files (a caller removing their folder waits for this).
   */
  whenClosed(): Promise<void> {
    return this.workerEnded;
  }

  /** Closes the file (a clean close also checkpoints and removes the WAL). */
  close(): void {
    if (!this.db.open) return;
    this.flushGrouped();
    this.endTurn();
    clearTimeout(this.groupTimer);
    this.groupTimer = undefined;
    this.workerEnded = this.checkpoints.stop();
    this.db.close();
    // a FileHandle closes after its pending datasync; the clean close above synced the database anyway
    this.wal?.then((h) => h.close()).catch(ignore);
    this.wal = undefined;
  }

  /** The seq of a run: cached for runs started here, looked up for others (recovery). */
  private seq(runId: string): number {
    let seq = this.seqs.get(runId);
    if (seq === undefined) {
      seq = this.stmts.seqOf.get(runId) as number | undefined;
      if (seq === undefined) throw new RunNotFoundError(runId);
      this.seqs.set(runId, seq);
    }
    return seq;
  }
}

interface QueuedRow {
  seq: number;
  run_id: string;
  project: string;
  owner: string;
  input: string;
  accepted_at: number;
  cancelled_at: number | null;
  fence_key: string | null;
}

function toQueued(row: QueuedRow): QueuedRun {
  const q: QueuedRun = {
    seq: row.seq,
    runId: row.run_id,
    projectUuid: row.project,
    owner: row.owner,
    input: JSON.parse(row.input) as Json,
    acceptedAt: new Date(row.accepted_at).toISOString(),
  };
  if (row.cancelled_at !== null) q.cancelledAt = new Date(row.cancelled_at).toISOString();
  if (row.fence_key !== null) q.fenceKey = row.fence_key;
  return q;
}

function encodeUndo(undo: Json | undefined): string | null {
  if (undo === undefined) return null;
  const text = JSON.stringify(undo);
  // JSON.stringify returns undefined for functions and symbols: not JSON, so not recordable
  if (text === undefined) throw new UndoNotJsonError();
  return text;
}

/** Task states of a task that was applied (and maybe reverted since): counted as done in a running run's progress. */
const SETTLED: ReadonlySet<JournalTaskRecordState> = new Set(['done', 'reverted', 'revert_failed']);

/** `settled`: tasks counted as done from the task records (see {@link recordedProgress}). */
function toSummary(row: RunRow, settled?: number): JournalRunSummary {
  const summary: JournalRunSummary = {
    runId: row.run_id,
    flowName: row.flow_name,
    status: row.status,
    taskCount: row.task_count,
    startedAt: new Date(row.started_at).toISOString(),
  };
  if (row.label !== null) summary.label = row.label;
  if (row.meta !== null) summary.meta = JSON.parse(row.meta) as Json;
  if (row.ended_at !== null) summary.endedAt = new Date(row.ended_at).toISOString();
  if (row.result !== null) summary.result = JSON.parse(row.result) as RunResult;
  const progress = recordedProgress(summary, row.progress === null ? undefined : (JSON.parse(row.progress) as RunProgress), settled);
  if (progress !== undefined) summary.progress = progress;
  return summary;
}

function toTask(row: TaskRow): JournalTask {
  const task: JournalTask = {
    index: row.idx,
    kind: row.kind,
    name: row.name,
    target: row.target,
    args: JSON.parse(row.args) as Json,
    state: row.state,
  };
  if (row.undo !== null) task.undo = JSON.parse(row.undo) as Json;
  if (row.duration_ms !== null) task.durationMs = row.duration_ms;
  if (row.revert_ms !== null) task.revertMs = row.revert_ms;
  if (row.error !== null) task.error = row.error;
  return task;
}
