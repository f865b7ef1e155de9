/**
 * The GenQuery columns this store answers, by their iRODS numbers (iRODS
 * 4.3.5 `rodsGenQuery.h`), each with the table it belongs to (as iRODS 4.3.5
 * `general_query_setup.cpp` places it) and an SQL expression over our catalog.
 *
 * Values are written as an iRODS 4.2 server writes them: times as 11-digit
 * zero-padded seconds since the epoch; access names in their 4.2 spelling
 * (`read object`, `modify object`, `own`, token ids 1050, 1120, 1200 of
 * iRODS 4.3.5 `icatSysInserts.sql`); checksums as the catalog keeps them
 * (MD5 hex, as iRODS stores an MD5). What the catalog does not keep is
 * answered with fixed values:
 * - one replica (number 0, status 1 "good") per object, on the resource
 *   its vault id names: {@link RESOURCE_NAME}, whose vault is the store's
 *   vault folder, or one an administrator made
 *   (`src/store/embedded/resources.ts`), each a `unixfilesystem` of class
 *   `cache` on this host;
 * - data type `generic`, no expiry, no comments;
 * - a data object's and collection's create time is its modify time (the
 *   catalog keeps only `modified`);
 * - users and groups have no times: they answer `00000000000`; AVUs
 *   answer the times their iRODS meta row would have (schema.ts addAvuTimes);
 * - an AVU's id is its number in the order AVUs were added (`avus.seq`).
 *
 * @module
 */
import { createdSql } from '../../store/embedded/catalog.js';
import { DEFAULT_RESOURCE } from '../../store/embedded/resources.js';
import { SQL_PRINCIPAL_ID } from './ids.js';
import type { TableName } from './tables.js';

/** The resource of the store's own vault (iRODS's default resource name). */
export const RESOURCE_NAME = DEFAULT_RESOURCE;
/** Its id (`R_RESC_ID`, `D_RESC_ID`): a fixed number below the derived ids. */
export const RESOURCE_ID = 10014;

/** SQL: the resource an object is on, from its vault id (`<resource>/<hex>`, or a bare id in the store vault). */
export function resourceOfSql(dataAlias: string): string {
  const v = `${dataAlias}.vault_id`;
  return `CASE WHEN instr(${v}, '/') > 0 THEN substr(${v}, 1, instr(${v}, '/') - 1) ELSE '${RESOURCE_NAME}' END`;
}

/** SQL: the id of the resource named by `name` (SQL); made ones get a derived id, as users do. */
export function resourceIdSql(name: string): string {
  return `CASE ${name} WHEN '${RESOURCE_NAME}' THEN ${RESOURCE_ID} ELSE ${SQL_PRINCIPAL_ID}('resource:' || ${name}) END`;
}
/** The zone's id (`ZONE_ID`). */
export const ZONE_ID = 9000;
/** A time the catalog does not keep. */
export const NO_TIME = '00000000000';

/** How a column compares and sorts: as a number or as text. */
export type ColumnType = 'int' | 'text';

/** What an expression may refer to besides its own table. */
export interface ExprRefs {
  /** The alias of a table in this query (a metadata table may have several copies). */
  alias(t: TableName): string;
  /** Alias of the collection holding the data object (joins a helper table when the query has no collection table). */
  dataParent(): string;
  /** Alias of the parent of the collection (joins a helper table). */
  collParent(): string;
}

/** One GenQuery column. */
export interface ColumnDef {
  /** The iRODS column number. */
  num: number;
  /** The iRODS name, e.g. `COL_COLL_NAME`. */
  name: string;
  table: TableName;
  type: ColumnType;
  /** The SQL expression (text or integer; may be NULL when {@link nullable}). */
  sql(r: ExprRefs): string;
  nullable?: boolean;
  /**
   * The expression is an indexed path column: a `like` with a literal prefix
   * also bounds it to an index range.
   */
  indexedPath?: boolean;
  /** The same value on every row (sorting by it changes nothing). */
  fixed?: boolean;
  /** A faster form of `= param`, equal in meaning (e.g. through an index). */
  equals?(r: ExprRefs, param: string): string;
  /**
   * What the column's values sort by, as SQL over a value (the output or a
   * bound one), when not by the value itself: one key per distinct value,
   * so the order stays total.
   */
  sortBy?(value: string): string;
}

