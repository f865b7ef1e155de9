/**
 * SPECIFIC_QUERY_AN 722 (`specificQueryInp_PI`: `sql` (an alias or the SQL
 * of a registered query), `arg1`…`arg10`, `maxRows`, `continueInx`,
 * `rowOffset`, `options`, `KeyValPair_PI`; answer `GenQueryOut_PI`, iRODS
 * 4.3.5 `specificQuery.h`, `apiTable.hpp`). Queries are registered with
 * `generalAdmin add specificQuery` (`./admin.ts`), kept in the catalog
 * (`src/store/embedded/specific-queries.ts`) and run over the iCAT views of
 * `../specific-query/icat-views.ts`, which also says what they may read.
 *
 * Answers as iRODS 4.3.5 `db_specific_query_op` does: the request names a
 * query by its SQL or else by its alias, anything else is
 * `CAT_UNKNOWN_SPECIFIC_QUERY`; the arguments from `arg1` up to the first
 * empty one fill the SQL's `?`s in order; any authenticated user may run a
 * registered query, with no access check (registering SQL publishes what it
 * reads); no rows is `CAT_NO_ROWS_FOUND`; each result column has `attriInx`
 * 0; a continuation with `maxRows` 0 ends the query.
 * Unlike iRODS, which keeps the statement open and answers a
 * `continueInx` on every page (the client then learns the end from
 * `CAT_NO_ROWS_FOUND`), a page here says in `continueInx` where the next
 * starts (the index after its last row, plus one) and the last page answers
 * 0: nothing is held between requests, and the next page runs the query
 * again, skipping the rows sent. Queries run in other processes, each
 * answered within a time limit (`../specific-query/runner.ts`).
 *
 * @module
 */
import { MAX_ROWS_PER_PAGE } from '../genquery/cursors.js';
import { genQueryOut } from '../genquery/reply.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { int, keyValues, text } from '../wire/pi-values.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const SPECIFIC_QUERY_AN = 722;

/** `arg1`… up to the first empty one, as iRODS binds them. */
function argsOf(body: ApiRequest['body']): string[] {
  const args: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const a = text(body, `arg${i}`);
    if (a === '') break;
    args.push(a);
  }
  return args;
}

async function handle(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  if (req.bodyName !== 'specificQueryInp_PI' || req.body === null) {
    throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `API ${SPECIFIC_QUERY_AN} takes specificQueryInp_PI, not ${req.bodyName ?? 'nothing'}`);
  }
  const b = req.body;
  const maxRows = Math.min(int(b, 'maxRows'), MAX_ROWS_PER_PAGE);
  const continueInx = int(b, 'continueInx');
  if (continueInx > 0 && maxRows <= 0) return { body: genQueryOut([], [], 0) };
  const zone = keyValues(b).get('zone');
  if (zone !== undefined && zone !== '' && zone !== ctx.store.zone) {
    throw new IrodsError('SYS_INVALID_ZONE_NAME', `unknown zone ${JSON.stringify(zone.slice(0, 100))}: this server serves zone ${ctx.store.zone}`);
  }
  const named = text(b, 'sql');
  const sql = ctx.store.findSpecificQuery(named);
  if (sql === null) {
    throw new IrodsError('CAT_UNKNOWN_SPECIFIC_QUERY', `no specific query has the alias or SQL ${JSON.stringify(named.slice(0, 200))} (the alias ls lists them)`);
  }
  const start = continueInx > 0 ? continueInx - 1 : Math.max(0, int(b, 'rowOffset'));
  const { rows, more } = await ctx.specificQueries.run(sql, argsOf(b), start, Math.max(maxRows, 0));
  if (rows.length === 0) throw new IrodsError('CAT_NO_ROWS_FOUND', `specific query ${JSON.stringify(named.slice(0, 200))}: no rows`);
  return { body: genQueryOut(rows[0]!.map(() => 0), rows, more ? start + rows.length + 1 : 0) };
}

/** The routes of this module. */
export const specificQueryRoutes: ApiRoute[] = [{ api: SPECIFIC_QUERY_AN, name: 'SPECIFIC_QUERY_AN', handle }];
