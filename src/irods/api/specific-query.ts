/**
 * SPECIFIC_QUERY_AN 722 (`specificQueryInp_PI`: `sql` (an alias or the SQL
 * of a registered query), `arg1`…`arg10`, `maxRows`, `continueInx`,
 * `rowOffset`, `options`, `KeyValPair_PI`; answer `GenQueryOut_PI`, iRODS
 * 4.3.5 `specificQuery.h`, `apiTable.hpp`). The queries served are in
 * `../specific-query/builtin-queries.ts`.
 *
 * Answers as iRODS 4.3.5 `db_specific_query_op` does: an unknown query is
 * `CAT_UNKNOWN_SPECIFIC_QUERY`; no rows `CAT_NO_ROWS_FOUND`; each result
 * column has `attriInx` 0; a continuation with `maxRows` 0 ends the query.
 * Unlike iRODS, which keeps the statement open and answers a
 * `continueInx` on every page (the client then learns the end from
 * `CAT_NO_ROWS_FOUND`), a page here says in `continueInx` where the next
 * starts (the index after its last row, plus one) and the last page answers
 * 0: the lists are tiny and fixed, so nothing is held between requests.
 *
 * @module
 */
import { MAX_ROWS_PER_PAGE } from '../genquery/cursors.js';
import { genQueryOut } from '../genquery/reply.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { builtinQuery, runBuiltinQuery } from '../specific-query/builtin-queries.js';
import { IrodsError } from '../wire/irods-error.js';
import { int, keyValues, text } from '../wire/pi-values.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const SPECIFIC_QUERY_AN = 722;

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
  const query = builtinQuery(text(b, 'sql'));
  const args = Array.from({ length: 10 }, (_, i) => text(b, `arg${i + 1}`));
  const rows = runBuiltinQuery(ctx.store.protocolCore().db, query, args);
  const start = continueInx > 0 ? continueInx - 1 : Math.max(0, int(b, 'rowOffset'));
  const page = rows.slice(start, start + Math.max(maxRows, 0));
  if (page.length === 0) throw new IrodsError('CAT_NO_ROWS_FOUND', `specific query ${query.alias}: no rows`);
  const end = start + page.length;
  return { body: genQueryOut(page[0]!.map(() => 0), page, end < rows.length ? end + 1 : 0) };
}

/** The routes of this module. */
export const specificQueryRoutes: ApiRoute[] = [{ api: SPECIFIC_QUERY_AN, name: 'SPECIFIC_QUERY_AN', handle }];
