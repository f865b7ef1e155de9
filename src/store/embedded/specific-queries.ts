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

/** A query every catalog starts with: its alias, SQL and `create_ts` as iRODS registers them. */
export interface InitialSpecificQuery extends SpecificQuery {
  alias: string;
  created: string;
}

/**
 * The queries a fresh iRODS 4.2.12 zone whose iCAT is PostgreSQL (SODAR's)
 * has, in the order it registers them, each with its `create_ts` there.
 * Their aliases, SQL and times are data such a zone holds in
 * `R_SPECIFIC_QUERY`, copied here verbatim (a `''` in iRODS's source is one
 * `'` in the SQL); nothing else is taken from iRODS.
 *
 * Where a 4.2.12 zone gets them (iRODS tag 4.2.12):
 * `plugins/database/src/icatSysInserts.sql` registers the first three and
 * sets the catalog's `schema_version` to 1; `VERSION.json.dist.in` says
 * `catalog_schema_version` 8, and `scripts/irods/database_interface.py`
 * (`server_launch_hook`) runs `scripts/irods/database_upgrade.py` one
 * version at a time up to it when the server first starts, so every fresh
 * 4.2.12 zone has the queries of versions 2 to 8 too. Of those steps, 2
 * registers eight; 3 registers `DataObjInCollReCur`, which 5 rewrites
 * (`resc_hier` becomes `resc_id`; `create_ts` stays) and 4 removes only
 * from a MySQL iCAT; 7 registers `listGroupsForUser`; 6 and 8 touch no
 * query. `ls` and `lsl` list them in this order (the iCAT lists its heap,
 * `ls` has no ORDER BY; the catalog keeps registration order).
 *
 * Three of them do not compile in SQLite as PostgreSQL has them; they run
 * as an SQLite equivalent (`src/irods/specific-query/sqlite-equivalents.ts`)
 * and are listed as iRODS has them.
 */