/** Named parameters every query binds (see `sql-builder.ts`). */
export const CONST = {
  zone: '@gq_zone',
  vault: '@gq_vault',
  host: '@gq_host',
  /** The folder holding the made resources' vault folders. */
  resources: '@gq_resources',
} as const;

const str = (s: string) => `'${s.replace(/'/g, "''")}'`;
const epoch11 = (iso: string) => `printf('%011d', CAST(strftime('%s', ${iso}) AS INTEGER))`;
const accessName = (level: string) =>
  `CASE ${level} WHEN 1 THEN 'read object' WHEN 2 THEN 'modify object' ELSE 'own' END`;
const accessType = (level: string) => `CASE ${level} WHEN 1 THEN 1050 WHEN 2 THEN 1120 ELSE 1200 END`;

type Def = Omit<ColumnDef, 'num' | 'name' | 'table'>;
const text = (sql: (r: ExprRefs) => string, more: Partial<Def> = {}): Def => ({ type: 'text', sql, ...more });
const int = (sql: (r: ExprRefs) => string, more: Partial<Def> = {}): Def => ({ type: 'int', sql, ...more });
const fixed = (value: string): Def => text(() => str(value), { fixed: true });
const fixedInt = (value: number): Def => int(() => String(value), { fixed: true });
const constant = (param: string): Def => text(() => param, { fixed: true });

