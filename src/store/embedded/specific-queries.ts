/**
 * Specific queries: SQL a zone's administrator registers under an alias, as
 * an iRODS catalog keeps them in `R_SPECIFIC_QUERY` (`iadmin asq` / `rsq`).
 * The catalog only keeps them; what a query may read, and running it, is the
 * iRODS server's business (`src/irods/specific-query/`): the SQL is written
 * against the iCAT's tables, which this catalog shows as views there.
 *
 * As iRODS 4.3.5 `db_add_specific_query_op` / `db_del_specific_query_op`:
 * an alias is unique, a query may have none, the same SQL may be registered
 * twice; a query is found by its SQL first, then by its alias; removing by
 * SQL removes every query with that SQL.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { AlreadyExistsError } from '../errors.js';
import type { StoreCore } from './core.js';

/** A registered query. */
export interface SpecificQuery {
  /** Its alias; null for one registered without. */
  alias: string | null;
  sql: string;
}

/**
 * The queries every iRODS catalog starts with (iRODS 4.3.5
 * `icatSysInserts.sql`, with their creation times there): listing the
 * registered queries, those whose SQL is `LIKE` arg1, and the ACL of a
 * collection (`ils -A` runs it).
 */
export const INITIAL_SPECIFIC_QUERIES: ReadonlyArray<SpecificQuery & { created: string }> = [
  { alias: 'ls', sql: 'select alias, sqlStr from R_SPECIFIC_QUERY', created: '01292940000' },
  { alias: 'lsl', sql: 'select alias, sqlStr from R_SPECIFIC_QUERY where sqlStr like ?', created: '01292940000' },
  {
    alias: 'ShowCollAcls',
    sql:
      'select distinct R_USER_MAIN.user_name, R_USER_MAIN.zone_name, R_TOKN_MAIN.token_name, R_USER_MAIN.user_type_name ' +
      'from R_USER_MAIN, R_TOKN_MAIN, R_OBJT_ACCESS, R_COLL_MAIN where R_OBJT_ACCESS.object_id = R_COLL_MAIN.coll_id ' +
      "AND R_COLL_MAIN.coll_name = ? AND R_TOKN_MAIN.token_namespace = 'access_type' AND R_USER_MAIN.user_id = R_OBJT_ACCESS.user_id " +
      'AND R_OBJT_ACCESS.access_type_id = R_TOKN_MAIN.token_id',
    created: '01342019000',
  },
];

/**
 * The table, made with the initial queries when the catalog has none yet (a
 * new catalog, or one made before the table): an administrator who removes
 * one of them later does not get it back at the next start. Runs inside the
 * catalog's setup transaction.
 */
export function addSpecificQueryTable(db: Database.Database): void {
  const has = db.prepare(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'specific_queries'`).pluck().get() as number;
  if (has > 0) return;
  // id: the order of registration, which `ls` lists in (as the iCAT's heap does)
  db.exec(`CREATE TABLE specific_queries (
    id      INTEGER PRIMARY KEY,
    alias   TEXT UNIQUE,
    sql     TEXT NOT NULL,
    created TEXT NOT NULL
  )`);
  db.exec('CREATE INDEX specific_queries_sql ON specific_queries (sql)');
  const insert = db.prepare('INSERT INTO specific_queries (alias, sql, created) VALUES (?, ?, ?)');
  for (const q of INITIAL_SPECIFIC_QUERIES) insert.run(q.alias, q.sql, q.created);
}

/** iRODS's 11-digit seconds since the epoch, as `create_ts` holds them. */
const nowTs = () => String(Math.floor(Date.now() / 1000)).padStart(11, '0');

/** Read and change the registered specific queries. */
export class SpecificQueries {
  constructor(private readonly core: StoreCore) {}

  /**
   * Registers `sql` under `alias` (none when empty). AlreadyExists when
   * another query has the alias. Whether the SQL may be run is the caller's
   * to check first.
   */
  add(sql: string, alias: string): void {
    const { core } = this;
    core.write(() => {
      if (alias !== '' && core.db.prepare('SELECT 1 FROM specific_queries WHERE alias = ?').get(alias)) {
        throw new AlreadyExistsError(alias, 'specific query');
      }
      core.db.prepare('INSERT INTO specific_queries (alias, sql, created) VALUES (?, ?, ?)').run(alias === '' ? null : alias, sql, nowTs());
    });
  }

  /** Removes the queries whose SQL is `sqlOrAlias`, or else the one with that alias; how many went. */
  remove(sqlOrAlias: string): number {
    const { core } = this;
    return core.write(() => {
      const bySql = core.db.prepare('DELETE FROM specific_queries WHERE sql = ?').run(sqlOrAlias).changes;
      return bySql > 0 ? bySql : core.db.prepare('DELETE FROM specific_queries WHERE alias = ?').run(sqlOrAlias).changes;
    });
  }

  /** The SQL a request names: `sqlOrAlias` itself when it is registered SQL, else the SQL of that alias; null for neither. */
  find(sqlOrAlias: string): string | null {
    const { core } = this;
    return core.read(() => {
      if (core.db.prepare('SELECT 1 FROM specific_queries WHERE sql = ?').get(sqlOrAlias)) return sqlOrAlias;
      return (core.db.prepare('SELECT sql FROM specific_queries WHERE alias = ?').pluck().get(sqlOrAlias) as string | undefined) ?? null;
    });
  }
}