export const INITIAL_SPECIFIC_QUERIES: ReadonlyArray<InitialSpecificQuery> = [
  // icatSysInserts.sql: listing the registered queries, those whose SQL is
  // LIKE arg1, and the ACL of a collection (`ils -A` runs it)
  {
    alias: 'ls',
    sql: 'select alias, sqlStr from R_SPECIFIC_QUERY',
    created: '01292940000',
  },
  {
    alias: 'lsl',
    sql: 'select alias, sqlStr from R_SPECIFIC_QUERY where sqlStr like ?',
    created: '01292940000',
  },
  {
    alias: 'ShowCollAcls',
    sql:
      'select distinct R_USER_MAIN.user_name, R_USER_MAIN.zone_name, R_TOKN_MAIN.token_name, R_USER_MAIN.user_type_name from ' +
      'R_USER_MAIN, R_TOKN_MAIN, R_OBJT_ACCESS, R_COLL_MAIN where R_OBJT_ACCESS.object_id = R_COLL_MAIN.coll_id AND ' +
      "R_COLL_MAIN.coll_name = ? AND R_TOKN_MAIN.token_namespace = 'access_type' AND R_USER_MAIN.user_id = " +
      'R_OBJT_ACCESS.user_id AND R_OBJT_ACCESS.access_type_id = R_TOKN_MAIN.token_id',
    created: '01342019000',
  },
  // database_upgrade.py schema version 2: queries by alias, listings with
  // ACLs (the collections, then the objects, in collection arg1; arg2 is the
  // LIMIT and arg3 the OFFSET), collections shared by an AVU of unit
  // iRODSUserTagging:Share, and a user's access to an object or collection
  // through the groups the user is in (R_USER_GROUP also pairs each user
  // with itself: 4.2.12 db_plugin.cpp chlRegUserRE)
  {
    alias: 'listQueryByAliasLike',
    sql: 'SELECT alias, sqlStr FROM R_SPECIFIC_QUERY WHERE alias LIKE ?',
    created: '1388534400',
  },
  {
    alias: 'findQueryByAlias',
    sql: 'SELECT alias, sqlStr FROM R_SPECIFIC_QUERY WHERE alias = ?',
    created: '1388534400',
  },
  {
    alias: 'ilsLACollections',
    sql:
      'SELECT c.parent_coll_name, c.coll_name, c.create_ts, c.modify_ts, c.coll_id, c.coll_owner_name, c.coll_owner_zone, ' +
      'c.coll_type, u.user_name, u.zone_name, a.access_type_id, u.user_id FROM R_COLL_MAIN c JOIN R_OBJT_ACCESS a ON c.coll_id ' +
      '= a.object_id JOIN R_USER_MAIN u ON a.user_id = u.user_id WHERE c.parent_coll_name = ? ORDER BY c.coll_name, ' +
      'u.user_name, a.access_type_id DESC LIMIT ? OFFSET ?',
    created: '1388534400',
  },
  {
    alias: 'ilsLADataObjects',
    sql:
      'SELECT s.coll_name, s.data_name, s.create_ts, s.modify_ts, s.data_id, s.data_size, s.data_repl_num, s.data_owner_name, ' +
      's.data_owner_zone, u.user_name, u.user_id, a.access_type_id, u.user_type_name, u.zone_name FROM ( SELECT c.coll_name, ' +
      'd.data_name, d.create_ts, d.modify_ts, d.data_id, d.data_repl_num, d.data_size, d.data_owner_name, d.data_owner_zone ' +
      'FROM R_COLL_MAIN c JOIN R_DATA_MAIN d ON c.coll_id = d.coll_id WHERE c.coll_name = ? ORDER BY d.data_name) s JOIN ' +
      'R_OBJT_ACCESS a ON s.data_id = a.object_id JOIN R_USER_MAIN u ON a.user_id = u.user_id ORDER BY s.coll_name, ' +
      's.data_name, u.user_name, a.access_type_id DESC LIMIT ? OFFSET ?',
    created: '1388534400',
  },
  {
    alias: 'listSharedCollectionsOwnedByUser',
    sql:
      'SELECT DISTINCT R_COLL_MAIN.coll_id, R_COLL_MAIN.parent_coll_name, R_COLL_MAIN.coll_name, R_COLL_MAIN.coll_owner_name, ' +
      'R_COLL_MAIN.coll_owner_zone, R_META_MAIN.meta_attr_name, R_META_MAIN.meta_attr_value, R_META_MAIN.meta_attr_unit FROM ' +
      'R_COLL_MAIN JOIN R_OBJT_METAMAP ON R_COLL_MAIN.coll_id = R_OBJT_METAMAP.object_id JOIN R_META_MAIN ON ' +
      "R_OBJT_METAMAP.meta_id = R_META_MAIN.meta_id WHERE R_META_MAIN.meta_attr_unit = 'iRODSUserTagging:Share' AND " +
      'R_COLL_MAIN.coll_owner_name = ? AND R_COLL_MAIN.coll_owner_zone = ? ORDER BY R_COLL_MAIN.parent_coll_name ASC, ' +
      'R_COLL_MAIN.coll_name ASC',
    created: '1388534400',
  },
  {
    alias: 'listSharedCollectionsSharedWithUser',
    sql:
      'SELECT DISTINCT R_COLL_MAIN.coll_id, R_COLL_MAIN.parent_coll_name, R_COLL_MAIN.coll_name, R_COLL_MAIN.coll_owner_name, ' +
      'R_COLL_MAIN.coll_owner_zone, R_META_MAIN.meta_attr_name, R_META_MAIN.meta_attr_value, R_META_MAIN.meta_attr_unit, ' +
      'R_USER_MAIN.user_name, R_USER_MAIN.zone_name, R_OBJT_ACCESS.access_type_id FROM R_COLL_MAIN JOIN R_OBJT_METAMAP ON ' +
      'R_COLL_MAIN.coll_id = R_OBJT_METAMAP.object_id JOIN R_META_MAIN ON R_OBJT_METAMAP.meta_id = R_META_MAIN.meta_id JOIN ' +
      'R_OBJT_ACCESS ON R_COLL_MAIN.coll_id = R_OBJT_ACCESS.object_id JOIN R_USER_MAIN ON R_OBJT_ACCESS.user_id = ' +
      "R_USER_MAIN.user_id WHERE R_META_MAIN.meta_attr_unit = 'iRODSUserTagging:Share' AND R_USER_MAIN.user_name = ? AND " +
      'R_USER_MAIN.zone_name = ? AND R_COLL_MAIN.coll_owner_name <> ? ORDER BY R_COLL_MAIN.parent_coll_name ASC, ' +
      'R_COLL_MAIN.coll_name ASC',
    created: '1388534400',
  },
  {
    alias: 'listUserACLForDataObjViaGroup',
    sql:
      'SELECT R_USER_MAIN.user_name, R_USER_MAIN.user_id, R_OBJT_ACCESS.access_type_id, R_USER_MAIN.user_type_name, ' +
      'R_USER_MAIN.zone_name, R_COLL_MAIN.coll_name, R_DATA_MAIN.data_name, USER_GROUP_MAIN.user_name, R_DATA_MAIN.data_name, ' +
      'R_COLL_MAIN.coll_name FROM R_USER_MAIN AS USER_GROUP_MAIN JOIN R_USER_GROUP JOIN R_USER_MAIN ON R_USER_GROUP.user_id = ' +
      'R_USER_MAIN.user_id ON USER_GROUP_MAIN.user_id = R_USER_GROUP.group_user_id JOIN R_OBJT_ACCESS ON ' +
      'R_USER_GROUP.group_user_id = R_OBJT_ACCESS.user_id JOIN R_DATA_MAIN JOIN R_COLL_MAIN ON R_DATA_MAIN.coll_id = ' +
      'R_COLL_MAIN.coll_id ON R_OBJT_ACCESS.object_id = R_DATA_MAIN.data_id WHERE  R_COLL_MAIN.coll_name = ? AND ' +
      'R_DATA_MAIN.data_name = ? AND R_USER_MAIN.user_name = ? ORDER BY R_COLL_MAIN.coll_name, R_DATA_MAIN.data_name, ' +
      'R_USER_MAIN.user_name, R_OBJT_ACCESS.access_type_id DESC',
    created: '1388534400',
  },
  {
    alias: 'listUserACLForCollectionViaGroup',
    sql:
      'SELECT R_USER_MAIN.user_name, R_USER_MAIN.user_id, R_OBJT_ACCESS.access_type_id, R_USER_MAIN.user_type_name, ' +
      'R_USER_MAIN.zone_name, R_COLL_MAIN.coll_name, USER_GROUP_MAIN.user_name, R_COLL_MAIN.coll_name FROM R_USER_MAIN AS ' +
      'USER_GROUP_MAIN JOIN R_USER_GROUP JOIN R_USER_MAIN ON R_USER_GROUP.user_id = R_USER_MAIN.user_id ON ' +
      'USER_GROUP_MAIN.user_id = R_USER_GROUP.group_user_id JOIN R_OBJT_ACCESS ON R_USER_GROUP.group_user_id = ' +
      'R_OBJT_ACCESS.user_id JOIN R_COLL_MAIN ON R_OBJT_ACCESS.object_id = R_COLL_MAIN.coll_id WHERE R_COLL_MAIN.coll_name = ? ' +
      'AND R_USER_MAIN.user_name = ? ORDER BY R_COLL_MAIN.coll_name, R_USER_MAIN.user_name, R_OBJT_ACCESS.access_type_id DESC',
    created: '1388534400',
  },
  // database_upgrade.py schema version 3, its SQL as version 5 leaves it: the
  // objects in collection arg1 and below (arg2 is arg1 + '/%'), which the
  // 4.2.12 server runs itself (server/core/src/collection.cpp)
  {
    alias: 'DataObjInCollReCur',
    sql:
      'WITH coll AS (SELECT coll_id, coll_name FROM R_COLL_MAIN WHERE R_COLL_MAIN.coll_name = ? OR R_COLL_MAIN.coll_name LIKE ' +
      '?) SELECT DISTINCT d.data_id, (SELECT coll_name FROM coll WHERE coll.coll_id = d.coll_id) coll_name, d.data_name, ' +
      'd.data_repl_num, d.resc_name, d.data_path, d.resc_id FROM R_DATA_MAIN d WHERE d.coll_id = ANY(ARRAY(SELECT coll_id FROM ' +
      'coll)) ORDER BY coll_name, d.data_name, d.data_repl_num',
    created: '1388534400',
  },
  // database_upgrade.py schema version 7: the groups of the user named arg1
  // (4.2.12 lib/core/src/user_administration.cpp runs it)
  {
    alias: 'listGroupsForUser',
    sql:
      'select group_user_id, user_name from R_USER_GROUP ug inner join R_USER_MAIN u on ug.group_user_id = u.user_id where ' +
      "user_type_name = 'rodsgroup' and ug.user_id = (select user_id from R_USER_MAIN where user_name = ? and user_type_name != " +
      "'rodsgroup')",
    created: '1580297960',
  },
];

