/**
 * The tables GenQuery joins, as iRODS links them, over our catalog. Each
 * iRODS table a column belongs to (iRODS 4.3.5 `general_query_setup.cpp`:
 * `sTable`, `sColumn`) is one node here, and the links between them form a
 * tree (its `sFklink`s): a query joins exactly the nodes on the paths between
 * the tables its columns name, the way iRODS's `tScan` links them. So
 * `USER_NAME` with `DATA_NAME` joins the object's ACL to its principals
 * (`R_USER_MAIN` links only to `r_data_access`), and `USER_GROUP_NAME` with
 * `USER_NAME` joins through memberships.
 *
 * Principals and their groups come from one pair list, as iRODS's
 * `R_USER_GROUP`: every membership, every principal paired with itself
 * (iRODS 4.3.5 `chlRegUserRE` inserts that row for each user and group), and
 * every user in `public` (our catalog keeps that membership implicit).
 *
 * @module
 */
import { PUBLIC_GROUP } from '../../store/embedded/schema.js';
import { CONST, NO_TIME, RESOURCE_ID, RESOURCE_NAME, resourceIdSql, resourceOfSql } from './columns.js';

/** A GenQuery table, named by its alias in the SQL. */
export type TableName =
  | 'coll'
  | 'data'
  | 'cmeta'
  | 'dmeta'
  | 'umeta'
  | 'rmeta'
  | 'cacc'
  | 'dacc'
  | 'cusers'
  | 'dusers'
  | 'usr'
  | 'ugroup'
  | 'uauth'
  | 'resc'
  | 'zone';

/** One table: what it stands for and how it enters the FROM clause. */
export interface TableDef {
  /** The iRODS table (alias) it stands for, for error messages. */
  irods: string;
  /** The FROM item, aliased to the table's name (or `alias` for a second copy). */
  from(alias: string): string;
  /** A condition that belongs to the table itself (which kind of entry). */
  filter?(alias: string): string;
  /**
   * One row of constants, joined to every row of the others: the FROM clause
   * needs it only when no other table is there (joined, it would only
   * mislead SQLite's planner).
   */
  constantRow?: true;
}

/** Name of the principal-pair view (see module comment), a CTE of each query that uses it. */
export const PAIRS_CTE = 'gq_pairs';

/** The CTE defining {@link PAIRS_CTE}. */
export const PAIRS_CTE_SQL = `${PAIRS_CTE}(group_name, user_name) AS (
  SELECT group_name, user_name FROM members
  UNION SELECT name, name FROM principals
  UNION SELECT '${PUBLIC_GROUP}', name FROM principals WHERE kind = 'user')`;

const ONE_ROW = '(SELECT 1 AS one)';

/**
 * The resources, as `R_RESC_MAIN` rows: the store vault's first, then the
 * made ones (`src/store/embedded/resources.ts`), each with its id, vault
 * folder, host, context and creation time.
 */
export const RESOURCES_SQL = `(SELECT '${RESOURCE_NAME}' AS name, ${RESOURCE_ID} AS id, ${CONST.vault} AS vault, ${CONST.host} AS host, '' AS context, '${NO_TIME}' AS created
  UNION ALL SELECT name, ${resourceIdSql('name')}, ${CONST.resources} || '/' || name, host, context, created FROM resources)`;
/** Tables this store keeps nothing in (user and resource metadata): joined, they yield no rows. */
const NO_ROWS = "(SELECT '' AS attribute, '' AS value, '' AS unit, 0 AS seq, '' AS created, '' AS modified WHERE 0)";

