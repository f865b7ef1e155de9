/**
 * Paging: a query answers `maxRows` rows at a time, and a client asks for
 * the next page by sending the `continueInx` of the last reply (iRODS 4.3.5
 * `chlGenQuery`), or closes the query by sending it with `maxRows` 0.
 *
 * An open query is not an open SQLite statement: an open statement would keep
 * the store's connection busy (better-sqlite3 refuses writes on a connection
 * while one of its statements is being iterated) and pin the WAL. Instead
 * each page runs the query anew, starting after the sort keys of the last
 * row sent (the plan's order is total over its distinct rows), so an open
 * query costs a few hundred bytes and holds no lock; rows added or removed
 * between pages show up or vanish as they would after that position. A
 * query asking for `NO_DISTINCT` may repeat rows, so it continues by
 * skipping the rows already sent instead.
 *
 * A page reads at most `maxRows + 1` rows (the one past the page tells
 * whether more remain, so the last page answers `continueInx` 0 rather than
 * making the client ask for an empty one) and stops early at
 * {@link PAGE_BYTES}; nothing beyond one page is held in memory.
 *
 * Each connection keeps at most {@link MAX_OPEN_QUERIES} open queries; a new
 * one closes the oldest.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import type { ConnectionContext } from '../server/api.js';
import { continuesByKey, countSql, PAGE_PARAMS, pageSql, type QueryPlan } from './sql-builder.js';

/** Open queries per connection (clients rarely hold more than one; each keeps at most 32 KiB of conditions). */
export const MAX_OPEN_QUERIES = 16;
/** Most rows in one reply, whatever `maxRows` asks. */
export const MAX_ROWS_PER_PAGE = 10_000;
/** A page ends once its values reach this many bytes (the message bound is 64 MiB). */
export const PAGE_BYTES = 16 * 1024 * 1024;

/** Where an open query stands. */
export interface QueryPosition {
  plan: QueryPlan;
  /** Sort keys of the last row sent; null before the first page. */
  lastKey: unknown[] | null;
  /** Rows to skip: the requested offset, then (without key continuation) the rows sent. */
  skip: number;
}

/** One page of rows. */
export interface Page {
  rows: unknown[][];
  /** More rows follow the page. */
  more: boolean;
}

/** The open queries of one connection, oldest first. */
export class OpenQueries {
  private readonly open = new Map<number, QueryPosition>();
  private nextId = 1;

  /** Keeps `position` open and returns its `continueInx` (> 0); closes the oldest beyond the bound. */
  add(position: QueryPosition): number {
    while (this.open.size >= MAX_OPEN_QUERIES) this.open.delete(this.open.keys().next().value!);
    const id = this.nextId;
    // continueInx is a 32-bit int on the wire
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    this.open.set(id, position);
    return id;
  }

  get(id: number): QueryPosition | undefined {
    return this.open.get(id);
  }

  close(id: number): void {
    this.open.delete(id);
  }

  get size(): number {
    return this.open.size;
  }
}

const OPEN_QUERIES = Symbol('irods.genquery.openQueries');

/** The open queries of a connection. */
export function openQueriesOf(connection: ConnectionContext): OpenQueries {
  let q = connection.state.get(OPEN_QUERIES) as OpenQueries | undefined;
  if (!q) {
    q = new OpenQueries();
    connection.state.set(OPEN_QUERIES, q);
  }
  return q;
}

/** Prepared statements by SQL text, per connection: clients repeat the same few query shapes. */
const STATEMENT_CACHE_SIZE = 64;
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function prepared(db: Database.Database, sql: string, mode: 'raw' | 'pluck'): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  const key = `${mode}\0${sql}`;
  let stmt = cache.get(key);
  if (stmt) {
    cache.delete(key);
  } else {
    stmt = db.prepare(sql);
    if (mode === 'raw') stmt.raw(true);
    else stmt.pluck(true);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, stmt);
  return stmt;
}

function valueBytes(row: unknown[]): number {
  let n = 0;
  for (const v of row) n += typeof v === 'string' ? v.length * 3 : 24;
  return n;
}

/**
 * Reads the page after `position` (at most `maxRows` rows and, past the
 * first row, about `budgetBytes` of values) and moves `position` past it.
 */
export function readPage(db: Database.Database, position: QueryPosition, maxRows: number, budgetBytes = PAGE_BYTES): Page {
  const { plan } = position;
  const byKey = continuesByKey(plan) && position.lastKey !== null;
  const offset = position.skip > 0;
  const params: Record<string, unknown> = { ...plan.params, [PAGE_PARAMS.limit]: maxRows + 1 };
  if (offset) params[PAGE_PARAMS.offset] = position.skip;
  if (byKey) position.lastKey!.forEach((v, i) => (params[PAGE_PARAMS.key(i)] = v));

  const rows: unknown[][] = [];
  let more = false;
  let bytes = 0;
  const it = prepared(db, pageSql(plan, byKey, offset), 'raw').iterate(params) as IterableIterator<unknown[]>;
  try {
    for (let next = it.next(); !next.done; next = it.next()) {
      if (rows.length >= maxRows || (rows.length > 0 && bytes >= budgetBytes)) {
        more = true;
        break;
      }
      rows.push(next.value);
      bytes += valueBytes(next.value);
    }
  } finally {
    it.return?.();
  }

  if (continuesByKey(plan)) {
    if (rows.length > 0) position.lastKey = plan.order.map((k) => k.value(rows[rows.length - 1]));
    position.skip = 0;
  } else {
    position.skip += rows.length;
  }
  return { rows, more };
}

/** The number of rows the whole query has (`RETURN_TOTAL_ROW_COUNT`). */
export function countRows(db: Database.Database, plan: QueryPlan): number {
  return Number(prepared(db, countSql(plan), 'pluck').get(plan.params));
}
