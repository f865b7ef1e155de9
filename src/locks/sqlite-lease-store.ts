/**
 * The embedded lease store: one SQLite file in the data dir (WAL), shared by
 * every process on the machine that uses the same data dir.
 *
 * Lease writes asked for in one turn of the event loop (the runs that one
 * group fsync ends release their projects together; the runs that one group
 * of accepted submits starts take theirs together) run in one transaction
 * at the end of that turn, in the order they were asked for: one commit,
 * and one round of file locks, instead of one per lease. Each write's
 * promise settles once that commit is done, so a lease is never reported
 * taken or released before it is, for this process or another.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BusyCheckpoints } from '../engine/checkpointer.js';
import { ensurePrivateDir } from '../private-files.js';
import { openSqlite } from '../sqlite-busy.js';
import { type LeaseHolder, thisHolder } from './keys.js';
import type { LeaseStore } from './lease-store.js';
import { LockBackendError } from './types.js';

/** How long one statement waits for another process's write before giving up. */
const BUSY_TIMEOUT_MS = 5_000;
/**
 * Page size of new lock files: the table is a few rows, and every acquire
 * and release commits a page to the WAL, so small pages mean fewer bytes.
 */
const PAGE_SIZE = 1024;
/**
 * Commits after which a store counts as busy and checkpoints in a worker
 * thread: a checkpoint on this connection (SQLite's automatic one, every
 * 1000 pages, i.e. every ~500 lock pairs) fsyncs on the event loop.
 * Short-lived stores (the CLI's) never get a worker.
 */
const CHECKPOINT_WORKER_AFTER_COMMITS = 256;
/** WAL pages at which a store with a worker still checkpoints itself, should the worker fall behind. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * The clock the embedded leases are timed on: the machine's monotonic
 * clock, which every process on the machine shares and no clock step
 * (NTP, an operator, a resumed virtual machine) moves. A forward step of
 * the wall clock made every live lease look run out to a peer, which then
 * took a living service's run over under its feet. The clock starts again
 * at each boot, so a lease also names the boot it was taken in, and one of
 * another boot counts as run out.
 */
export interface LeaseClock {
  /** This boot of the machine. */
  readonly boot: string;
  /** Milliseconds on the clock now. */
  now(): number;
}

/** Where Linux gives this boot's id. */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** {@link LeaseClock} of this machine: CLOCK_MONOTONIC (`process.hrtime`), or the wall clock where no boot id can be read. */
export function machineLeaseClock(bootIdFile = BOOT_ID_FILE): LeaseClock {
  let boot: string;
  try {
    boot = readFileSync(bootIdFile, 'utf8').trim();
  } catch {
    return { boot: 'wall-clock', now: () => Date.now() };
  }
  return { boot, now: () => Number(process.hrtime.bigint() / 1_000_000n) };
}