export const TABLES: Record<TableName, TableDef> = {
  coll: { irods: 'R_COLL_MAIN', from: (a) => `entries AS ${a}`, filter: (a) => `${a}.kind = 'c'` },
  data: { irods: 'R_DATA_MAIN', from: (a) => `entries AS ${a}`, filter: (a) => `${a}.kind = 'o'` },
  cmeta: { irods: 'r_coll_meta_main', from: (a) => `avus AS ${a}` },
  dmeta: { irods: 'r_data_meta_main', from: (a) => `avus AS ${a}` },
  umeta: { irods: 'r_user_meta_main', from: (a) => `${NO_ROWS} AS ${a}` },
  rmeta: { irods: 'r_resc_meta_main', from: (a) => `${NO_ROWS} AS ${a}` },
  cacc: { irods: 'r_coll_access', from: (a) => `acl AS ${a}` },
  dacc: { irods: 'r_data_access', from: (a) => `acl AS ${a}` },
  cusers: { irods: 'r_coll_user_main', from: (a) => `${PAIRS_CTE} AS ${a}` },
  dusers: { irods: 'r_data_user_main', from: (a) => `${PAIRS_CTE} AS ${a}` },
  usr: { irods: 'R_USER_MAIN', from: (a) => `principals AS ${a}` },
  ugroup: { irods: 'R_USER_GROUP', from: (a) => `${PAIRS_CTE} AS ${a}` },
  uauth: { irods: 'R_USER_AUTH', from: (a) => `auth_names AS ${a}` },
  resc: { irods: 'R_RESC_MAIN', from: (a) => `${RESOURCES_SQL} AS ${a}` },
  zone: { irods: 'R_ZONE_MAIN', from: (a) => `${ONE_ROW} AS ${a}`, constantRow: true },
};

/** A link of the tree: how `child` joins `parent`. */
interface Link {
  parent: TableName;
  child: TableName;
  on: string;
}

// A tree rooted at `data`; R_ZONE_MAIN links to nothing, as in iRODS.
const LINKS: readonly Link[] = [
  { parent: 'data', child: 'coll', on: 'coll.id = data.parent_id' },
  { parent: 'coll', child: 'cmeta', on: 'cmeta.entry_id = coll.id' },
  { parent: 'data', child: 'dmeta', on: 'dmeta.entry_id = data.id' },
  { parent: 'coll', child: 'cacc', on: 'cacc.entry_id = coll.id' },
  { parent: 'cacc', child: 'cusers', on: 'cusers.group_name = cacc.name' },
  { parent: 'data', child: 'dacc', on: 'dacc.entry_id = data.id' },
  { parent: 'dacc', child: 'dusers', on: 'dusers.group_name = dacc.name' },
  { parent: 'dacc', child: 'usr', on: 'usr.name = dacc.name' },
  { parent: 'usr', child: 'ugroup', on: 'ugroup.user_name = usr.name' },
  { parent: 'usr', child: 'umeta', on: '1' },
  { parent: 'usr', child: 'uauth', on: 'uauth.user_name = usr.name' },
  { parent: 'data', child: 'resc', on: `resc.name = ${resourceOfSql('data')}` },
  { parent: 'resc', child: 'rmeta', on: '1' },
];

const PARENT = new Map<TableName, Link>(LINKS.map((l) => [l.child, l]));

function pathToRoot(t: TableName): TableName[] {
  const path: TableName[] = [t];
  for (let link = PARENT.get(t); link; link = PARENT.get(link.parent)) path.push(link.parent);
  return path;
}

/** The tables a query joins, in join order, each with the condition joining it to one before it. */
export interface JoinPlan {
  tables: Array<{ name: TableName; on: string | null }>;
}

/**
 * The smallest connected set of tables holding `needed`, in an order where
 * each table after the first links to one before it; null when the tables
 * do not link (iRODS answers `CAT_FAILED_TO_LINK_TABLES`).
 */
export function planJoins(needed: ReadonlySet<TableName>): JoinPlan | null {
  const list = [...needed];
  if (list.length === 0) return { tables: [] };
  const paths = list.map(pathToRoot);
  const roots = new Set(paths.map((p) => p[p.length - 1]));
  if (roots.size > 1) return null;
  // the meeting point: the deepest table on every path
  const onAll = paths[0].filter((t) => paths.every((p) => p.includes(t)));
  const top = onAll[0];
  const used = new Set<TableName>();
  for (const p of paths) {
    for (const t of p) {
      used.add(t);
      if (t === top) break;
    }
  }
  // parents before children: order by depth from the root
  const depth = (t: TableName) => pathToRoot(t).length;
  const ordered = [...used].sort((a, b) => depth(a) - depth(b));
  return {
    tables: ordered.map((name) => ({ name, on: name === top ? null : PARENT.get(name)!.on })),
  };
}