/**
 * The initial queries of catalogs made before the store recorded which
 * initial queries a catalog was given: those it was made with then.
 */
const FIRST_INITIAL_ALIASES = ['ls', 'lsl', 'ShowCollAcls'];

/**
 * The table, and the initial queries a catalog has not been given yet. As
 * iRODS's setup and schema upgrades insert each of its queries once, each
 * initial query is given to a catalog once, and `specific_queries_given`
 * names those given: one an administrator removes does not come back at
 * the next open, and a catalog made before a query was initial gets it at
 * its next open, after the queries it has (nothing registered is changed).
 * When another query has its alias, that one stays as it is and the
 * initial query counts as given. Runs inside the catalog's setup
 * transaction.
 */
export function addSpecificQueryTable(db: Database.Database): void {
  const has = (name: string) => (db.prepare(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(name) as number) > 0;
  const hadQueries = has('specific_queries');
  if (!hadQueries) {
    // id: the order of registration, which `ls` lists in (as the iCAT's heap does)
    db.exec(`CREATE TABLE specific_queries (
      id      INTEGER PRIMARY KEY,
      alias   TEXT UNIQUE,
      sql     TEXT NOT NULL,
      created TEXT NOT NULL
    )`);
    db.exec('CREATE INDEX specific_queries_sql ON specific_queries (sql)');
  }
  const hadGiven = has('specific_queries_given');
  if (!hadGiven) db.exec('CREATE TABLE specific_queries_given (alias TEXT PRIMARY KEY) WITHOUT ROWID');
  const given = db.prepare('INSERT OR IGNORE INTO specific_queries_given (alias) VALUES (?)');
  if (!hadGiven && hadQueries) for (const alias of FIRST_INITIAL_ALIASES) given.run(alias);
  // OR IGNORE: a taken alias (UNIQUE) keeps its query
  const insert = db.prepare('INSERT OR IGNORE INTO specific_queries (alias, sql, created) VALUES (?, ?, ?)');
  for (const q of INITIAL_SPECIFIC_QUERIES) if (given.run(q.alias).changes > 0) insert.run(q.alias, q.sql, q.created);
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
