/**
 * The site's database interface: small enough for SQLite and PostgreSQL to
 * implement the same way. SQL uses `?` placeholders and portable types
 * (TEXT, INTEGER; booleans as 0/1).
 *
 * @module
 */

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | null;

/** One row as returned by a query. */
export type Row = Record<string, unknown>;

/** An open site database (or a transaction on it: same methods). */
export interface Db {
  /** Which engine, for messages. */
  readonly kind: 'sqlite' | 'postgres';
  /** Runs a SELECT and returns its rows. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  exec(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when
   * it throws. Never await a call back into this site inside `fn` (the SQLite
   * implementation serialises transactions).
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Releases the connection(s). */
  close(): Promise<void>;
}

/** The database could not be opened or reached. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    /** Where we tried to connect (password removed). */
    readonly location: string,
    reason: string,
  ) {
    super(`Cannot open the site database at ${location}: ${reason}`);
  }
}
