/**
 * The specific queries this store serves: the two every iRODS catalog
 * holds from its start (iRODS 4.3.5 `icatSysInserts.sql`), `ls`, which
 * lists the specific queries with their SQL, and `lsl`, which lists those
 * whose SQL matches a `LIKE` pattern (arg1). Nobody can add one: an iRODS
 * specific query is SQL over the iCAT's tables, run with no access check
 * for whoever names it; this catalog is not the iCAT, and the store takes no
 * SQL from clients (`generalAdmin add specificQuery` is refused).
 *
 * The SQL each lists is the SQLite the store runs for it, over the list of
 * queries bound as JSON.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { likeToGlob } from '../admin/avu-ops.js';
import { IrodsError } from '../wire/irods-error.js';

/** One specific query: its alias, its SQL, and how many arguments it binds. */
export interface BuiltinQuery {
  alias: string;
  sql: string;
  args: number;
}

const FROM_LIST = `SELECT q.value ->> 'alias' AS alias, q.value ->> 'sql' AS sql FROM json_each(@queries) AS q`;

/** The queries, in the order `ls` lists them. */
export const BUILTIN_QUERIES: readonly BuiltinQuery[] = [
  { alias: 'ls', sql: `${FROM_LIST} ORDER BY alias`, args: 0 },
  // GLOB: the LIKE pattern is matched case-sensitively, as an iCAT's PostgreSQL does
  { alias: 'lsl', sql: `${FROM_LIST} WHERE (q.value ->> 'sql') GLOB @pattern ORDER BY alias`, args: 1 },
];

/**
 * The query a request names by alias, or by its SQL as `ls` lists it (an
 * iRODS server takes either); `CAT_UNKNOWN_SPECIFIC_QUERY` for any other.
 */
export function builtinQuery(nameOrSql: string): BuiltinQuery {
  const q = BUILTIN_QUERIES.find((b) => b.alias === nameOrSql || b.sql === nameOrSql);
  if (q) return q;
  throw new IrodsError(
    'CAT_UNKNOWN_SPECIFIC_QUERY',
    `unknown specific query ${JSON.stringify(nameOrSql.slice(0, 200))}: this store serves ${BUILTIN_QUERIES.map((b) => b.alias).join(', ')} and takes no SQL of its own`,
  );
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** Runs `q` with `args` (arg1…) on the catalog connection `db`; rows of text. */
export function runBuiltinQuery(db: Database.Database, q: BuiltinQuery, args: readonly string[]): string[][] {
  if (args.filter((a) => a !== '').length < q.args) {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `specific query ${q.alias} needs ${q.args} argument(s) (arg1…)`);
  }
  let byAlias = statements.get(db);
  if (!byAlias) statements.set(db, (byAlias = new Map()));
  let stmt = byAlias.get(q.alias);
  if (!stmt) byAlias.set(q.alias, (stmt = db.prepare(q.sql).raw(true)));
  const params: Record<string, string> = { queries: JSON.stringify(BUILTIN_QUERIES.map(({ alias, sql }) => ({ alias, sql }))) };
  if (q.alias === 'lsl') params.pattern = likeToGlob(args[0]!);
  return (stmt.all(params) as unknown[][]).map((row) => row.map((v) => (v === null ? '' : String(v))));
}