const table: Array<[TableName, Record<string, [number, Def]>]> = [
  [
    'zone',
    {
      COL_ZONE_ID: [101, fixedInt(ZONE_ID)],
      COL_ZONE_NAME: [102, constant(CONST.zone)],
      COL_ZONE_TYPE: [103, fixed('local')],
      COL_ZONE_CONNECTION: [104, fixed('')],
      COL_ZONE_COMMENT: [105, fixed('')],
      COL_ZONE_CREATE_TIME: [106, fixed(NO_TIME)],
      COL_ZONE_MODIFY_TIME: [107, fixed(NO_TIME)],
    },
  ],
  [
    'usr',
    {
      COL_USER_ID: [201, int((r) => `${SQL_PRINCIPAL_ID}(${r.alias('usr')}.name)`)],
      COL_USER_NAME: [202, text((r) => `${r.alias('usr')}.name`)],
      COL_USER_TYPE: [
        203,
        text((r) => `CASE ${r.alias('usr')}.kind WHEN 'group' THEN 'rodsgroup' ELSE ${r.alias('usr')}.user_type END`),
      ],
      COL_USER_ZONE: [204, constant(CONST.zone)],
      // iRODS 4.3.5 maps the retired 205 (USER_DN) to the comment, for old clients
      COL_USER_DN_INVALID: [205, fixed('')],
      COL_USER_INFO: [206, text((r) => `${r.alias('usr')}.info`)],
      COL_USER_COMMENT: [207, text((r) => `${r.alias('usr')}.comment`)],
      COL_USER_CREATE_TIME: [208, fixed(NO_TIME)],
      COL_USER_MODIFY_TIME: [209, fixed(NO_TIME)],
    },
  ],
  [
    'resc',
    {
      COL_R_RESC_ID: [301, int((r) => `${r.alias('resc')}.id`)],
      COL_R_RESC_NAME: [302, text((r) => `${r.alias('resc')}.name`)],
      COL_R_ZONE_NAME: [303, constant(CONST.zone)],
      COL_R_TYPE_NAME: [304, fixed('unixfilesystem')],
      COL_R_CLASS_NAME: [305, fixed('cache')],
      COL_R_LOC: [306, text((r) => `${r.alias('resc')}.host`)],
      COL_R_VAULT_PATH: [307, text((r) => `${r.alias('resc')}.vault`)],
      COL_R_FREE_SPACE: [308, fixed('')],
      COL_R_RESC_INFO: [309, fixed('')],
      COL_R_RESC_COMMENT: [310, fixed('')],
      COL_R_CREATE_TIME: [311, text((r) => `${r.alias('resc')}.created`)],
      COL_R_MODIFY_TIME: [312, text((r) => `${r.alias('resc')}.created`)],
      COL_R_RESC_STATUS: [313, fixed('')],
      COL_R_FREE_SPACE_TIME: [314, fixed('')],
      COL_R_RESC_CHILDREN: [315, fixed('')],
      COL_R_RESC_CONTEXT: [316, text((r) => `${r.alias('resc')}.context`)],
      COL_R_RESC_PARENT: [317, fixed('')],
      COL_R_RESC_PARENT_CONTEXT: [318, fixed('')],
      COL_R_MODIFY_TIME_MILLIS: [319, fixed('')],
      // iRODS 4.3.5 takes DATA_RESC_NAME from R_RESC_MAIN, so it joins the resource
      COL_D_RESC_NAME: [409, text((r) => `${r.alias('resc')}.name`)],
    },
  ],
  [
    'data',
    {
      COL_D_DATA_ID: [401, int((r) => `${r.alias('data')}.id`)],
      COL_D_COLL_ID: [402, int((r) => `${r.alias('data')}.parent_id`)],
      COL_DATA_NAME: [
        403,
        text((r) => `substr(${r.alias('data')}.path, length(${r.dataParent()}.path) + 2)`, {
          // the object's path is its collection's path, a slash and its name: one unique-index lookup
          equals: (r, p) => `${r.alias('data')}.path = ${r.dataParent()}.path || '/' || ${p}`,
        }),
      ],
      COL_DATA_REPL_NUM: [404, fixedInt(0)],
      COL_DATA_VERSION: [405, fixed('')],
      COL_DATA_TYPE_NAME: [406, fixed('generic')],
      COL_DATA_SIZE: [407, int((r) => `${r.alias('data')}.size`)],
      COL_D_DATA_PATH: [
        410,
        text((r) => dataPathSql(r.alias('data')), { nullable: true }),
      ],
      COL_D_OWNER_NAME: [411, text((r) => `${r.alias('data')}.owner`)],
      COL_D_OWNER_ZONE: [412, constant(CONST.zone)],
      COL_D_REPL_STATUS: [413, fixedInt(1)],
      COL_D_DATA_STATUS: [414, fixed('')],
      COL_D_DATA_CHECKSUM: [415, text((r) => `${r.alias('data')}.checksum`, { nullable: true })],
      COL_D_EXPIRY: [416, fixed(NO_TIME)],
      COL_D_MAP_ID: [417, fixedInt(0)],
      COL_D_COMMENTS: [418, fixed('')],
      COL_D_CREATE_TIME: [419, text((r) => epoch11(createdSql(r.alias('data'))))],
      COL_D_MODIFY_TIME: [420, text((r) => epoch11(`${r.alias('data')}.modified`))],
      COL_DATA_MODE: [421, fixed('')],
      COL_D_RESC_HIER: [422, text((r) => resourceOfSql(r.alias('data')))],
      COL_D_RESC_ID: [423, int((r) => resourceIdSql(resourceOfSql(r.alias('data'))))],
    },
  ],
  [
    'coll',
    {
      COL_COLL_ID: [500, int((r) => `${r.alias('coll')}.id`)],
      COL_COLL_NAME: [
        501,
        text((r) => `${r.alias('coll')}.path`, { indexedPath: true }),
      ],
      COL_COLL_PARENT_NAME: [
        502,
        // every collection has a parent row: the zone's is `/`, and `/` is its own, as in the iCAT (store/embedded/schema.ts)
        text((r) => `${r.collParent()}.path`, {
          // the parent's id from the unique path index, then the children from the parent index
          equals: (r, p) =>
            `${r.alias('coll')}.parent_id = (SELECT gq_p.id FROM entries AS gq_p WHERE gq_p.path = ${p} AND gq_p.kind = 'c')`,
        }),
      ],
      COL_COLL_OWNER_NAME: [503, text((r) => `${r.alias('coll')}.owner`)],
      COL_COLL_OWNER_ZONE: [504, constant(CONST.zone)],
      COL_COLL_MAP_ID: [505, fixedInt(0)],
      COL_COLL_INHERITANCE: [506, text((r) => `CASE ${r.alias('coll')}.inherit WHEN 1 THEN '1' ELSE '0' END`)],
      COL_COLL_COMMENTS: [507, fixed('')],
      COL_COLL_CREATE_TIME: [508, text((r) => epoch11(createdSql(r.alias('coll'))))],
      COL_COLL_MODIFY_TIME: [509, text((r) => epoch11(`${r.alias('coll')}.modified`))],
      COL_COLL_TYPE: [510, fixed('')],
      COL_COLL_INFO1: [511, fixed('')],
      COL_COLL_INFO2: [512, fixed('')],
    },
  ],
  ['dmeta', metaColumns('DATA', 600, 'dmeta')],
  ['cmeta', metaColumns('COLL', 610, 'cmeta')],
  ['rmeta', metaColumns('RESC', 630, 'rmeta')],
  ['umeta', metaColumns('USER', 640, 'umeta')],
  [
    'dacc',
    {
      COL_DATA_ACCESS_TYPE: [700, int((r) => accessType(`${r.alias('dacc')}.level`))],
      COL_DATA_ACCESS_NAME: [701, text((r) => accessName(`${r.alias('dacc')}.level`))],
      COL_DATA_TOKEN_NAMESPACE: [702, fixed('access_type')],
      COL_DATA_ACCESS_USER_ID: [703, int((r) => `${SQL_PRINCIPAL_ID}(${r.alias('dacc')}.name)`)],
      COL_DATA_ACCESS_DATA_ID: [704, int((r) => `${r.alias('dacc')}.entry_id`)],
    },
  ],
  [
    'cacc',
    {
      COL_COLL_ACCESS_TYPE: [710, int((r) => accessType(`${r.alias('cacc')}.level`))],
      COL_COLL_ACCESS_NAME: [711, text((r) => accessName(`${r.alias('cacc')}.level`))],
      COL_COLL_TOKEN_NAMESPACE: [712, fixed('access_type')],
      COL_COLL_ACCESS_USER_ID: [713, int((r) => `${SQL_PRINCIPAL_ID}(${r.alias('cacc')}.name)`)],
      COL_COLL_ACCESS_COLL_ID: [714, int((r) => `${r.alias('cacc')}.entry_id`)],
    },
  ],
  [
    'ugroup',
    {
      COL_USER_GROUP_ID: [900, int((r) => `${SQL_PRINCIPAL_ID}(${r.alias('ugroup')}.group_name)`)],
      COL_USER_GROUP_NAME: [901, text((r) => `${r.alias('ugroup')}.group_name`)],
    },
  ],
  [
    'cusers',
    {
      COL_COLL_USER_NAME: [1300, text((r) => `${r.alias('cusers')}.user_name`)],
      COL_COLL_USER_ZONE: [1301, constant(CONST.zone)],
    },
  ],
  [
    'dusers',
    {
      COL_DATA_USER_NAME: [1310, text((r) => `${r.alias('dusers')}.user_name`)],
      COL_DATA_USER_ZONE: [1311, constant(CONST.zone)],
    },
  ],
  [
    'uauth',
    {
      COL_USER_AUTH_ID: [1600, int((r) => `${SQL_PRINCIPAL_ID}(${r.alias('uauth')}.user_name)`)],
      // in the order they were added, as a catalog lists them (python-irodsclient's user.dn keeps that order)
      COL_USER_DN: [
        1601,
        text((r) => `${r.alias('uauth')}.auth_name`, { sortBy: (v) => `(SELECT min(id) FROM auth_names WHERE auth_name = ${v})` }),
      ],
    },
  ],
];

