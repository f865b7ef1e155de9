/**
 * One GenQuery as one SQLite query over the catalog: the selected columns,
 * the tables linking them (`tables.ts`), the conditions as bound parameters,
 * what the asking user may see, and an order that is total, so that a page
 * can continue after the last row of the one before (see `cursors.ts`).
 *
 * As in iRODS 4.3.5 `general_query.cpp` (`generateSQL`):
 * - rows are distinct unless the query asks for `NO_DISTINCT`;
 * - an aggregate (min, max, sum, avg, count) groups by the other columns;
 * - rows are ordered by the columns flagged `ORDER_BY` / `ORDER_BY_DESC` in
 *   select order, then by `COLL_NAME`, `DATA_NAME`, `DATA_REPL_NUM` when
 *   selected; we then order by the remaining columns too, which iRODS leaves
 *   to the database, so every page boundary is well defined (after an
 *   object's path, only by what differs between rows of one object: see
 *   {@link ONE_ROW_PER_OBJECT});
 * - several conditions on `META_*_ATTR_NAME` (and the matching `…_VALUE`s,
 *   in turn) each match their own AVU of the same object or collection
 *   (`handleMultiDataAVUConditions`); on user or resource metadata they are
 *   refused, as there.
 *
 * Who sees what: iRODS filters GenQuery rows only under the strict ACL policy
 * (`acAclPolicy` → `msiAclPolicy("STRICT")`, `genqAppendAccessCheck`): then a
 * user other than a `rodsadmin` sees a data object or collection row only if
 * they, a group of theirs, or `public`, hold at least read on it. This server
 * always applies that policy. A query on metadata or access lists always
 * joins the object or collection they belong to, so the same rule covers
 * them (iRODS would list every AVU for `META_DATA_ATTR_NAME` alone). Users and
 * groups are visible to everyone, as in iRODS.
 *
 * Values are only ever bound parameters; the SQL text holds only our own
 * column expressions and parameter names.
 *
 * @module
 */
import { PRINCIPALS_OF_USER_SQL } from '../permissions.js';
import { IrodsError } from '../wire/irods-error.js';
import { COLUMNS, CONST, MULTI_AVU_COLUMNS, type ColumnDef, type ExprRefs } from './columns.js';
import {
  ancestorsOf,
  ConditionError,
  likeToGlob,
  parseCondition,
  prefixUpperBound,
  type Condition,
  type SimpleCondition,
} from './conditions.js';
import { OPTIONS, type GenQueryInput } from './query-input.js';
import { PAIRS_CTE, PAIRS_CTE_SQL, planJoins, TABLES, type TableName } from './tables.js';

/** Who asks and what the constant columns answer. */
export interface QueryContext {
  user: string;
  /** A `rodsadmin`: sees everything. */
  admin: boolean;
  zone: string;
  /** The vault folder (resource vault path, data paths). */
  vault: string;
  /** The resource's host name (`R_LOC`). */
  host: string;
  /** The folder holding the made resources' vault folders. */
  resources: string;
}

/**
 * One sort key: what the rows are ordered by, and how a continuation finds
 * the rows after the last one sent.
 */
export interface SortKey {
  desc: boolean;
  /** The ORDER BY term: a result column number, or an expression. */
  orderBy: string;
  /** The ordered expression, compared with the last row's key. */
  expr: string;
  /** The key's value in a result row (bound as the continuation's parameter). */
  value(row: readonly unknown[]): unknown;
  /** What {@link expr} is compared with, given the bound parameter. */
  bound(param: string): string;
}

/** A query ready to run page by page. */
export interface QueryPlan {
  /** The selected column numbers, in select order (the reply's `attriInx`). */
  columns: number[];
  /** `WITH … ` prefix, or ''. */
  with: string;
  /** One SQL expression per selected column. */
  outputs: string[];
  from: string;
  where: string[];
  /** GROUP BY terms (result column numbers). */
  groupBy: string[];
  /** Aggregated: a continuation's position goes in HAVING. */
  aggregated: boolean;
  distinct: boolean;
  /** A total order over the distinct rows (when {@link distinct}). */
  order: SortKey[];
  params: Record<string, unknown>;
}

/** At most this many bound values in one query (SQLite allows 32766). */
const MAX_PARAMS = 10_000;

const SQL_OPS: Record<string, string> = { '=': '=', '<>': '<>', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };

/**
 * Tables joined at most once to a data object's row (`tables.ts`): the
 * object, its collection, its resource, the zone. Their columns are the same
 * on every row of one object, so once the object's path is a sort key they
 * order nothing more; keys for them would only make SQLite sort every
 * remaining row of the listing for each page instead of reading the rows in
 * the path index's order.
 */
