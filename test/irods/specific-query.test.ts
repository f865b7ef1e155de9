/**
 * SPECIFIC_QUERY_AN 722 through its handler, with bodies as python-irodsclient
 * 0.8.1's `SpecificQuery.execute` packs them (`specificQueryInp_PI`): the
 * built-in `ls` and `lsl`, paging by `maxRows` / `continueInx` / `rowOffset`,
 * an unknown alias or SQL, and registration refused.
 */
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/irods/api/admin.js';
import { specificQueryRoutes } from '../../src/irods/api/specific-query.js';
import { BUILTIN_QUERIES } from '../../src/irods/specific-query/builtin-queries.js';
import type { ApiContext, ApiReply } from '../../src/irods/server/api.js';
import type { PiFields } from '../../src/irods/wire/pi-values.js';
import { storePerTest } from '../support/store-helpers.js';
import { handlerContext, irodsError } from './support/handler-context.js';

const [route] = specificQueryRoutes;
let alice: ApiContext;
let rods: ApiContext;
storePerTest(async (t) => {
  await t.store.createPrincipal('alice', 'rodsuser');
  alice = await handlerContext(t.store, 'alice');
  rods = await handlerContext(t.store, 'rods');
});

function specificQuery(ctx: ApiContext, sql: string, opts: { args?: string[]; maxRows?: number; continueInx?: number; rowOffset?: number; zone?: string } = {}) {
  const body: Record<string, unknown> = { sql };
  (opts.args ?? []).forEach((a, i) => (body[`arg${i + 1}`] = a));
  Object.assign(body, {
    maxRows: String(opts.maxRows ?? 500),
    continueInx: String(opts.continueInx ?? 0),
    rowOffset: String(opts.rowOffset ?? 0),
    options: '0',
    KeyValPair_PI: opts.zone === undefined ? { ssLen: '0' } : { ssLen: '1', keyWord: 'zone', svalue: opts.zone },
  });
  return route!.handle({ api: 722, bodyName: 'specificQueryInp_PI', body: body as never, bs: Buffer.alloc(0) }, ctx);
}

/** The rows of a GenQueryOut_PI reply, and its continueInx. */
function rowsOf(reply: ApiReply): { rows: string[][]; continueInx: number; attriInx: number[] } {
  const f = reply.body!.fields;
  const results = (f.SqlResult_PI as PiFields[]).slice(0, Number(f.attriCnt));
  const n = Number(f.rowCnt);
  return {
    rows: Array.from({ length: n }, (_, r) => results.map((c) => (c.value as string[])[r]!)),
    continueInx: Number(f.continueInx),
    attriInx: results.map((c) => Number(c.attriInx)),
  };
}

describe('SPECIFIC_QUERY_AN 722', () => {
  it('ls lists the built-in queries with the SQL the store runs for each, to any user', async () => {
    expect(route!.api).toBe(722);
    const out = rowsOf(await specificQuery(alice, 'ls'));
    expect(out.rows).toEqual([
      ['ls', BUILTIN_QUERIES[0]!.sql],
      ['lsl', BUILTIN_QUERIES[1]!.sql],
    ]);
    for (const [, sql] of out.rows) expect(sql!.toUpperCase()).toContain('SELECT');
    expect(out.continueInx).toBe(0);
    expect(out.attriInx).toEqual([0, 0]);
    // a query may be named by its SQL too
    expect(rowsOf(await specificQuery(alice, BUILTIN_QUERIES[0]!.sql)).rows).toHaveLength(2);
  });

  it('lsl lists those whose SQL matches a case-sensitive LIKE pattern', async () => {
    expect(rowsOf(await specificQuery(alice, 'lsl', { args: ['%GLOB%'] })).rows.map((r) => r[0])).toEqual(['lsl']);
    expect(rowsOf(await specificQuery(alice, 'lsl', { args: ['SELECT%'] })).rows.map((r) => r[0])).toEqual(['ls', 'lsl']);
    expect(await irodsError(specificQuery(alice, 'lsl', { args: ['select%'] }))).toBe('CAT_NO_ROWS_FOUND');
    expect(await irodsError(specificQuery(alice, 'lsl'))).toBe('CAT_INVALID_ARGUMENT');
  });

  it('pages by maxRows, continueInx and rowOffset; maxRows 0 on a continuation ends it', async () => {
    const first = rowsOf(await specificQuery(alice, 'ls', { maxRows: 1 }));
    expect(first.rows.map((r) => r[0])).toEqual(['ls']);
    expect(first.continueInx).toBeGreaterThan(0);
    const second = rowsOf(await specificQuery(alice, 'ls', { maxRows: 1, continueInx: first.continueInx }));
    expect(second.rows.map((r) => r[0])).toEqual(['lsl']);
    expect(second.continueInx).toBe(0);
    expect(rowsOf(await specificQuery(alice, 'ls', { rowOffset: 1 })).rows.map((r) => r[0])).toEqual(['lsl']);
    expect(await irodsError(specificQuery(alice, 'ls', { rowOffset: 2 }))).toBe('CAT_NO_ROWS_FOUND');
    expect(rowsOf(await specificQuery(alice, 'ls', { maxRows: 0, continueInx: first.continueInx })).rows).toEqual([]);
  });

  it('answers CAT_UNKNOWN_SPECIFIC_QUERY for any other alias or SQL, and another zone as iRODS does', async () => {
    for (const sql of ['foo', 'ShowCollAcls', 'select * from passwords', 'select alias, sqlStr from R_SPECIFIC_QUERY', '']) {
      expect(await irodsError(specificQuery(alice, sql)), sql).toBe('CAT_UNKNOWN_SPECIFIC_QUERY');
    }
    expect(await irodsError(specificQuery(alice, 'ls', { zone: 'otherZone' }))).toBe('SYS_INVALID_ZONE_NAME');
    expect(rowsOf(await specificQuery(alice, 'ls', { zone: 'testZone' })).rows).toHaveLength(2);
    expect(await irodsError(route!.handle({ api: 722, bodyName: 'GenQueryInp_PI', body: {}, bs: Buffer.alloc(0) }, alice))).toBe(
      'USER_PACKSTRUCT_INPUT_ERR',
    );
  });

  it('refuses to register or remove a query, naming what is served', async () => {
    const admin = (...values: string[]) => {
      const body: Record<string, string> = {};
      for (let i = 0; i < 10; i++) body[`arg${i}`] = values[i] ?? '';
      return adminRoutes[0]!.handle({ api: 701, bodyName: 'generalAdminInp_PI', body, bs: Buffer.alloc(0) }, rods);
    };
    expect(await irodsError(admin('add', 'specificQuery', 'select name, secret from passwords', 'pw'))).toBe('SYS_NOT_SUPPORTED');
    expect(await irodsError(admin('rm', 'specificQuery', 'ls'))).toBe('SYS_NOT_SUPPORTED');
    expect(await irodsError(specificQuery(alice, 'pw'))).toBe('CAT_UNKNOWN_SPECIFIC_QUERY');
  });
});
