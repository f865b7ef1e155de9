/**
 * Specific queries through their handlers, with bodies as python-irodsclient
 * 0.8.1 packs them: SPECIFIC_QUERY_AN 722 (`SpecificQuery.execute`) and
 * `generalAdmin add|rm specificQuery` 701 (`register`, `remove`). The
 * queries every catalog starts with (those of a fresh iRODS 4.2.12 zone;
 * test/irods/specific-query-builtins.test.ts runs each through the client),
 * which of them run as an SQLite equivalent and why, paging, registered SQL
 * over the iCAT views, and what is refused: a non-admin registering, SQL
 * that is not one read-only SELECT, SQL that reads the passwords or
 * anything else that is not an iCAT view, at registration and at run time.
 */
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/irods/api/admin.js';
import { specificQueryRoutes } from '../../src/irods/api/specific-query.js';
import type { ApiContext, ApiReply } from '../../src/irods/server/api.js';
import { IcatQueries, icatSiteOf } from '../../src/irods/specific-query/icat-views.js';
import { SQLITE_EQUIVALENTS } from '../../src/irods/specific-query/sqlite-equivalents.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import type { PiFields } from '../../src/irods/wire/pi-values.js';
import { INITIAL_SPECIFIC_QUERIES } from '../../src/store/embedded/specific-queries.js';
import { ALIASES_4_2_12, sqlOf } from '../support/icat-specific-queries.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest } from '../support/store-helpers.js';
import { handlerContext, irodsError } from './support/handler-context.js';

const [route] = specificQueryRoutes;
let store: EmbeddedStore;
let alice: ApiContext;
let rods: ApiContext;
const SECRET = 'alice-password-never-shown';
storePerTest(async (t) => {
  store = t.store;
  await store.createPrincipal('alice', 'rodsuser');
  store.setPassword('alice', SECRET);
  alice = await handlerContext(store, 'alice');
  rods = await handlerContext(store, 'rods');
});