const ONE_ROW_PER_OBJECT: ReadonlySet<TableName> = new Set(['data', 'coll', 'resc', 'zone']);

/** Tables whose rows belong to an object or collection: they join it, so the visibility rule reaches them. */
const OWNER_OF: Partial<Record<TableName, TableName>> = { dmeta: 'data', dacc: 'data', cmeta: 'coll', cacc: 'coll' };

function invalid(message: string): never {
  throw new IrodsError('CAT_INVALID_ARGUMENT', message);
}

function columnOf(num: number, role: string): ColumnDef {
  const col = COLUMNS.get(num);
  if (!col) throw new IrodsError('CAT_UNKNOWN_TABLE', `${role} column ${num} is not one this server answers`);
  return col;
}

class Binder {
  readonly params: Record<string, unknown> = {};
  private n = 0;

  bind(value: unknown): string {
    if (this.n >= MAX_PARAMS) invalid(`a query binds at most ${MAX_PARAMS} values`);
    const name = `gq_v${this.n++}`;
    this.params[name] = value;
    return `@${name}`;
  }
}

class Refs implements ExprRefs {
  /** The metadata copy each table refers to while one condition is rendered (1: the table itself). */
  group = new Map<TableName, number>();
  needDataParent = false;
  needCollParent = false;

  constructor(private readonly joined: ReadonlySet<TableName>) {}

  /** Whether the query joins `t`. */
  has(t: TableName): boolean {
    return this.joined.has(t);
  }

  alias(t: TableName): string {
    const g = this.group.get(t) ?? 1;
    return g === 1 ? t : `${t}${g}`;
  }

  dataParent(): string {
    if (this.joined.has('coll')) return 'coll';
    this.needDataParent = true;
    return 'dpar';
  }

  collParent(): string {
    this.needCollParent = true;
    return 'cpar';
  }
}

