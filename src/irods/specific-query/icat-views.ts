/**
 * The iCAT tables a specific query is written against (`R_DATA_MAIN`,
 * `R_COLL_MAIN`, `R_USER_MAIN` …, iRODS 4.3.5 `icatSysTables.sql.pp.in`), as
 * SQLite views over our catalog, and the one connection registered SQL runs
 * on.
 *
 * Where the SQL runs, and what it may read. An iRODS server runs a
 * registered query as it is, for anyone who names it, with no access check:
 * it can read every iCAT table, password hashes included. Here:
 *
 * - The SQL runs on a read-only connection to the catalog: SQLite refuses
 *   any write on it, whatever the SQL says. Registration checks SQL on the
 *   store's (`StoreCore.readOnlyCatalog`); queries run on one of their own in
 *   a query process (`./runner.ts`, `./query-process.ts`), with the same views
 *   and the same check ({@link IcatQueries.over}). The views are TEMP views
 *   of each connection, so the catalog file itself holds no iCAT shapes and
 *   other tools never see them.
 * - That connection still sees every table of the catalog, `passwords`
 *   too, and SQLite offers no way to hide a table from SQL on a connection
 *   that reads the tables beside it (its authorizer callback is not exposed
 *   by better-sqlite3; views over a second database must name it, and so
 *   could the SQL). So a statement is admitted only after SQLite compiled
 *   it, by what its program does ({@link IcatQueries.check}): one statement, a
 *   `SELECT` (or `WITH … SELECT`) that writes nothing and returns rows, whose
 *   every b-tree cursor opens a table (or index) the views are made of
 *   ({@link VIEW_SOURCES}: no `passwords`, no `sqlite_schema`), and that
 *   opens no virtual table (`dbstat`, `pragma_*` …). Every way SQL reads a
 *   stored row goes through such a cursor, however the SQL names the table
 *   (alias, subquery, CTE, view), so the check sees what the statement
 *   reads, not how it is spelled.
 * - Registration is checked the same way, so an administrator learns at
 *   `iadmin asq` that SQL is refused, not at its first run.
 *
 * The views' values are those GenQuery answers (each column's SQL is taken
 * from `../genquery/columns.ts`): the same ids, names, times, access names
 * and resources. LIKE on this connection compares case-sensitively,
 * as the iCAT's PostgreSQL does (`lsl` relies on it). Registered SQL runs
 * as it is, but for the few initial queries (those of a fresh iRODS 4.2.12
 * zone) whose PostgreSQL SQLite cannot compile: those run as the SQLite
 * equivalent `./sqlite-equivalents.ts` gives, checked as above.
 *
 * @module
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { BoundedCache } from '../../bounded-cache.js';
import type { StoreCore } from '../../store/embedded/core.js';
import { COLUMNS, CONST, resourceOfSql, type ExprRefs } from '../genquery/columns.js';
import { registerIdFunctions, SQL_PRINCIPAL_ID } from '../genquery/ids.js';
import { PAIRS_CTE, PAIRS_CTE_SQL, RESOURCES_SQL, type TableName } from '../genquery/tables.js';
import { IrodsError } from '../wire/irods-error.js';
import { sqliteEquivalent } from './sqlite-equivalents.js';

/** The catalog tables the views read: the only ones a specific query's program may open. */
export const VIEW_SOURCES = ['entries', 'avus', 'principals', 'members', 'acl', 'auth_names', 'resources', 'specific_queries'] as const;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `sql` with the store's constants (zone, vault, host, resources folder) written in: a view binds no parameters. */
function inline(sql: string, constants: Record<string, string>, what: string): string {
  return sql.replace(/@gq_[a-z]+/g, (p) => {
    const value = constants[p];
    if (value === undefined) throw new Error(`${what} binds ${p}, which a view cannot`);
    return quote(value);
  });
}

/** The SQL of GenQuery column `num`, every table it names read from `alias`, constants written in. */
function column(num: number, alias: string, constants: Record<string, string>, parent = 'gq_parent'): string {
  const def = COLUMNS.get(num);
  if (!def) throw new Error(`no GenQuery column ${num}`);
  const refs: ExprRefs = { alias: (_t: TableName) => alias, dataParent: () => parent, collParent: () => parent };
  return inline(def.sql(refs), constants, `GenQuery column ${num}`);
}