async function specificQuery(ctx: ApiContext, sql: string, opts: { args?: string[]; maxRows?: number; continueInx?: number; rowOffset?: number; zone?: string } = {}) {
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

/** generalAdmin with `values` as arg0… (python-irodsclient's GeneralAdminRequest). */
async function admin(ctx: ApiContext, ...values: string[]) {
  const body: Record<string, string> = {};
  for (let i = 0; i < 10; i++) body[`arg${i}`] = values[i] ?? '';
  return adminRoutes[0]!.handle({ api: 701, bodyName: 'generalAdminInp_PI', body, bs: Buffer.alloc(0) }, ctx);
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

const rows = async (ctx: ApiContext, sql: string, args?: string[]) => rowsOf(await specificQuery(ctx, sql, { args })).rows;

/** The error code and message a call answers. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) return { code: err.codeName, message: err.message };
    throw err;
  }
  throw new Error('expected an iRODS error');
}

describe('SPECIFIC_QUERY_AN 722: the queries every catalog starts with', () => {
  it('ls lists the registered queries with their SQL, to any user, named by alias or by SQL', async () => {
    expect(route!.api).toBe(722);
    const out = rowsOf(await specificQuery(alice, 'ls'));
    expect(out.rows).toEqual(INITIAL_SPECIFIC_QUERIES.map((q) => [q.alias, q.sql]));
    expect(out.rows.map((r) => r[0])).toEqual(ALIASES_4_2_12);
    expect(out.continueInx).toBe(0);
    expect(out.attriInx).toEqual([0, 0]);
    expect(await rows(alice, 'select alias, sqlStr from R_SPECIFIC_QUERY')).toHaveLength(13);
  });

  it('lsl lists those whose SQL matches a case-sensitive LIKE pattern (as the iCAT PostgreSQL compares)', async () => {
    expect((await rows(alice, 'lsl', ['%like ?'])).map((r) => r[0])).toEqual(['lsl']);
    expect((await rows(alice, 'lsl', ['select alias%'])).map((r) => r[0])).toEqual(['ls', 'lsl']);
    expect((await rows(alice, 'lsl', ['SELECT alias%'])).map((r) => r[0])).toEqual(['listQueryByAliasLike', 'findQueryByAlias']);
    expect(await irodsError(specificQuery(alice, 'lsl', { args: ['SELECT ALIAS%'] }))).toBe('CAT_NO_ROWS_FOUND');
    // its ? has no argument
    expect(await irodsError(specificQuery(alice, 'lsl'))).toBe('CAT_INVALID_ARGUMENT');
  });

  it('ShowCollAcls lists who has which access to a collection, as ils -A shows it', async () => {
    await store.createCollection('/testZone/home/alice/shared', { parents: true, owner: 'alice' });
    await store.setAccess('/testZone/home/alice/shared', 'rods', 'read');
    const acl = await rows(alice, 'ShowCollAcls', ['/testZone/home/alice/shared']);
    expect(acl.sort()).toEqual([
      ['alice', 'testZone', 'own', 'rodsuser'],
      ['rods', 'testZone', 'read object', 'rodsadmin'],
    ]);
  });

  it("runs iRODS's PostgreSQL text as it is but for three queries SQLite cannot compile, which run as their SQLite equivalent", async () => {
    // the catalog's views on a connection of its own, the equivalents left out
    const db = new Database(store.protocolCore().db.name, { readonly: true });
    try {
      IcatQueries.over(db, icatSiteOf(store.protocolCore()));
      const compileError = (sql: string) => {
        try {
          db.prepare(sql);
          return null;
        } catch (err) {
          return (err as Error).message;
        }
      };
      const refused = Object.fromEntries(INITIAL_SPECIFIC_QUERIES.flatMap((q) => (compileError(q.sql) === null ? [] : [[q.alias, compileError(q.sql)]])));
      expect(refused).toEqual({
        listUserACLForDataObjViaGroup: 'near "ON": syntax error',
        listUserACLForCollectionViaGroup: 'near "ON": syntax error',
        DataObjInCollReCur: 'near "SELECT": syntax error',
      });
      expect([...SQLITE_EQUIVALENTS.keys()]).toEqual(Object.keys(refused).map(sqlOf));
      for (const sql of SQLITE_EQUIVALENTS.values()) expect(compileError(sql), sql).toBeNull();
    } finally {
      db.close();
    }
    // the catalog keeps, and ls lists, iRODS's text; it runs all the same
    expect((await rows(alice, 'findQueryByAlias', ['DataObjInCollReCur']))[0]![1]).toContain('= ANY(ARRAY(SELECT coll_id FROM coll))');
    await store.createCollection('/testZone/home/alice/c/d', { parents: true, owner: 'alice' });
    await store.putObject('/testZone/home/alice/c/d/x', Readable.from([Buffer.from('x')]), { owner: 'alice' });
    const recur = await rows(alice, 'DataObjInCollReCur', ['/testZone/home/alice', '/testZone/home/alice/%']);
    expect(recur.map((r) => [r[1], r[2]])).toEqual([['/testZone/home/alice/c/d', 'x']]);
  });

  it("an administrator registers iRODS's text of one again, under another alias: it runs as its equivalent, named by alias or by SQL", async () => {
    await store.createCollection('/testZone/home/alice/c', { parents: true, owner: 'alice' });
    await store.putObject('/testZone/home/alice/c/x', Readable.from([Buffer.from('x')]), { owner: 'alice' });
    await store.createPrincipal('lab', 'rodsgroup');
    await store.addGroupMember('lab', 'alice');
    await store.setAccess('/testZone/home/alice/c/x', 'lab', 'read');
    const sql = sqlOf('listUserACLForDataObjViaGroup');
    await admin(rods, 'rm', 'specificQuery', 'listUserACLForDataObjViaGroup');
    await admin(rods, 'add', 'specificQuery', sql, 'viaGroup');
    const args = ['/testZone/home/alice/c', 'x', 'alice'];
    const out = await rows(alice, 'viaGroup', args);
    expect(out.map((r) => [r[0], r[2], r[7]])).toEqual([
      ['alice', '1200', 'alice'],
      ['alice', '1050', 'lab'],
    ]);
    expect(await rows(alice, sql, args)).toEqual(out);
    expect((await rows(alice, 'ls')).at(-1)).toEqual(['viaGroup', sql]);
  });

  it('pages by maxRows, continueInx and rowOffset; maxRows 0 on a continuation ends it', async () => {
    const first = rowsOf(await specificQuery(alice, 'ls', { maxRows: 6 }));
    expect(first.rows.map((r) => r[0])).toEqual(ALIASES_4_2_12.slice(0, 6));
    expect(first.continueInx).toBeGreaterThan(0);
    const second = rowsOf(await specificQuery(alice, 'ls', { maxRows: 6, continueInx: first.continueInx }));
    expect(second.rows.map((r) => r[0])).toEqual(ALIASES_4_2_12.slice(6, 12));
    expect(second.continueInx).toBeGreaterThan(0);
    const third = rowsOf(await specificQuery(alice, 'ls', { maxRows: 6, continueInx: second.continueInx }));
    expect(third.rows.map((r) => r[0])).toEqual(['listGroupsForUser']);
    expect(third.continueInx).toBe(0);
    expect((await rowsOf(await specificQuery(alice, 'ls', { rowOffset: 1 }))).rows.map((r) => r[0])).toEqual(ALIASES_4_2_12.slice(1));
    expect(await irodsError(specificQuery(alice, 'ls', { rowOffset: 13 }))).toBe('CAT_NO_ROWS_FOUND');
    expect(rowsOf(await specificQuery(alice, 'ls', { maxRows: 0, continueInx: first.continueInx })).rows).toEqual([]);
  });

  it('answers CAT_UNKNOWN_SPECIFIC_QUERY for an alias or SQL not registered, and another zone as iRODS does', async () => {
    for (const sql of ['foo', 'select alias from R_SPECIFIC_QUERY', 'select * from passwords', '']) {
      expect(await irodsError(specificQuery(alice, sql)), sql).toBe('CAT_UNKNOWN_SPECIFIC_QUERY');
    }
    expect(await irodsError(specificQuery(alice, 'ls', { zone: 'otherZone' }))).toBe('SYS_INVALID_ZONE_NAME');
    expect(await rows(alice, 'ls')).toHaveLength(13);
    expect(rowsOf(await specificQuery(alice, 'ls', { zone: 'testZone' })).rows).toHaveLength(13);
    expect(await irodsError(Promise.resolve().then(() => route!.handle({ api: 722, bodyName: 'GenQueryInp_PI', body: {}, bs: Buffer.alloc(0) }, alice)))).toBe(
      'USER_PACKSTRUCT_INPUT_ERR',
    );
  });
});

describe('registered specific queries (generalAdmin add|rm specificQuery)', () => {
  const LIST = "select DATA_NAME, DATA_ID, DATA_SIZE, DATA_CHECKSUM, DATA_OWNER_NAME from R_DATA_MAIN join R_COLL_MAIN using (COLL_ID) where COLL_NAME = ? order by DATA_NAME";

  it('a rodsadmin registers SQL over the iCAT views; any user runs it with arguments; it answers what the catalog holds', async () => {
    await store.createCollection('/testZone/home/alice/c', { parents: true, owner: 'alice' });
    const a = await store.putObject('/testZone/home/alice/c/a.txt', Readable.from([Buffer.from('hello')]), { owner: 'alice' });
    const b = await store.putObject('/testZone/home/alice/c/b.txt', Readable.from([Buffer.from('bye')]), { owner: 'alice' });
    await admin(rods, 'add', 'specificQuery', LIST, 'objs');
    const out = await rows(alice, 'objs', ['/testZone/home/alice/c']);
    expect(out.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ['a.txt', '5', a.checksum, 'alice'],
      ['b.txt', '3', b.checksum, 'alice'],
    ]);
    expect(new Set(out.map((r) => r[1])).size).toBe(2);
    // named by its SQL too; an empty collection has no rows
    expect(await rows(alice, LIST, ['/testZone/home/alice/c'])).toEqual(out);
    expect(await irodsError(specificQuery(alice, 'objs', { args: ['/testZone/home'] }))).toBe('CAT_NO_ROWS_FOUND');
    // ls lists it after the initial ones
    expect((await rows(alice, 'ls')).at(-1)).toEqual(['objs', LIST]);
    // removed by alias, it is gone
    await admin(rods, 'rm', 'specificQuery', 'objs');
    expect(await irodsError(specificQuery(alice, 'objs', { args: ['/testZone/home/alice/c'] }))).toBe('CAT_UNKNOWN_SPECIFIC_QUERY');
  });

  it('the views join as the iCAT tables do: users, groups, ACLs, metadata, resource, zone', async () => {
    await store.createPrincipal('lab', 'rodsgroup');
    await store.addGroupMember('lab', 'alice');
    await store.createCollection('/testZone/home/alice/m', { parents: true, owner: 'alice' });
    await store.modifyMetadata('/testZone/home/alice/m', 'add', { attribute: 'k', value: 'v', unit: 'u' });
    const q = async (sql: string, ...args: string[]) => {
      await admin(rods, 'add', 'specificQuery', sql, 'q');
      try {
        return await rows(alice, 'q', args);
      } finally {
        await admin(rods, 'rm', 'specificQuery', 'q');
      }
    };
    expect(
      await q('select g.user_name from R_USER_GROUP ug join R_USER_MAIN u on u.user_id = ug.user_id join R_USER_MAIN g on g.user_id = ug.group_user_id where u.user_name = ? order by 1', 'alice'),
    ).toEqual([['alice'], ['lab'], ['public']]);
    expect(
      await q('select meta_attr_name, meta_attr_value, meta_attr_unit from R_META_MAIN join R_OBJT_METAMAP using (meta_id) join R_COLL_MAIN on coll_id = object_id where coll_name = ?', '/testZone/home/alice/m'),
    ).toEqual([['k', 'v', 'u']]);
    expect(await q('select resc_name, zone_name from R_RESC_MAIN')).toEqual([['demoResc', 'testZone']]);
    expect(await q('select zone_name, zone_type_name from R_ZONE_MAIN')).toEqual([['testZone', 'local']]);
    expect(await q('select parent_coll_name from R_COLL_MAIN where coll_name = ?', '/testZone/home/alice/m')).toEqual([['/testZone/home/alice']]);
  });

  it('answers a taken alias as a real server does (CAT_INVALID_ARGUMENT, "Alias is not unique"); SQL without an alias may repeat', async () => {
    await admin(rods, 'add', 'specificQuery', 'select DATA_NAME from R_DATA_MAIN', 'names');
    expect(await failure(admin(rods, 'add', 'specificQuery', 'select DATA_ID from R_DATA_MAIN', 'names'))).toEqual({
      code: 'CAT_INVALID_ARGUMENT',
      message: 'Alias is not unique',
    });
    expect(await failure(admin(rods, 'add', 'specificQuery', 'sel', 'short'))).toEqual({ code: 'CAT_INVALID_ARGUMENT', message: 'sql string is invalid' });
    await admin(rods, 'add', 'specificQuery', 'select DATA_ID from R_DATA_MAIN');
    await admin(rods, 'add', 'specificQuery', 'select DATA_ID from R_DATA_MAIN');
    expect((await rows(alice, 'ls')).filter((r) => r[1] === 'select DATA_ID from R_DATA_MAIN')).toEqual([
      ['', 'select DATA_ID from R_DATA_MAIN'],
      ['', 'select DATA_ID from R_DATA_MAIN'],
    ]);
    // removing by SQL removes both; then nothing is left to remove
    await admin(rods, 'rm', 'specificQuery', 'select DATA_ID from R_DATA_MAIN');
    expect(await irodsError(admin(rods, 'rm', 'specificQuery', 'select DATA_ID from R_DATA_MAIN'))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect(await irodsError(admin(rods, 'rm', 'specificQuery', 'nosuch'))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect((await rows(alice, 'ls')).map((r) => r[0])).toEqual([...ALIASES_4_2_12, 'names']);
  });

  it('only a rodsadmin registers or removes one', async () => {
    expect(await irodsError(admin(alice, 'add', 'specificQuery', 'select DATA_NAME from R_DATA_MAIN', 'mine'))).toBe('SYS_NO_API_PRIV');
    expect(await irodsError(admin(alice, 'rm', 'specificQuery', 'ls'))).toBe('SYS_NO_API_PRIV');
    expect((await rows(alice, 'ls')).map((r) => r[0])).toEqual(ALIASES_4_2_12);
  });

  it('refuses SQL that is not one read-only SELECT, or that reads passwords or anything but the iCAT views', async () => {
    const refused = [
      "delete from entries",
      "insert into specific_queries (alias, sql, created) values ('x', 'y', 'z')",
      "update principals set user_type = 'rodsadmin' where name = 'alice'",
      'with x as (select 1) delete from entries',
      'create table t (a)',
      "attach 'file:/tmp/x.sqlite' as x",
      'pragma table_info(passwords)',
      'select 1; delete from entries',
      'select secret from passwords',
      'select * from main.passwords',
      "select p.secret from R_USER_MAIN u join passwords p on p.name = u.user_name",
      'with p as (select * from passwords) select secret from p',
      'select (select secret from passwords limit 1) from R_ZONE_MAIN',
      'select name, sql from sqlite_schema',
      'select * from temp.sqlite_schema',
      "select * from pragma_table_info('passwords')",
      'select * from dbstat',
      'select * from R_USER_PASSWORD',
      'explain select secret from passwords',
      '/* hi */ vacuum',
    ];
    for (const sql of refused) {
      expect((await failure(admin(rods, 'add', 'specificQuery', sql, 'bad'))).code, sql).toBe('CAT_INVALID_ARGUMENT');
    }
    expect((await rows(alice, 'ls')).map((r) => r[0])).toEqual(ALIASES_4_2_12);
    // a SELECT that fails when run is answered as an iCAT's SQL error
    await admin(rods, 'add', 'specificQuery', "select load_extension('/tmp/x.so') from R_ZONE_MAIN", 'ext');
    expect(await irodsError(specificQuery(alice, 'ext'))).toBe('CAT_SQL_ERR');
    // comments before the SELECT are fine
    await admin(rods, 'add', 'specificQuery', '-- names\n/* all */ select DATA_NAME from R_DATA_MAIN', 'commented');
  });

  it('refuses at run time too: SQL put in the catalog by another way never reads the passwords', async () => {
    const core = store.protocolCore();
    core.write(() => core.db.prepare(`INSERT INTO specific_queries (alias, sql, created) VALUES ('leak', 'select name, secret from passwords', '0')`).run());
    const f = await failure(specificQuery(alice, 'leak'));
    expect(f.code).toBe('CAT_INVALID_ARGUMENT');
    expect(f.message).not.toContain(SECRET);
    expect(store.passwordOf('alice')).not.toBeNull();
  });
});
