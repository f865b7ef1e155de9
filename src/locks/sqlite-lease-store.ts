/**
 * The embedded lease store: one SQLite file in the data dir (WAL), shared by
 * every process on the machine that uses the same data dir.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type LeaseHolder, thisHolder } from './keys.js';
import type { LeaseStore } from './lease-store.js';
import { LockBackendError } from './types.js';

/** How long one statement waits for another process's write before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  key TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID`;

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    // One statement, so one write transaction: insert, or take over a lease
    // whose time is up. `changes` is 0 exactly when a live lease is in the way.
    acquire: db.prepare<[string, string, number, string, number, number, number]>(`
      INSERT INTO leases (key, token, pid, host, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET
        token = excluded.token, pid = excluded.pid, host = excluded.host,
        acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      WHERE leases.expires_at <= ?`),
    renew: db.prepare<[number, string, string]>('UPDATE leases SET expires_at = ? WHERE key = ? AND token = ?'),
    release: db.prepare<[string, string]>('DELETE FROM leases WHERE key = ? AND token = ?'),
    isLocked: db.prepare<[string, number]>('SELECT 1 FROM leases WHERE key = ? AND expires_at > ?').pluck(),
  };
}

/** Leases in `<dataDir>/locks.sqlite`. Opens the file on first use. */
export class SqliteLeaseStore implements LeaseStore {
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;
  private readonly holder: LeaseHolder = thisHolder();
  private closed = false;

  constructor(
    /** Path of the SQLite file. */
    readonly filePath: string,
  ) {}

  get description(): string {
    return `lock database ${this.filePath}`;
  }

  async tryAcquire(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.run((s) => {
      const now = Date.now();
      return s.acquire.run(key, token, this.holder.pid, this.holder.host, now, now + leaseMs, now).changes === 1;
    });
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return this.run((s) => s.renew.run(Date.now() + leaseMs, key, token).changes === 1);
  }

  async release(key: string, token: string): Promise<boolean> {
    return this.run((s) => s.release.run(key, token).changes === 1);
  }

  async isLocked(key: string): Promise<boolean> {
    return this.run((s) => s.isLocked.get(key, Date.now()) !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
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
    mkdirSync(dirname(this.filePath), { recursive: true });
    const db = new Database(this.filePath, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma('journal_mode = WAL');
      // A lease lost to a power cut is harmless: its holder died with it.
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      this.stmts = prepare(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return this.stmts;
  }
}