/** `CREATE TEMP VIEW` statements for the iCAT tables, over a store of `zone` whose vault is `vault` on `host`. */
export function icatViewsSql(zone: string, vault: string, host: string, resources: string): string[] {
  const constants = { [CONST.zone]: zone, [CONST.vault]: vault, [CONST.host]: host, [CONST.resources]: resources };
  const c = (num: number, alias: string, parent?: string) => column(num, alias, constants, parent);
  const select = (cols: Record<string, string>) =>
    Object.entries(cols)
      .map(([name, sql]) => `${sql} AS ${name}`)
      .join(',\n  ');
  const view = (name: string, cols: Record<string, string>, from: string) => `CREATE TEMP VIEW ${name} AS SELECT\n  ${select(cols)}\n${from}`;
  // an entry's parent joins on its rowid: SQLite leaves the join out of a query that reads none of its columns
  const parentJoin = (alias: string) => `LEFT JOIN entries AS gq_parent ON gq_parent.id = ${alias}.parent_id`;
  return [
    view(
      'R_ZONE_MAIN',
      { zone_id: c(101, 'z'), zone_name: c(102, 'z'), zone_type_name: c(103, 'z'), zone_conn_string: c(104, 'z'), r_comment: c(105, 'z'), create_ts: c(106, 'z'), modify_ts: c(107, 'z') },
      '',
    ),
    view(
      'R_USER_MAIN',
      {
        user_id: c(201, 'u'),
        user_name: c(202, 'u'),
        user_type_name: c(203, 'u'),
        zone_name: c(204, 'u'),
        user_info: c(206, 'u'),
        r_comment: c(207, 'u'),
        create_ts: c(208, 'u'),
        modify_ts: c(209, 'u'),
      },
      'FROM principals AS u',
    ),
    // every membership, each principal with itself and every user in public, as GenQuery's R_USER_GROUP
    `CREATE TEMP VIEW R_USER_GROUP AS WITH ${PAIRS_CTE_SQL} SELECT\n  ${select({
      group_user_id: c(900, 'g'),
      user_id: `${SQL_PRINCIPAL_ID}(g.user_name)`,
      create_ts: c(208, 'g'),
      modify_ts: c(209, 'g'),
    })}\nFROM ${PAIRS_CTE} AS g`,
    view('R_USER_AUTH', { user_id: c(1600, 'a'), user_auth_name: c(1601, 'a'), create_ts: c(208, 'a') }, 'FROM auth_names AS a'),
    view(
      'R_RESC_MAIN',
      {
        resc_id: c(301, 'r'),
        resc_name: c(302, 'r'),
        zone_name: c(303, 'r'),
        resc_type_name: c(304, 'r'),
        resc_class_name: c(305, 'r'),
        resc_net: c(306, 'r'),
        resc_def_path: c(307, 'r'),
        free_space: c(308, 'r'),
        free_space_ts: c(314, 'r'),
        resc_info: c(309, 'r'),
        r_comment: c(310, 'r'),
        resc_status: c(313, 'r'),
        create_ts: c(311, 'r'),
        modify_ts: c(312, 'r'),
        resc_children: c(315, 'r'),
        resc_context: c(316, 'r'),
        resc_parent: c(317, 'r'),
        resc_objcount: `(SELECT count(*) FROM entries AS o WHERE o.kind = 'o' AND ${resourceOfSql('o')} = r.name)`,
      },
      `FROM ${inline(RESOURCES_SQL, constants, 'the resources')} AS r`,
    ),
    view(
      'R_COLL_MAIN',
      {
        coll_id: c(500, 'e'),
        parent_coll_name: c(502, 'e'),
        coll_name: c(501, 'e'),
        coll_owner_name: c(503, 'e'),
        coll_owner_zone: c(504, 'e'),
        coll_map_id: c(505, 'e'),
        coll_inheritance: c(506, 'e'),
        coll_type: c(510, 'e'),
        coll_info1: c(511, 'e'),
        coll_info2: c(512, 'e'),
        coll_expiry_ts: c(416, 'e'),
        r_comment: c(507, 'e'),
        create_ts: c(508, 'e'),
        modify_ts: c(509, 'e'),
      },
      `FROM entries AS e ${parentJoin('e')} WHERE e.kind = 'c'`,
    ),
    view(
      'R_DATA_MAIN',
      {
        data_id: c(401, 'e'),
        coll_id: c(402, 'e'),
        data_name: c(403, 'e'),
        data_repl_num: c(404, 'e'),
        data_version: c(405, 'e'),
        data_type_name: c(406, 'e'),
        data_size: c(407, 'e'),
        resc_group_name: quote(''),
        resc_name: resourceOfSql('e'),
        data_path: c(410, 'e'),
        data_owner_name: c(411, 'e'),
        data_owner_zone: c(412, 'e'),
        data_is_dirty: c(413, 'e'),
        data_status: c(414, 'e'),
        data_checksum: c(415, 'e'),
        data_expiry_ts: c(416, 'e'),
        data_map_id: c(417, 'e'),
        data_mode: c(421, 'e'),
        r_comment: c(418, 'e'),
        create_ts: c(419, 'e'),
        modify_ts: c(420, 'e'),
        resc_hier: c(422, 'e'),
        resc_id: c(423, 'e'),
      },
      `FROM entries AS e ${parentJoin('e')} WHERE e.kind = 'o'`,
    ),
    // collections' and objects' ACLs in one table, as the iCAT keeps them
    view(
      'R_OBJT_ACCESS',
      { object_id: c(704, 'x'), user_id: c(703, 'x'), access_type_id: c(700, 'x'), create_ts: c(208, 'x'), modify_ts: c(209, 'x') },
      'FROM acl AS x',
    ),
    // the access levels' tokens (namespace access_type), from the same names and numbers
    view(
      'R_TOKN_MAIN',
      {
        token_namespace: c(702, 'l'),
        token_id: c(700, 'l'),
        token_name: c(701, 'l'),
        token_value: quote(''),
        token_value2: quote(''),
        token_value3: quote(''),
        r_comment: quote(''),
        create_ts: c(208, 'l'),
        modify_ts: c(209, 'l'),
      },
      'FROM (SELECT 1 AS level UNION ALL SELECT 2 UNION ALL SELECT 3) AS l',
    ),
    // each AVU its own meta_id (iRODS shares one row among entries with equal AVUs)
    view(
      'R_META_MAIN',
      {
        meta_id: c(603, 'm'),
        meta_namespace: c(621, 'm'),
        meta_attr_name: c(600, 'm'),
        meta_attr_value: c(601, 'm'),
        meta_attr_unit: c(602, 'm'),
        r_comment: quote(''),
        create_ts: c(604, 'm'),
        modify_ts: c(605, 'm'),
      },
      'FROM avus AS m',
    ),
    // the link's own times: when the item got the AVU (iRODS 4.2.12 db_plugin.cpp; `set` in place leaves them)
    view('R_OBJT_METAMAP', { object_id: 'm.entry_id', meta_id: c(603, 'm'), create_ts: 'm.linked', modify_ts: 'm.linked' }, 'FROM avus AS m'),
    view('R_SPECIFIC_QUERY', { alias: 'q.alias', sqlStr: 'q.sql', create_ts: 'q.created' }, 'FROM specific_queries AS q ORDER BY q.id'),
  ];
}