/** Builds the plan of a new query; throws an {@link IrodsError} for what iRODS would refuse. */
export function buildPlan(input: GenQueryInput, ctx: QueryContext): QueryPlan {
  const selects = input.selects.map((s) => ({ ...s, col: columnOf(s.column, 'selected') }));
  const conds = input.conditions.map((c) => {
    const col = columnOf(c.column, 'condition');
    let cond: Condition;
    try {
      cond = parseCondition(c.text);
    } catch (err) {
      if (err instanceof ConditionError) invalid(`${col.name}: ${err.message}`);
      throw err;
    }
    return { col, cond, group: 1 };
  });

  // several AVU name conditions: the k-th name and k-th value condition match the k-th AVU
  const groups = new Map<TableName, number>();
  for (const [t, { name, value }] of MULTI_AVU_COLUMNS) {
    const names = conds.filter((c) => c.col.num === name);
    if (names.length < 2) continue;
    if (t === 'umeta' || t === 'rmeta') invalid(`several conditions on ${names[0].col.name} are not supported`);
    names.forEach((c, i) => (c.group = i + 1));
    conds.filter((c) => c.col.num === value).forEach((c, i) => (c.group = i < names.length ? i + 1 : 1));
    groups.set(t, names.length);
  }

  const needed = new Set<TableName>([...selects.map((s) => s.col.table), ...conds.map((c) => c.col.table)]);
  for (const t of [...needed]) {
    const owner = OWNER_OF[t];
    if (owner) needed.add(owner);
  }
  const joins = planJoins(needed);
  if (!joins) {
    const names = [...needed].map((t) => TABLES[t].irods).join(', ');
    throw new IrodsError('CAT_FAILED_TO_LINK_TABLES', `the tables of this query do not link: ${names}`);
  }
  const joined = new Set(joins.tables.map((t) => t.name));

  const refs = new Refs(joined);
  const binder = new Binder();
  const upper = (input.options & OPTIONS.UPPER_CASE_WHERE) !== 0;

  const outputs = selects.map((s) => outputSql(s.col, s.aggregate, refs));
  const aggregated = selects.some((s) => s.aggregate !== null);
  // by result column number, as ORDER BY: a number literal output would be taken for one
  const groupBy = aggregated ? selects.flatMap((s, i) => (s.aggregate === null ? [String(i + 1)] : [])) : [];

  const where: string[] = [];
  for (const t of joins.tables) {
    const filter = TABLES[t.name].filter;
    if (filter) where.push(filter(t.name));
  }
  for (const c of conds) {
    refs.group = new Map([[c.col.table, c.group]]);
    where.push(conditionSql(c.col, c.cond, refs, binder, upper));
  }
  refs.group = new Map();
  // objects of one collection named by its id: its path is a constant of the query, so that
  // a page's bound on the objects' paths is a range of the index (through the parent's row,
  // joined after the objects by SQLite's planner, every page read the listing from its start)
  const parentId = conds.find((c) => c.col.num === 402 && pinning(c.cond, upper));
  const parentPath = parentId && `(SELECT path FROM entries WHERE id = ${binder.bind(numberOf(parentId.col, parentId.cond.parts[0].values[0]))})`;
  const params: Record<string, unknown> = {
    ...binder.params,
    [CONST.zone.slice(1)]: ctx.zone,
    [CONST.vault.slice(1)]: ctx.vault,
    [CONST.host.slice(1)]: ctx.host,
    [CONST.resources.slice(1)]: ctx.resources,
  };
  if (!ctx.admin) {
    params.user = ctx.user;
    for (const t of ['data', 'coll'] as const) {
      if (joined.has(t)) {
        where.push(
          `EXISTS (SELECT 1 FROM acl AS gq_seen WHERE gq_seen.entry_id = ${t}.id AND gq_seen.name IN (${PRINCIPALS_OF_USER_SQL}))`,
        );
      }
    }
  }

  const order = sortKeys(selects, outputs, conds, refs, upper, !aggregated && joined.has('data'), parentPath);

  const from: string[] = [];
  const tables = joins.tables.filter((t) => !TABLES[t.name].constantRow);
  for (const t of tables.length > 0 ? tables : joins.tables) {
    const item = TABLES[t.name].from(t.name);
    from.push(from.length === 0 ? item : `JOIN ${item} ON ${t.on}`);
  }
  for (const [t, n] of groups) {
    const owner = OWNER_OF[t]!;
    for (let k = 2; k <= n; k++) from.push(`JOIN avus AS ${t}${k} ON ${t}${k}.entry_id = ${owner}.id`);
  }
  if (refs.needDataParent) from.push('JOIN entries AS dpar ON dpar.id = data.parent_id');
  if (refs.needCollParent) from.push('LEFT JOIN entries AS cpar ON cpar.id = coll.parent_id');

  const usesPairs = [...joined].some((t) => TABLES[t].from(t).includes(PAIRS_CTE));
  return {
    columns: selects.map((s) => s.column),
    with: usesPairs ? `WITH ${PAIRS_CTE_SQL} ` : '',
    outputs,
    from: from.join(' '),
    where,
    groupBy,
    aggregated,
    distinct: (input.options & OPTIONS.NO_DISTINCT) === 0,
    order,
    params,
  };
}

function outputSql(col: ColumnDef, aggregate: string | null, refs: Refs): string {
  let e = col.sql(refs);
  if (col.nullable) e = `coalesce(${e}, '')`;
  if (aggregate === null) return e;
  if (aggregate === 'count') return `count(${e})`;
  // no rows: NULL, which iRODS answers as an empty value
  return `coalesce(${aggregate}(${e}), '')`;
}

/**
 * Ordered keys first, then iRODS's default columns, then the rest (see the
 * module comment); a column with one value on every row orders nothing and
 * is left out. Two keys are ordered through the unique path index instead,
 * so that a page reads only its own rows, not the whole listing again:
 * - `DATA_NAME` when one collection holds every row (a condition `=` on
 *   `COLL_NAME` or `D_COLL_ID`): names in one collection sort as the
 *   objects' paths do;
 * - the default `COLL_NAME`, `DATA_NAME` pair: as the object's path, which
 *   differs from ordering by collection name first only for sibling
 *   collections such as `run1` and `run1.bak` (`.` sorts before `/`).
 *
 * With `byObject` (the rows are of data objects, not aggregated), the keys
 * after the object's path are only those of columns that differ between
 * rows of one object (its metadata, its access), see
 * {@link ONE_ROW_PER_OBJECT}. `parentPath`: the SQL of the one collection's
 * path when a condition names it by id.
 */
