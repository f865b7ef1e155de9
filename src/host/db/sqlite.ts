/**
 * SQLite implementation of {@link Db} over better-sqlite3. better-sqlite3 is
 * synchronous, so an async transaction holds a mutex that every other
 * statement waits for: statements of other requests never land inside it.
 *
 * @module
 */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivateFile, ensurePrivateDir } from '../../private-files.js';
import { Mutex } from './mutex.js';
import { DatabaseUnavailableError, type Db, type Row, type SqlValue } from './types.js';

type Handle = Database.Database;

function runQuery<T>(h: Handle, sql: string, params: readonly SqlValue[]): T[] {
  return h.prepare(sql).all(...params) as T[];
}

function runExec(h: Handle, sql: string, params: readonly SqlValue[]): number {
  return h.prepare(sql).run(...params).changes;
}

/** The inside of an open transaction: runs statements directly. */
class SqliteTx implements Db {
  readonly kind = 'sqlite' as const;
  constructor(private readonly h: Handle) {}
  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return runQuery<T>(this.h, sql, params);
  }
  async exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return runExec(this.h, sql, params);
  }
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
  async close(): Promise<void> {}
}

/** A site database in one SQLite file (WAL). */
export class SqliteDb implements Db {
  readonly kind = 'sqlite' as const;
  private readonly mutex = new Mutex();
  private readonly tx: SqliteTx;

  private constructor(private readonly h: Handle) {
    this.tx = new SqliteTx(h);
  }

  /** Opens (creating when missing) the database file. */
  static open(filePath: string): SqliteDb {
    try {
      ensurePrivateDir(dirname(filePath));
      createPrivateFile(filePath);
      const h = new Database(filePath);
      h.pragma('journal_mode = WAL');
      h.pragma('busy_timeout = 5000');
      h.pragma('foreign_keys = ON');
      return new SqliteDb(h);
    } catch (err) {
      throw new DatabaseUnavailableError(filePath, err instanceof Error ? err.message : String(err));
    }
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.mutex.run(() => runQuery<T>(this.h, sql, params));
  }

  exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.mutex.run(() => runExec(this.h, sql, params));
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.h.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.tx);
        this.h.exec('COMMIT');
        return result;
      } catch (err) {
        this.h.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(() => this.h.close());
  }
}