/** VDBE opcodes that open a cursor on a stored b-tree (P2 its root page, P3 its database). */
const BTREE_OPENS = new Set(['OpenRead', 'OpenWrite', 'ReopenIdx']);
/** VDBE opcodes that open a virtual table. */
const VTAB_OPENS = new Set(['VOpen', 'VCreate']);

interface ExplainRow {
  opcode: string;
  p2: number;
  p3: number;
}

/** The SQL with leading white space and comments removed. */
function withoutLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.replace(/^\s+/, '');
    if (t.startsWith('--')) s = t.slice(t.indexOf('\n') === -1 ? t.length : t.indexOf('\n'));
    else if (t.startsWith('/*')) s = t.slice(t.indexOf('*/') === -1 ? t.length : t.indexOf('*/') + 2);
    else return t;
  }
}

/** iRODS binds at most 10 arguments (`arg1`…`arg10`). */
const MAX_ARGS = 10;

/**
 * The program SQLite compiled `sql` to. EXPLAIN binds what the statement
 * binds and better-sqlite3 does not tell how many `?`s there are, so it is
 * run with none, then one NULL more at a time (no more than a query can be
 * given).
 */
function explain(db: Database.Database, sql: string): ExplainRow[] {
  const stmt = db.prepare(`EXPLAIN ${sql}`);
  for (let n = 0; ; n++) {
    try {
      return stmt.all(...new Array<null>(n).fill(null)) as ExplainRow[];
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      if (!/too few/i.test(err.message)) throw refuse('its parameters must be ?s, filled from arg1… in order');
      if (n === MAX_ARGS) throw refuse(`it has more ?s than the ${MAX_ARGS} arguments a query is given`);
    }
  }
}

/** What the views need to know of the store: its catalog file and the constants they write in. */
export interface IcatSite {
  /** The catalog's SQLite file. */
  catalog: string;
  /** Milliseconds a reader waits on a locked catalog. */
  busyTimeoutMs: number;
  zone: string;
  vault: string;
  host: string;
  resources: string;
}

/** The {@link IcatSite} of the store whose core is `core`. */
export function icatSiteOf(core: StoreCore): IcatSite {
  return {
    catalog: core.db.name,
    busyTimeoutMs: core.db.pragma('busy_timeout', { simple: true }) as number,
    zone: core.zone,
    vault: core.vault.dir,
    host: hostname(),
    resources: core.vault.resourcesDir,
  };
}

