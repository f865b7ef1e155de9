/**
 * What a registered query runs as on SQLite: the one place where SQL
 * written for the iCAT's PostgreSQL is turned into SQL SQLite compiles.
 *
 * Only the initial queries (`src/store/embedded/specific-queries.ts`,
 * those of a fresh iRODS 4.2.12 zone) are turned, and only those of them
 * SQLite cannot compile as PostgreSQL has them; each is matched by its whole
 * SQL text, whatever alias it has, so the same text registered again (say,
 * copied from a real zone with `iadmin asq`) runs too. Any other SQL runs
 * as it is: an administrator writes SQL that SQLite takes.
 *
 * Why turn them at run time rather than register SQLite's text: the
 * catalog then holds what a 4.2.12 zone holds, so `ls`, `lsl`,
 * `findQueryByAlias` and `listQueryByAliasLike` list the same text as on
 * iRODS (clients look queries up by it: python-irodsclient 3.3.0's
 * `test_list_specific_queries_with_arguments` runs `lsl` with `%OFFSET%`), and
 * a client that names a query by its SQL names iRODS's text.
 *
 * What SQLite (better-sqlite3 12) cannot compile, and the equivalent:
 *
 * - `A JOIN B JOIN C ON x ON y` (`listUserACLForDataObjViaGroup`,
 *   `listUserACLForCollectionViaGroup`): SQL's nested join, where `B JOIN C
 *   ON x` is the right side of `A JOIN … ON y`, as PostgreSQL parses it.
 *   SQLite takes one ON per join ("near "ON": syntax error"); with the
 *   nested join in parentheses it reads the same joins.
 * - `d.coll_id = ANY(ARRAY(SELECT coll_id FROM coll))`
 *   (`DataObjInCollReCur`): PostgreSQL's array of a subquery's values.
 *   SQLite has no ARRAY ("near "SELECT": syntax error"); `d.coll_id IN
 *   (SELECT coll_id FROM coll)` is true for the same rows (ids are never
 *   null).
 *
 * The rest compile and answer as on PostgreSQL as they are (their `LIMIT ?
 * OFFSET ?` too: SQLite takes the arguments, sent as text, as integers).
 * test/irods/specific-query.test.ts shows which compile as they are.
 *
 * @module
 */
import { INITIAL_SPECIFIC_QUERIES } from '../../store/embedded/specific-queries.js';

/** [iRODS's SQL of the initial query `alias`, it with each `from` replaced by its `to`]; each `from` must occur exactly once. */
function equivalent(alias: string, edits: ReadonlyArray<readonly [from: string, to: string]>): [string, string] {
  const q = INITIAL_SPECIFIC_QUERIES.find((x) => x.alias === alias);
  if (!q) throw new Error(`no initial specific query ${alias}`);
  let sql = q.sql;
  for (const [from, to] of edits) {
    const parts = sql.split(from);
    if (parts.length !== 2) throw new Error(`${alias}: ${JSON.stringify(from)} occurs ${parts.length - 1} times, not once`);
    sql = parts.join(to);
  }
  return [q.sql, sql];
}

const USER_IN_GROUP = 'R_USER_GROUP JOIN R_USER_MAIN ON R_USER_GROUP.user_id = R_USER_MAIN.user_id';
const OBJECT_IN_COLL = 'R_DATA_MAIN JOIN R_COLL_MAIN ON R_DATA_MAIN.coll_id = R_COLL_MAIN.coll_id';

/** iRODS's SQL → what it runs as here. */
export const SQLITE_EQUIVALENTS: ReadonlyMap<string, string> = new Map([
  equivalent('listUserACLForDataObjViaGroup', [
    [`JOIN ${USER_IN_GROUP} ON`, `JOIN (${USER_IN_GROUP}) ON`],
    [`JOIN ${OBJECT_IN_COLL} ON`, `JOIN (${OBJECT_IN_COLL}) ON`],
  ]),
  equivalent('listUserACLForCollectionViaGroup', [[`JOIN ${USER_IN_GROUP} ON`, `JOIN (${USER_IN_GROUP}) ON`]]),
  equivalent('DataObjInCollReCur', [['d.coll_id = ANY(ARRAY(SELECT coll_id FROM coll))', 'd.coll_id IN (SELECT coll_id FROM coll)']]),
]);

/** The SQL that runs for registered `sql`: its SQLite equivalent, or itself. */
export function sqliteEquivalent(sql: string): string {
  return SQLITE_EQUIVALENTS.get(sql) ?? sql;
}