/** SQL: an object's file, as `Vault.filePath` places it (in the store vault, or its resource's vault folder). */
function dataPathSql(a: string): string {
  const v = `${a}.vault_id`;
  const at = `instr(${v}, '/')`;
  return (
    `CASE WHEN ${at} = 0 THEN ${CONST.vault} || '/' || substr(${v}, 1, 2) || '/' || ${v} ` +
    `ELSE ${CONST.resources} || '/' || substr(${v}, 1, ${at} - 1) || '/' || substr(${v}, ${at} + 1, 2) || '/' || substr(${v}, ${at} + 1) END`
  );
}

/** `META_<kind>_ATTR_NAME` … at `base` (name, value, units, id, create, modify), iRODS 4.3.5 `rodsGenQuery.h`. */
function metaColumns(kind: string, base: number, t: TableName): Record<string, [number, Def]> {
  const a = (r: ExprRefs) => r.alias(t);
  return {
    [`COL_META_${kind}_ATTR_NAME`]: [base, text((r) => `${a(r)}.attribute`)],
    [`COL_META_${kind}_ATTR_VALUE`]: [base + 1, text((r) => `${a(r)}.value`)],
    [`COL_META_${kind}_ATTR_UNITS`]: [base + 2, text((r) => `${a(r)}.unit`)],
    // numbered as added (schema.ts addAvuSeq), as iRODS's meta_id
    [`COL_META_${kind}_ATTR_ID`]: [base + 3, int((r) => `${a(r)}.seq`)],
    // the meta row's times, as iRODS 4.2.12 general_query_setup.cpp reads R_META_MAIN's create_ts and modify_ts (schema.ts addAvuTimes)
    [`COL_META_${kind}_CREATE_TIME`]: [base + 4, text((r) => `${a(r)}.created`)],
    [`COL_META_${kind}_MODIFY_TIME`]: [base + 5, text((r) => `${a(r)}.modified`)],
  };
}

