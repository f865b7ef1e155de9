/**
 * GEN_QUERY_AN 702: the catalog query every iRODS client lists, stats and
 * searches with (python-irodsclient 0.8.1 `Query.execute`). The columns,
 * joins, conditions and visibility rule live in `../genquery/`; this module
 * runs a request: a new query, the next page of an open one, or its close.
 *
 * Answers as iRODS 4.3.5 `rsGenQuery` / `chlGenQuery` does: no rows is the
 * error `CAT_NO_ROWS_FOUND`; a continuation with `maxRows` 0 closes the
 * query; a `zone` keyword naming another zone is `SYS_INVALID_ZONE_NAME`;
 * `RETURN_TOTAL_ROW_COUNT` counts the rows on the first page only.
 *
 * @module
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { countRows, MAX_OPEN_QUERIES, MAX_ROWS_PER_PAGE, openQueriesOf, readPage, type QueryPosition } from '../genquery/cursors.js';
import { registerIdFunctions } from '../genquery/ids.js';
import { checkQueryLimits, decodeGenQueryInput, OPTIONS, type GenQueryInput } from '../genquery/query-input.js';
import { genQueryOut } from '../genquery/reply.js';
import { buildPlan } from '../genquery/sql-builder.js';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const GEN_QUERY_AN = 702;

/** Keywords a query may carry: the zone it targets, and the strict-ACL switch that only server-to-server calls may use (ignored). */
const KNOWN_KEYWORDS = new Set(['zone', 'disable_strict_acl']);

async function handleGenQuery(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  try {
    return answer(req, ctx);
  } catch (err) {
    // a catalog error is ours, not the client's: log it, answer without the SQL
    if (err instanceof Database.SqliteError) {
      ctx.log.error({ err, user: ctx.user.name }, 'GenQuery catalog query failed');
      throw new IrodsError('CAT_SQL_ERR', `the catalog query failed (${err.code})`);
    }
    throw err;
  }
}

function answer(req: ApiRequest, ctx: ApiContext): ApiReply {
  const input = decodeGenQueryInput(req.bodyName, req.body);
  const core = ctx.store.protocolCore();
  core.assertOpen();
  registerIdFunctions(core.db);
  const open = openQueriesOf(ctx.connection);
  const maxRows = Math.min(input.maxRows, MAX_ROWS_PER_PAGE);

  if (input.continueInx > 0) {
    const position = open.get(input.continueInx);
    if (maxRows <= 0) {
      open.close(input.continueInx);
      return { body: genQueryOut([], [], 0) };
    }
    if (!position) {
      throw new IrodsError(
        'CAT_INVALID_ARGUMENT',
        `no open query ${input.continueInx} on this connection: it ended, was closed, or was dropped as the oldest when more than ${MAX_OPEN_QUERIES} were open`,
      );
    }
    return runPage(input, position, maxRows, ctx, input.continueInx);
  }

  checkQueryLimits(input);
  checkKeywords(input, core.zone);
  if (input.options & OPTIONS.QUOTA_QUERY) {
    throw new IrodsError('CAT_NO_ROWS_FOUND', 'this store keeps no quotas');
  }
  const plan = buildPlan(input, {
    user: ctx.user.name,
    admin: ctx.access.isAdmin(ctx.user),
    zone: core.zone,
    vault: core.vault.dir,
    host: hostname(),
    resources: core.vault.resourcesDir,
  });
  const position: QueryPosition = { plan, lastKey: null, skip: input.rowOffset };
  return runPage(input, position, maxRows, ctx, 0);
}

/** Answers one page of `position`; `continueInx` is its open query's index, 0 when not open yet. */
function runPage(input: GenQueryInput, position: QueryPosition, maxRows: number, ctx: ApiContext, continueInx: number): ApiReply {
  const db = ctx.store.protocolCore().db;
  const open = openQueriesOf(ctx.connection);
  const first = continueInx === 0;
  const total = first && input.options & OPTIONS.RETURN_TOTAL_ROW_COUNT ? countRows(db, position.plan) : 0;

  if (maxRows <= 0) {
    // iRODS runs the query and leaves its statement open without returning a row
    if (readPage(db, { ...position }, 1).rows.length === 0) noRows();
    return { body: genQueryOut([], [], open.add(position), total) };
  }

  const page = readPage(db, position, maxRows);
  if (page.rows.length === 0) {
    if (!first) open.close(continueInx);
    noRows();
  }
  let next = 0;
  if (!page.more || input.options & OPTIONS.AUTO_CLOSE) {
    if (!first) open.close(continueInx);
    if (page.more) next = -1;
  } else {
    next = first ? open.add(position) : continueInx;
  }
  return { body: genQueryOut(position.plan.columns, page.rows, next, total) };
}

function noRows(): never {
  throw new IrodsError('CAT_NO_ROWS_FOUND', 'no rows found');
}

function checkKeywords(input: GenQueryInput, zone: string): void {
  for (const [key, value] of input.keywords) {
    if (!KNOWN_KEYWORDS.has(key)) {
      throw new IrodsError('CAT_INVALID_ARGUMENT', `GenQuery keyword ${JSON.stringify(key)} is not supported by this server`);
    }
    if (key === 'zone' && value !== '' && value !== zone) {
      throw new IrodsError('SYS_INVALID_ZONE_NAME', `unknown zone ${JSON.stringify(value)}: this server serves zone ${zone}`);
    }
  }
}

/** The routes of this module. */
export const genQueryRoutes: ApiRoute[] = [{ api: GEN_QUERY_AN, name: 'GEN_QUERY_AN', handle: handleGenQuery }];