function sortKeys(
  selects: ReadonlyArray<{ column: number; col: ColumnDef; aggregate: string | null; order: 'asc' | 'desc' | null }>,
  outputs: readonly string[],
  conds: ReadonlyArray<{ col: ColumnDef; cond: Condition }>,
  refs: Refs,
  upper: boolean,
  byObject: boolean,
  parentPath: string | undefined,
): SortKey[] {
  const plain = (i: number) => selects[i].aggregate === null;
  const pinned = (num: number) => conds.some((c) => c.col.num === num && pinning(c.cond, upper));
  const oneCollection = pinned(501) || pinned(402);
  const keys: SortKey[] = [];
  const used = new Set<number>();
  /** The object's path is a key: columns of one object's row order nothing more. */
  let pathKeyed = false;
  const add = (i: number, desc: boolean) => {
    if (used.has(i)) return;
    used.add(i);
    if (pathKeyed && plain(i) && ONE_ROW_PER_OBJECT.has(selects[i].col.table)) return;
    if (selects[i].col.fixed && plain(i)) return;
    if (oneCollection && plain(i) && selects[i].column === 501) return;
    if (oneCollection && plain(i) && selects[i].column === 403) {
      const parent = parentPath ?? `${refs.dataParent()}.path`;
      keys.push({
        desc,
        orderBy: `data.path${desc ? ' DESC' : ''}`,
        expr: 'data.path',
        value: (row) => row[i],
        bound: (param) => `${parent} || '/' || ${param}`,
      });
      pathKeyed = byObject;
      return;
    }
    const sortBy = plain(i) ? selects[i].col.sortBy : undefined;
    if (sortBy) {
      keys.push({ desc, orderBy: `${sortBy(outputs[i])}${desc ? ' DESC' : ''}`, expr: sortBy(outputs[i]), value: (row) => row[i], bound: sortBy });
      return;
    }
    keys.push({
      desc,
      orderBy: `${i + 1}${desc ? ' DESC' : ''}`,
      expr: outputs[i],
      value: (row) => row[i],
      bound: (param) => param,
    });
  };
  selects.forEach((s, i) => {
    if (s.order) add(i, s.order === 'desc');
  });
  const coll = selects.findIndex((s, i) => s.column === 501 && plain(i) && !used.has(i));
  const name = selects.findIndex((s, i) => s.column === 403 && plain(i) && !used.has(i));
  if (coll >= 0 && name >= 0 && !oneCollection && !pathKeyed) {
    used.add(coll).add(name);
    pathKeyed = byObject;
    keys.push({
      desc: false,
      orderBy: 'data.path',
      expr: 'data.path',
      value: (row) => `${String(row[coll])}/${String(row[name])}`,
      bound: (param) => param,
    });
  }
  for (const num of [501, 403, 404]) {
    selects.forEach((s, i) => {
      if (s.column === num && plain(i)) add(i, false);
    });
  }
  selects.forEach((_, i) => add(i, false));
  return keys;
}

/** Whether `cond` gives its column one value: a lone `=`, compared as written. */
function pinning(cond: Condition, upper: boolean): boolean {
  return !upper && cond.parts.length === 1 && cond.parts[0].op === '=';
}

function conditionSql(col: ColumnDef, cond: Condition, refs: Refs, binder: Binder, upper: boolean): string {
  const parts = cond.parts.map((p) => `(${simpleSql(col, p, refs, binder, upper)})`);
  let sql = parts[0];
  for (let i = 1; i < parts.length; i++) sql += ` ${cond.joins[i - 1]} ${parts[i]}`;
  return parts.length === 1 ? sql : `(${sql})`;
}

function numberOf(col: ColumnDef, value: string): number {
  const t = value.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    invalid(`${col.name} compares as a number; ${JSON.stringify(value.slice(0, 40))} is not one`);
  }
  return Number(t);
}

function simpleSql(col: ColumnDef, p: SimpleCondition, refs: Refs, binder: Binder, upper: boolean): string {
  const base = col.sql(refs);
  const expr = upper && col.type === 'text' ? `upper(${base})` : base;
  const asNumber = p.numeric || col.type === 'int';
  const left = p.numeric && col.type === 'text' ? `CAST(${expr} AS NUMERIC)` : expr;
  const typed = (v: string) => binder.bind(asNumber ? numberOf(col, v) : v);
  const value = p.values[0];

  switch (p.op) {
    case 'is null':
      return `${base} IS NULL`;
    case 'is not null':
      return `${base} IS NOT NULL`;
    case '=':
      if (col.equals && !upper && !asNumber) return col.equals(refs, binder.bind(value));
      return `${left} = ${typed(value)}`;
    case '<>':
    case '<':
    case '>':
    case '<=':
    case '>=':
      return `${left} ${SQL_OPS[p.op]} ${typed(value)}`;
    case 'between':
      return `${left} BETWEEN ${typed(p.values[0])} AND ${typed(p.values[1])}`;
    case 'in':
      return `${left} IN (${p.values.map(typed).join(', ')})`;
    case 'like':
    case 'not like': {
      const text = col.type === 'int' ? `CAST(${expr} AS TEXT)` : expr;
      const { glob, prefix } = likeToGlob(value);
      if (p.op === 'not like') return `${text} NOT GLOB ${binder.bind(glob)}`;
      const terms = [`${text} GLOB ${binder.bind(glob)}`];
      if (col.indexedPath && !upper && prefix !== '') {
        // GLOB alone scans; the prefix's range is an index range over the path column
        const lo = binder.bind(prefix);
        terms.unshift(`${expr} >= ${lo}`);
        const hi = prefixUpperBound(prefix);
        const hiParam = hi === null ? null : binder.bind(hi);
        if (hiParam) terms.splice(1, 0, `${expr} < ${hiParam}`);
        // an object's path starts with its collection's
        if (refs.has('data')) terms.push(`data.path >= ${lo}`, ...(hiParam ? [`data.path < ${hiParam}`] : []));
      }
      return terms.join(' AND ');
    }
    case 'begin_of':
      return `length(${expr}) > 0 AND substr(${binder.bind(value)}, 1, length(${expr})) = ${expr}`;
    case 'parent_of':
      return `${expr} IN (${ancestorsOf(value).map((a) => binder.bind(a)).join(', ')})`;
  }
}