// `boot` came after the first files: rows without it ('') were timed on the
// wall clock, by a version that must not run beside this one, and count as
// run out
const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  key TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  boot TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID`;

type Statements = ReturnType<typeof prepare>;

/** A lease write waiting for the end of the turn: the statement to run, and whom to tell how many rows it changed. */
interface PendingWrite {
  write: (s: Statements) => number;
  resolve: (changes: number) => void;
  reject: (err: unknown) => void;
}

function prepare(db: Database.Database) {
  return {
    // One statement, so one write transaction: insert, or take over a lease
    // whose time is up (or of another boot). `changes` is 0 exactly when a
    // live lease is in the way.
    acquire: db.prepare<[string, string, number, string, number, number, string, number, string]>(`
      INSERT INTO leases (key, token, pid, host, acquired_at, expires_at, boot) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET
        token = excluded.token, pid = excluded.pid, host = excluded.host,
        acquired_at = excluded.acquired_at, expires_at = excluded.expires_at, boot = excluded.boot
      WHERE leases.expires_at <= ? OR leases.boot <> ?`),
    renew: db.prepare<[number, string, string]>('UPDATE leases SET expires_at = ? WHERE key = ? AND token = ?'),
    release: db.prepare<[string, string]>('DELETE FROM leases WHERE key = ? AND token = ?'),
    isLocked: db.prepare<[string, number, string]>('SELECT 1 FROM leases WHERE key = ? AND expires_at > ? AND boot = ?').pluck(),
  };
}

/** Leases in `<dataDir>/locks.sqlite`. Opens the file on first use. */
export class SqliteLeaseStore implements LeaseStore {
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;
  private readonly holder: LeaseHolder = thisHolder();
  private closed = false;
  private transactions = 0;
  private checkpoints: BusyCheckpoints | undefined;
  /** This turn's lease writes (see the module's doc), and the transaction that runs them. */
  private pending: PendingWrite[] = [];
  private inOne: Database.Transaction<(batch: PendingWrite[], s: Statements, out: number[]) => void> | undefined;

  constructor(
    /** Path of the SQLite file. */
    readonly filePath: string,
    /** What the leases are timed on (tests give their own). */
    private readonly clock: LeaseClock = machineLeaseClock(),
  ) {}

  get description(): string {
    return `lock database ${this.filePath}`;
  }

  async tryAcquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    const { pid, host } = this.holder;
    return this.committed(
      await this.inTurn((s) => {
        const { boot } = this.clock;
        const now = this.clock.now();
        return s.acquire.run(key, token, pid, host, now, now + leaseMs, boot, now, boot).changes;
      }),
    );
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.committed(await this.inTurn((s) => s.renew.run(this.clock.now() + leaseMs, key, token).changes));
  }

  async release(key: string, token: string): Promise<boolean> {
    return this.committed(await this.inTurn((s) => s.release.run(key, token).changes));
  }

  /** How many write transactions this store committed (for tests: writes of one turn share one). */
  get transactionCount(): number {
    return this.transactions;
  }

  async isLocked(key: string): Promise<boolean> {
    return this.run((s) => s.isLocked.get(key, this.clock.now(), this.clock.boot) !== undefined);
  }

  async close(): Promise<void> {
    // writes asked for before the close still happen (a release on the way out)
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    // as for the journal and the store: once closed, nothing of this store touches its folder
    const workerEnded = this.checkpoints?.stop();
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
    this.inOne = undefined;
    await workerEnded;
  }

  /** Counts a write that changed `changes` rows (1: it took effect). */
  private committed(changes: number): boolean {
    if (changes > 0) this.checkpoints?.committed();
    return changes === 1;
  }

  /**
   * Runs `write` in this turn's transaction (see the module's doc) and
   * resolves with the rows it changed once that transaction is committed;
   * rejects with a LockBackendError when the store is closed or the
   * transaction failed (then none of the turn's writes happened).
   */
  private inTurn(write: (s: Statements) => number): Promise<number> {
    if (this.closed) return Promise.reject(new LockBackendError(`${this.description}: closed`));
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits this turn's lease writes in one immediate transaction, in the order they were asked for. */
  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const changes: number[] = new Array(batch.length);
    try {
      this.run((s) => {
        this.inOne ??= this.db!.transaction((writes: PendingWrite[], st: Statements, out: number[]) => {
          for (let i = 0; i < writes.length; i++) out[i] = writes[i].write(st);
        });
        this.inOne.immediate(batch, s, changes);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    this.transactions++;
    for (let i = 0; i < batch.length; i++) batch[i].resolve(changes[i]);
  }

  /** Runs `fn` on the open database; any SQLite failure becomes a LockBackendError. */
  private run<T>(fn: (s: Statements) => T): T {
    if (this.closed) throw new LockBackendError(`${this.description}: closed`);
    try {
      return fn(this.stmts ?? this.open());
    } catch (err) {
      throw new LockBackendError(`${this.description}: ${(err as Error).message}`);
    }
  }

  private open(): Statements {
    ensurePrivateDir(dirname(this.filePath));
    let stmts: Statements | undefined;
    this.db = openSqlite(this.filePath, BUSY_TIMEOUT_MS, (db) => {
      // new files only (a WAL database keeps its page size)
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      // A lease lost to a power cut is harmless: its holder died with it.
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      addBootColumn(db);
      stmts = prepare(db);
    });
    this.checkpoints = new BusyCheckpoints(this.db, { afterCommits: CHECKPOINT_WORKER_AFTER_COMMITS, backstopPages: WAL_AUTOCHECKPOINT_PAGES });
    this.stmts = stmts!;
    return this.stmts;
  }
}

/** Gives a lease file made before leases named their boot the `boot` column (see {@link SCHEMA}). */
function addBootColumn(db: Database.Database): void {
  const has = db.prepare(`SELECT count(*) FROM pragma_table_info('leases') WHERE name = 'boot'`).pluck();
  if (has.get() !== 0) return;
  // asked again in a write transaction: two processes opening the old file at once add it once
  db.transaction(() => {
    if (has.get() === 0) db.exec(`ALTER TABLE leases ADD COLUMN boot TEXT NOT NULL DEFAULT ''`);
  }).immediate();
}
