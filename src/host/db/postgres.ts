/**
 * PostgreSQL implementation of {@link Db} over `pg`. A `schema` query
 * parameter in the URL (ours, not libpq's) selects the search_path, so tests
 * can each use their own schema in one database.
 *
 * @module
 */
import pg from 'pg';
import { DatabaseUnavailableError, type Db, type Row, type SqlValue } from './types.js';

/** `?` placeholders to `$1..$n` (our SQL never has `?` inside literals). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = pg.Pool | pg.PoolClient;

class PgTx implements Db {
  readonly kind = 'postgres' as const;
  constructor(private readonly c: Queryable) {}
  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const res = await this.c.query(toPgPlaceholders(sql), params as SqlValue[]);
    return res.rows as T[];
  }
  async exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const res = await this.c.query(toPgPlaceholders(sql), params as SqlValue[]);
    return res.rowCount ?? 0;
  }
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
  async close(): Promise<void> {}
}

/** Removes the password from a URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** A site database on a PostgreSQL server. */
export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  private readonly direct: PgTx;

  private constructor(private readonly pool: pg.Pool) {
    this.direct = new PgTx(pool);
  }

  /**
   * Connects and checks the server answers; throws
   * {@link DatabaseUnavailableError} when it does not.
   */
  static async open(url: string): Promise<PostgresDb> {
    const u = new URL(url);
    const schema = u.searchParams.get('schema');
    u.searchParams.delete('schema');
    if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
      throw new DatabaseUnavailableError(redactUrl(url), `invalid schema name "${schema}"`);
    }
    const pool = new pg.Pool({
      connectionString: u.toString(),
      max: 8,
      connectionTimeoutMillis: 5000,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle client losing its connection must not crash the process.
    pool.on('error', () => undefined);
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new DatabaseUnavailableError(redactUrl(url), err instanceof Error ? err.message || String(err) : String(err));
    }
    return new PostgresDb(pool);
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.direct.query<T>(sql, params);
  }

  exec(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.direct.exec(sql, params);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PgTx(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