/** Named parameters of a page: the row limit, the rows to skip, and the last row's sort keys. */
export const PAGE_PARAMS = { limit: 'gq_limit', offset: 'gq_offset', key: (i: number) => `gq_k${i}` } as const;

/** Whether a plan can continue from its last row's sort keys (its rows are distinct) or must skip rows. */
export function continuesByKey(plan: QueryPlan): boolean {
  return plan.distinct;
}

/**
 * The SQL of one page: the query, after the last row's keys when `afterKey`
 * (bound as {@link PAGE_PARAMS}`.key(i)`), skipping `gq_offset` rows when
 * `offset`, at most `gq_limit` rows.
 */
export function pageSql(plan: QueryPlan, afterKey: boolean, offset: boolean): string {
  const where = [...plan.where];
  const after = afterKey ? keysetSql(plan) : null;
  if (after && !plan.aggregated) where.push(after);
  let sql = `${plan.with}SELECT ${plan.distinct ? 'DISTINCT ' : ''}${plan.outputs.join(', ')} FROM ${plan.from}`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  if (plan.groupBy.length > 0) sql += ` GROUP BY ${plan.groupBy.join(', ')}`;
  if (after && plan.aggregated) sql += ` HAVING ${after}`;
  // by result column number: an output that is a number literal would otherwise be taken for one
  if (plan.order.length > 0) sql += ` ORDER BY ${plan.order.map((k) => k.orderBy).join(', ')}`;
  sql += ` LIMIT @${PAGE_PARAMS.limit}`;
  if (offset) sql += ` OFFSET @${PAGE_PARAMS.offset}`;
  return sql;
}

/** The SQL counting the query's rows (`RETURN_TOTAL_ROW_COUNT`). */
export function countSql(plan: QueryPlan): string {
  let inner = `SELECT ${plan.distinct ? 'DISTINCT ' : ''}${plan.outputs.join(', ')} FROM ${plan.from}`;
  if (plan.where.length > 0) inner += ` WHERE ${plan.where.join(' AND ')}`;
  if (plan.groupBy.length > 0) inner += ` GROUP BY ${plan.groupBy.join(', ')}`;
  return `${plan.with}SELECT count(*) FROM (${inner})`;
}

/** Rows after the bound key in the plan's order: one row-value comparison when all keys run one way. */
function keysetSql(plan: QueryPlan): string {
  // no keys: every output is one fixed value, so the distinct rows are one at most
  if (plan.order.length === 0) return '0';
  const exprs = plan.order.map((k) => k.expr);
  const params = plan.order.map((k, i) => k.bound(`@${PAGE_PARAMS.key(i)}`));
  const descs = plan.order.map((k) => k.desc);
  if (descs.every((d) => d === descs[0])) {
    const op = descs[0] ? '<' : '>';
    if (exprs.length === 1) return `${exprs[0]} ${op} ${params[0]}`;
    // the leading key's bound alone lets an index on it skip the rows before
    return `${exprs[0]} ${op}= ${params[0]} AND (${exprs.join(', ')}) ${op} (${params.join(', ')})`;
  }
  const terms = exprs.map((e, i) => {
    const eq = exprs.slice(0, i).map((p, j) => `${p} = ${params[j]}`);
    return `(${[...eq, `${e} ${descs[i] ? '<' : '>'} ${params[i]}`].join(' AND ')})`;
  });
  return `(${terms.join(' OR ')})`;
}