const NAMESPACE_COLUMNS: Array<[number, string, TableName]> = [
  [620, 'COL_META_NAMESPACE_COLL', 'cmeta'],
  [621, 'COL_META_NAMESPACE_DATA', 'dmeta'],
  [622, 'COL_META_NAMESPACE_RESC', 'rmeta'],
  [623, 'COL_META_NAMESPACE_USER', 'umeta'],
];

/** Every column by number. */
export const COLUMNS: ReadonlyMap<number, ColumnDef> = (() => {
  const m = new Map<number, ColumnDef>();
  const add = (num: number, name: string, t: TableName, def: Def) => {
    if (m.has(num)) throw new Error(`GenQuery column ${num} defined twice`);
    m.set(num, { num, name, table: t, ...def });
  };
  for (const [t, cols] of table) for (const [name, [num, def]] of Object.entries(cols)) add(num, name, t, def);
  for (const [num, name, t] of NAMESPACE_COLUMNS) add(num, name, t, fixed(''));
  return m;
})();

/** Metadata name and value columns: several conditions on them match several AVUs of one entry (see `sql-builder.ts`). */
export const MULTI_AVU_COLUMNS: ReadonlyMap<TableName, { name: number; value: number }> = new Map([
  ['dmeta', { name: 600, value: 601 }],
  ['cmeta', { name: 610, value: 611 }],
  ['umeta', { name: 640, value: 641 }],
  ['rmeta', { name: 630, value: 631 }],
]);