const refuse = (why: string) => new IrodsError('CAT_INVALID_ARGUMENT', `specific query refused: ${why}`);

/**
 * The connection specific queries run on, with the views; one per store,
 * closed with the store.
 */
export class IcatQueries {
  /** Registered queries are few; a store that sees many distinct ones keeps the latest. */
  private readonly statements = new BoundedCache<string, Database.Statement>(256);

  private constructor(private readonly db: Database.Database) {}

  private static readonly byDb = new WeakMap<Database.Database, IcatQueries>();

  /**
   * The queries of the store whose core is `core`, on its read-only
   * connection: what registration checks SQL with (compiling it is quick;
   * running it is {@link SpecificQueryRunner}'s, in another process).
   */
  static of(core: StoreCore): IcatQueries {
    const db = core.readOnlyCatalog();
    let q = IcatQueries.byDb.get(db);
    if (!q) IcatQueries.byDb.set(db, (q = IcatQueries.over(db, icatSiteOf(core))));
    return q;
  }

  /** Makes the views on `db`, a read-only connection to the catalog, and the queries over them. */
  static over(db: Database.Database, site: IcatSite): IcatQueries {
    registerIdFunctions(db);
    for (const sql of icatViewsSql(site.zone, site.vault, site.host, site.resources)) db.exec(sql);
    db.pragma('case_sensitive_like = ON');
    // temp views made: from here on, no statement may change even the temp schema
    db.pragma('query_only = ON');
    return new IcatQueries(db);
  }

  /**
   * Compiles `sql` and admits it only as the module comment says; throws
   * `CAT_INVALID_ARGUMENT` naming why not.
   */
  check(sql: string): Database.Statement {
    const cached = this.statements.get(sql);
    if (cached) return cached;
    // iRODS's initial queries that SQLite cannot compile run as their equivalent (./sqlite-equivalents.ts)
    const runs = sqliteEquivalent(sql);
    if (!/^(select|with)\b/i.test(withoutLeadingComments(runs))) throw refuse('the SQL must be one SELECT');
    let stmt: Database.Statement;
    let program: ExplainRow[];
    try {
      stmt = this.db.prepare(runs);
      program = explain(this.db, runs);
    } catch (err) {
      if (err instanceof IrodsError) throw err;
      throw refuse(`SQLite cannot compile it (${(err as Error).message}); write it against the iCAT tables R_DATA_MAIN, R_COLL_MAIN, R_USER_MAIN, R_USER_GROUP, R_OBJT_ACCESS, R_TOKN_MAIN, R_META_MAIN, R_OBJT_METAMAP, R_RESC_MAIN, R_ZONE_MAIN, R_USER_AUTH, R_SPECIFIC_QUERY`);
    }
    if (!stmt.readonly || !stmt.reader) throw refuse('the SQL must read rows and change nothing');
    const allowed = new Set(
      this.db
        .prepare(`SELECT rootpage FROM main.sqlite_schema WHERE tbl_name IN (${VIEW_SOURCES.map(quote).join(', ')}) AND rootpage > 0`)
        .pluck()
        .all() as number[],
    );
    for (const op of program) {
      if (VTAB_OPENS.has(op.opcode)) throw refuse('it reads a virtual table; only the iCAT tables are served');
      if (BTREE_OPENS.has(op.opcode) && (op.p3 !== 0 || !allowed.has(op.p2))) {
        throw refuse('it reads a table that is not one of the iCAT tables served (passwords and the schema are not)');
      }
    }
    this.statements.set(sql, stmt.raw(true).safeIntegers(true));
    return stmt;
  }

  /**
   * Runs the admitted `sql` with `args` bound to its `?`s in order: the
   * rows from `offset` on, at most `max`, as text, and whether more follow.
   */
  run(sql: string, args: readonly string[], offset: number, max: number): { rows: string[][]; more: boolean } {
    const stmt = this.check(sql);
    const rows: string[][] = [];
    let more = false;
    let index = 0;
    let iterator: IterableIterator<unknown>;
    try {
      iterator = stmt.iterate(...args) as IterableIterator<unknown>;
    } catch (err) {
      if (err instanceof RangeError) throw new IrodsError('CAT_INVALID_ARGUMENT', `specific query: ${err.message} (arg1…arg10 fill its ?s in order)`);
      throw err;
    }
    try {
      for (const row of iterator) {
        if (index++ < offset) continue;
        if (rows.length === max) {
          more = true;
          break;
        }
        rows.push((row as unknown[]).map(text));
      }
    } catch (err) {
      // the statement compiled but failed running (a function it may not call, an overflow)
      if (err instanceof Database.SqliteError) throw new IrodsError('CAT_SQL_ERR', `specific query failed: ${err.message}`);
      throw err;
    }
    return { rows, more };
  }
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}
