/**
 * GEN_QUERY_AN 702 called directly with request bodies shaped as
 * python-irodsclient 0.8.1 sends them (`GenQueryRequest`: selects as
 * column → flags, conditions as column → `op 'value'`), over a real store.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { genQueryRoutes } from '../../src/irods/api/genquery.js';
import { MAX_OPEN_QUERIES, readPage } from '../../src/irods/genquery/cursors.js';
import { COLUMNS } from '../../src/irods/genquery/columns.js';
import { principalId, registerIdFunctions } from '../../src/irods/genquery/ids.js';
import { buildPlan, pageSql } from '../../src/irods/genquery/sql-builder.js';
import { decodeGenQueryInput } from '../../src/irods/genquery/query-input.js';
import { IRODS_ERRORS, type IrodsErrorName } from '../../src/irods/wire/error-codes.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import type { PiFields, PiNode } from '../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest } from '../support/store-helpers.js';
import { call, handlerContext, type TestContext } from './support/handler-context.js';

const Z = '/testZone';
const route = genQueryRoutes[0];

// iRODS 4.3.5 rodsGenQuery.h column numbers used below
const C = {
  ZONE_NAME: 102,
  USER_ID: 201,
  USER_NAME: 202,
  USER_TYPE: 203,
  USER_ZONE: 204,
  R_RESC_NAME: 302,
  DATA_ID: 401,
  D_COLL_ID: 402,
  DATA_NAME: 403,
  DATA_REPL_NUM: 404,
  DATA_TYPE_NAME: 406,
  DATA_SIZE: 407,
  D_RESC_NAME: 409,
  D_DATA_PATH: 410,
  D_OWNER_NAME: 411,
  D_REPL_STATUS: 413,
  D_DATA_CHECKSUM: 415,
  D_CREATE_TIME: 419,
  D_MODIFY_TIME: 420,
  D_RESC_HIER: 422,
  COLL_ID: 500,
  COLL_NAME: 501,
  COLL_PARENT_NAME: 502,
  COLL_OWNER_NAME: 503,
  COLL_OWNER_ZONE: 504,
  COLL_INHERITANCE: 506,
  COLL_CREATE_TIME: 508,
  COLL_MODIFY_TIME: 509,
  META_DATA_ATTR_NAME: 600,
  META_DATA_ATTR_VALUE: 601,
  META_DATA_ATTR_UNITS: 602,
  META_DATA_ATTR_ID: 603,
  META_COLL_ATTR_NAME: 610,
  META_COLL_ATTR_VALUE: 611,
  META_COLL_ATTR_UNITS: 612,
  META_COLL_ATTR_ID: 613,
  META_USER_ATTR_NAME: 640,
  DATA_ACCESS_TYPE: 700,
  DATA_ACCESS_NAME: 701,
  DATA_TOKEN_NAMESPACE: 702,
  DATA_ACCESS_USER_ID: 703,
  DATA_ACCESS_DATA_ID: 704,
  COLL_ACCESS_TYPE: 710,
  COLL_ACCESS_NAME: 711,
  COLL_ACCESS_USER_ID: 713,
  COLL_ACCESS_COLL_ID: 714,
  USER_GROUP_ID: 900,
  USER_GROUP_NAME: 901,
  COLL_USER_NAME: 1300,
  COLL_USER_ZONE: 1301,
  DATA_USER_NAME: 1310,
  USER_DN: 1601,
} as const;

const ORDER_BY = 0x400;
const ORDER_BY_DESC = 0x800;
const SELECT = { MIN: 2, MAX: 3, SUM: 4, AVG: 5, COUNT: 6 } as const;
const OPT = { RETURN_TOTAL_ROW_COUNT: 0x20, NO_DISTINCT: 0x40, AUTO_CLOSE: 0x100, UPPER_CASE_WHERE: 0x200 } as const;

interface QueryArgs {
  maxRows?: number;
  continueInx?: number;
  offset?: number;
  options?: number;
  keywords?: Record<string, string>;
}

/** A list as the wire decodes a repeated element: one item alone is a plain value. */
const rep = (items: string[]): string | string[] => (items.length === 1 ? items[0] : items);

/** A GenQueryInp_PI body; `select` maps columns to flags (1 as python-irodsclient sends for a plain column). */
function gqBody(select: Array<[number, number] | number>, conds: Array<[number, string]> = [], a: QueryArgs = {}): PiNode {
  const sel = select.map((s) => (Array.isArray(s) ? s : ([s, 1] as [number, number])));
  const kw = Object.entries(a.keywords ?? {});
  const body: PiNode = {
    maxRows: String(a.maxRows ?? 500),
    continueInx: String(a.continueInx ?? 0),
    partialStartIndex: String(a.offset ?? 0),
    options: String(a.options ?? 0),
    KeyValPair_PI: { ssLen: String(kw.length) },
    InxIvalPair_PI: { iiLen: String(sel.length) },
    InxValPair_PI: { isLen: String(conds.length) },
  };
  if (kw.length > 0) Object.assign(body.KeyValPair_PI as PiNode, { keyWord: rep(kw.map((k) => k[0])), svalue: rep(kw.map((k) => k[1])) });
  if (sel.length > 0) {
    Object.assign(body.InxIvalPair_PI as PiNode, {
      inx: rep(sel.map((s) => String(s[0]))),
      ivalue: rep(sel.map((s) => String(s[1]))),
    });
  }
  if (conds.length > 0) {
    Object.assign(body.InxValPair_PI as PiNode, {
      inx: rep(conds.map((c) => String(c[0]))),
      svalue: rep(conds.map((c) => c[1])),
    });
  }
  return body;
}

interface Out {
  rowCnt: number;
  attriCnt: number;
  continueInx: number;
  totalRowCount: number;
  /** Rows as column number → value. */
  rows: Array<Record<number, string>>;
  /** All SqlResult_PI entries as sent. */
  results: PiFields[];
}

async function rawQuery(ctx: TestContext, body: PiNode): Promise<Out> {
  const reply = await call(route, ctx, 'GenQueryInp_PI', body);
  expect(reply.body?.name).toBe('GenQueryOut_PI');
  const f = reply.body!.fields;
  expect(Object.keys(f)).toEqual(['rowCnt', 'attriCnt', 'continueInx', 'totalRowCount', 'SqlResult_PI']);
  const results = f.SqlResult_PI as PiFields[];
  const rowCnt = f.rowCnt as number;
  const attriCnt = f.attriCnt as number;
  const rows: Array<Record<number, string>> = [];
  for (let r = 0; r < rowCnt; r++) {
    const row: Record<number, string> = {};
    for (const col of results.slice(0, attriCnt)) row[col.attriInx as number] = (col.value as string[])[r];
    rows.push(row);
  }
  return { rowCnt, attriCnt, continueInx: f.continueInx as number, totalRowCount: f.totalRowCount as number, rows, results };
}

function query(ctx: TestContext, select: Array<[number, number] | number>, conds: Array<[number, string]> = [], a: QueryArgs = {}) {
  return rawQuery(ctx, gqBody(select, conds, a));
}

/** The iRODS error a call answers (fails when it answers rows). */
async function errorOf(p: Promise<unknown>): Promise<{ name: IrodsErrorName; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) {
      expect(err.code).toBe(IRODS_ERRORS[err.codeName]);
      return { name: err.codeName, message: err.message };
    }
    throw err;
  }
  throw new Error('expected an iRODS error');
}

const noRows = async (p: Promise<unknown>) => expect((await errorOf(p)).name).toBe('CAT_NO_ROWS_FOUND');

/** 11-digit zero-padded epoch seconds of an ISO time, as iRODS sends times. */
const epoch11 = (iso: string) => String(Math.floor(Date.parse(iso) / 1000)).padStart(11, '0');

let store: EmbeddedStore;
let rods: TestContext;
let alice: TestContext;
let bob: TestContext;

const put = (path: string, content: string, owner: string) => store.putObject(path, Readable.from([content]), { owner });

storePerTest(async (t) => {
  store = t.store;
  await store.createPrincipal('alice', 'rodsuser');
  await store.createPrincipal('bob', 'rodsuser');
  await store.createPrincipal('carol', 'rodsuser');
  await store.createPrincipal('proj', 'rodsgroup');
  await store.addGroupMember('proj', 'alice');
  await store.addGroupMember('proj', 'carol');
  await store.createCollection(`${Z}/home/alice`, { owner: 'alice' });
  await store.createCollection(`${Z}/home/bob`, { owner: 'bob' });
  await store.createCollection(`${Z}/home/alice/sub`, { owner: 'alice' });
  await put(`${Z}/home/alice/a.txt`, 'hello', 'alice');
  await put(`${Z}/home/alice/b.txt`, 'hello world', 'alice');
  await put(`${Z}/home/alice/sub/c.txt`, 'c', 'alice');
  await put(`${Z}/home/bob/secret.txt`, 'bob only', 'bob');
  await store.createCollection(`${Z}/projects/p1`, { parents: true });
  await store.setAccess(`${Z}/projects/p1`, 'proj', 'read');
  await put(`${Z}/projects/p1/data.csv`, '1,2,3', 'rods');
  await store.setAccess(`${Z}/projects/p1/data.csv`, 'proj', 'write');
  rods = await handlerContext(store, 'rods');
  alice = await handlerContext(store, 'alice');
  bob = await handlerContext(store, 'bob');
});

describe('collections (500-509)', () => {
  it('answers every column of a collection by name, as python-irodsclient fetches one', async () => {
    const entry = (await store.stat(`${Z}/home/alice`))!;
    const out = await query(alice, [500, 501, 502, 503, 504, 505, 506, 507, 508, 509], [[C.COLL_NAME, `= '${Z}/home/alice'`]]);
    expect(out.rowCnt).toBe(1);
    expect(out.attriCnt).toBe(10);
    expect(out.continueInx).toBe(0);
    const row = out.rows[0];
    expect(Number(row[C.COLL_ID])).toBe(store.protocolCore().row(`${Z}/home/alice`)!.id);
    expect(row[C.COLL_NAME]).toBe(`${Z}/home/alice`);
    expect(row[C.COLL_PARENT_NAME]).toBe(`${Z}/home`);
    expect(row[C.COLL_OWNER_NAME]).toBe('alice');
    expect(row[C.COLL_OWNER_ZONE]).toBe('testZone');
    expect(row[C.COLL_INHERITANCE]).toBe('0');
    expect(row[C.COLL_MODIFY_TIME]).toMatch(/^\d{11}$/);
    expect(row[C.COLL_MODIFY_TIME]).toBe(epoch11(entry.modified));
    // no create time in the catalog: the modify time stands in
    expect(row[C.COLL_CREATE_TIME]).toBe(row[C.COLL_MODIFY_TIME]);
  });

  it('lists subcollections by parent name; the zone collection and / itself have the parent /, as in the iCAT', async () => {
    let out = await query(rods, [C.COLL_NAME], [[C.COLL_PARENT_NAME, `= '${Z}/home'`]]);
    expect(out.rows.map((r) => r[C.COLL_NAME])).toEqual([`${Z}/home/alice`, `${Z}/home/bob`, `${Z}/home/public`, `${Z}/home/rods`]);
    out = await query(rods, [C.COLL_NAME, C.COLL_PARENT_NAME], [[C.COLL_PARENT_NAME, `= '/'`]]);
    expect(out.rows).toEqual([
      { [C.COLL_NAME]: '/', [C.COLL_PARENT_NAME]: '/' },
      { [C.COLL_NAME]: Z, [C.COLL_PARENT_NAME]: '/' },
    ]);
    out = await query(rods, [C.COLL_PARENT_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]]);
    expect(out.rows.map((r) => r[C.COLL_PARENT_NAME])).toEqual([`${Z}/home`, `${Z}/home/alice`]);
  });

  it('reports inheritance as iRODS stores it', async () => {
    await store.setInheritance(`${Z}/projects/p1`, true);
    const out = await query(rods, [C.COLL_INHERITANCE], [[C.COLL_NAME, `= '${Z}/projects/p1'`]]);
    expect(out.rows[0][C.COLL_INHERITANCE]).toBe('1');
  });
});

describe('data objects (401-423)', () => {
  it('answers every column python-irodsclient reads for an object by name and collection id', async () => {
    const parentId = store.protocolCore().row(`${Z}/home/alice`)!.id;
    const row = store.protocolCore().row(`${Z}/home/alice/b.txt`)!;
    const cols = [401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 419, 420, 422, 423];
    const out = await query(alice, cols, [
      [C.DATA_NAME, "= 'b.txt'"],
      [C.D_COLL_ID, `= '${parentId}'`],
    ]);
    expect(out.rowCnt).toBe(1);
    const r = out.rows[0];
    expect(Number(r[C.DATA_ID])).toBe(row.id);
    expect(Number(r[C.D_COLL_ID])).toBe(parentId);
    expect(r[C.DATA_NAME]).toBe('b.txt');
    expect(r[C.DATA_REPL_NUM]).toBe('0');
    expect(r[C.DATA_TYPE_NAME]).toBe('generic');
    expect(r[C.DATA_SIZE]).toBe('11');
    expect(r[C.D_RESC_NAME]).toBe('demoResc');
    expect(r[C.D_RESC_HIER]).toBe('demoResc');
    expect(r[C.D_OWNER_NAME]).toBe('alice');
    expect(r[C.D_REPL_STATUS]).toBe('1');
    expect(r[C.D_DATA_CHECKSUM]).toBe(row.checksum);
    expect(r[C.D_DATA_CHECKSUM]).toMatch(/^[0-9a-f]{32}$/);
    expect(r[C.D_MODIFY_TIME]).toBe(epoch11(row.modified));
    expect(r[C.D_CREATE_TIME]).toBe(r[C.D_MODIFY_TIME]);
    // where its file would be: a small object's bytes are in the catalog, with no file
    expect(r[C.D_DATA_PATH]).toBe(store.vault.filePath(row.vault_id!));
    expect(existsSync(r[C.D_DATA_PATH])).toBe(false);
  });

  it('joins objects to their collection: a collection listing in name order', async () => {
    const out = await query(alice, [C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${Z}/home/alice'`]]);
    expect(out.rows).toEqual([
      { [C.DATA_NAME]: 'a.txt', [C.COLL_NAME]: `${Z}/home/alice` },
      { [C.DATA_NAME]: 'b.txt', [C.COLL_NAME]: `${Z}/home/alice` },
    ]);
    // a whole subtree, with a like on the collection name
    const tree = await query(alice, [C.COLL_NAME, C.DATA_NAME], [[C.COLL_NAME, `like '${Z}/home/alice%'`]]);
    expect(tree.rows.map((r) => `${r[C.COLL_NAME]}/${r[C.DATA_NAME]}`)).toEqual([
      `${Z}/home/alice/a.txt`,
      `${Z}/home/alice/b.txt`,
      `${Z}/home/alice/sub/c.txt`,
    ]);
  });

  it('selects a column of the resource, which every object is on', async () => {
    const out = await query(rods, [C.R_RESC_NAME, C.DATA_NAME], [[C.DATA_NAME, "= 'a.txt'"]]);
    expect(out.rows).toEqual([{ [C.R_RESC_NAME]: 'demoResc', [C.DATA_NAME]: 'a.txt' }]);
    const resources = await query(rods, [301, 302, 303, 304, 307]);
    expect(resources.rows).toEqual([
      { 301: '10014', 302: 'demoResc', 303: 'testZone', 304: 'unixfilesystem', 307: store.vault.dir },
    ]);
  });
});

describe('metadata (600-645)', () => {
  beforeEach(async () => {
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'sample', value: 's1', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'depth', value: '30', unit: 'x' });
    await store.modifyMetadata(`${Z}/home/alice/b.txt`, 'add', { attribute: 'sample', value: 's2', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice`, 'add', { attribute: 'kind', value: 'home', unit: 'u' });
    await store.modifyMetadata(`${Z}/home/bob/secret.txt`, 'add', { attribute: 'sample', value: 'bob', unit: '' });
  });

  it("answers an object's AVUs as python-irodsclient's metadata manager asks for them", async () => {
    const out = await query(
      alice,
      [C.META_DATA_ATTR_ID, C.META_DATA_ATTR_NAME, C.META_DATA_ATTR_VALUE, C.META_DATA_ATTR_UNITS],
      [
        [C.COLL_NAME, `= '${Z}/home/alice'`],
        [C.DATA_NAME, "= 'a.txt'"],
      ],
    );
    expect(out.rows).toEqual([
      // numbered in the order added
      { 603: '1', 600: 'sample', 601: 's1', 602: '' },
      { 603: '2', 600: 'depth', 601: '30', 602: 'x' },
    ]);
  });

  it("answers a collection's AVUs, and finds objects by AVU", async () => {
    const coll = await query(alice, [C.META_COLL_ATTR_ID, C.META_COLL_ATTR_NAME, C.META_COLL_ATTR_VALUE, C.META_COLL_ATTR_UNITS], [
      [C.COLL_NAME, `= '${Z}/home/alice'`],
    ]);
    expect(coll.rows).toEqual([{ 613: '4', 610: 'kind', 611: 'home', 612: 'u' }]);
    const found = await query(alice, [C.DATA_NAME, C.META_DATA_ATTR_VALUE], [[C.META_DATA_ATTR_NAME, "= 'sample'"]]);
    // bob's object carries the same attribute but alice cannot read it
    expect(found.rows).toEqual([
      { 403: 'a.txt', 601: 's1' },
      { 403: 'b.txt', 601: 's2' },
    ]);
  });

  it("never gives a deleted AVU's number again, across a reopen", async () => {
    const ids = async () =>
      new Map((await query(rods, [C.META_DATA_ATTR_NAME, C.META_DATA_ATTR_ID], [[C.DATA_NAME, "= 'a.txt'"]])).rows.map((r) => [r[C.META_DATA_ATTR_NAME], Number(r[C.META_DATA_ATTR_ID])]));
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'newest', value: 'n', unit: '' });
    const taken = (await ids()).get('newest')!;
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'rm', { attribute: 'newest', value: 'n', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'next', value: 'n', unit: '' });
    expect((await ids()).get('next')).toBe(taken + 1);
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'rm', { attribute: 'next', value: 'n', unit: '' });
    const dataDir = store.dataDir;
    await store.close();
    const { EmbeddedStore } = await import('../../src/store/embedded/store.js');
    store = EmbeddedStore.open({ dataDir, zone: 'testZone', hashWorkers: 1 });
    rods = await handlerContext(store, 'rods');
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'after-reopen', value: 'n', unit: '' });
    expect((await ids()).get('after-reopen')).toBe(taken + 2);
  });

  it('numbers AVUs as they are added, as iRODS numbers them; a catalog from before the numbers gets them on open', async () => {
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'a-last', value: 'z', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'rm', { attribute: 'depth', value: '30', unit: 'x' });
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'depth', value: '30', unit: 'x' });
    const ids = async () =>
      (await query(rods, [C.META_DATA_ATTR_NAME, C.META_DATA_ATTR_ID], [[C.DATA_NAME, "= 'a.txt'"]])).rows.map((r) => [
        r[C.META_DATA_ATTR_NAME],
        Number(r[C.META_DATA_ATTR_ID]),
      ]);
    expect(await ids()).toEqual([
      ['a-last', 6],
      ['depth', 7],
      ['sample', 1],
    ]);
    // a catalog made before avus.seq: the column and numbers come with the next open
    const core = store.protocolCore();
    core.db.exec('DROP TRIGGER avus_seq_taken; DROP TABLE avu_seq; DROP INDEX avus_seq; ALTER TABLE avus DROP COLUMN seq');
    const dataDir = store.dataDir;
    await store.close();
    const { EmbeddedStore } = await import('../../src/store/embedded/store.js');
    store = EmbeddedStore.open({ dataDir, zone: 'testZone', hashWorkers: 1 });
    try {
      rods = await handlerContext(store, 'rods');
      const renumbered = await ids();
      expect(renumbered.map((r) => r[0])).toEqual(['a-last', 'depth', 'sample']);
      expect(new Set(renumbered.map((r) => r[1])).size).toBe(3);
      await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'newest', value: 'n', unit: '' });
      const after = await ids();
      expect(after.find((r) => r[0] === 'newest')![1]).toBeGreaterThan(Math.max(...renumbered.map((r) => r[1] as number)));
    } finally {
      await store.close();
    }
  });

  it('matches several AVUs of one object, each name with its value (iRODS multi-AVU conditions)', async () => {
    const body = gqBody(
      [C.DATA_NAME],
      [
        [C.META_DATA_ATTR_NAME, "= 'sample'"],
        [C.META_DATA_ATTR_VALUE, "= 's1'"],
        [C.META_DATA_ATTR_NAME, "= 'depth'"],
        [C.META_DATA_ATTR_VALUE, "= '30'"],
      ],
    );
    expect((await rawQuery(alice, body)).rows).toEqual([{ 403: 'a.txt' }]);
    const none = gqBody(
      [C.DATA_NAME],
      [
        [C.META_DATA_ATTR_NAME, "= 'sample'"],
        [C.META_DATA_ATTR_VALUE, "= '30'"],
        [C.META_DATA_ATTR_NAME, "= 'depth'"],
        [C.META_DATA_ATTR_VALUE, "= 's1'"],
      ],
    );
    await noRows(rawQuery(alice, none));
  });

  it('has no user metadata: no rows', async () => {
    await noRows(query(rods, [643, 640, 641, 642], [[C.USER_NAME, "= 'alice'"]]));
    expect(
      (await errorOf(query(rods, [C.USER_NAME], [[640, "= 'a'"], [640, "= 'b'"]]))).name,
    ).toBe('CAT_INVALID_ARGUMENT');
  });
});

describe('users and groups (201-209, 900-901)', () => {
  it('lists users and groups to everyone, groups typed rodsgroup', async () => {
    const out = await query(bob, [C.USER_NAME, C.USER_TYPE, C.USER_ZONE, C.USER_ID]);
    expect(out.rows.map((r) => [r[C.USER_NAME], r[C.USER_TYPE]])).toEqual([
      ['alice', 'rodsuser'],
      ['bob', 'rodsuser'],
      ['carol', 'rodsuser'],
      ['proj', 'rodsgroup'],
      ['public', 'rodsgroup'],
      ['rods', 'rodsadmin'],
    ]);
    expect(out.rows.every((r) => r[C.USER_ZONE] === 'testZone')).toBe(true);
    expect(out.rows.find((r) => r[C.USER_NAME] === 'alice')![C.USER_ID]).toBe(String(principalId('alice')));
  });

  it("answers a group's members as python-irodsclient's getmembers asks (users of the group, not the group)", async () => {
    const out = await query(bob, [C.USER_NAME], [
      [C.USER_TYPE, "<> 'rodsgroup'"],
      [C.USER_GROUP_NAME, "= 'proj'"],
    ]);
    expect(out.rows.map((r) => r[C.USER_NAME])).toEqual(['alice', 'carol']);
    const everyone = await query(bob, [C.USER_NAME], [
      [C.USER_TYPE, "<> 'rodsgroup'"],
      [C.USER_GROUP_NAME, "= 'public'"],
    ]);
    expect(everyone.rows.map((r) => r[C.USER_NAME])).toEqual(['alice', 'bob', 'carol', 'rods']);
    const groups = await query(bob, [C.USER_GROUP_NAME], [[C.USER_NAME, "= 'alice'"]]);
    expect(groups.rows.map((r) => r[C.USER_GROUP_NAME])).toEqual(['alice', 'proj', 'public']);
    const group = await query(bob, [C.USER_GROUP_ID, C.USER_GROUP_NAME], [[C.USER_GROUP_NAME, "= 'proj'"]]);
    expect(group.rows).toEqual([{ 900: String(principalId('proj')), 901: 'proj' }]);
  });

  it("answers a user's DNs in the order they were added, by the user's id, to anyone", async () => {
    await noRows(query(alice, [C.USER_DN], [[1600, `= '${principalId('alice')}'`]]));
    store.addAuthName('alice', 'foo');
    store.addAuthName('bob', '/CN=bob');
    store.addAuthName('alice', 'bar');
    const out = await query(bob, [C.USER_DN], [[1600, `= '${principalId('alice')}'`]]);
    expect(out.rows.map((r) => r[C.USER_DN])).toEqual(['foo', 'bar']);
    const all = await query(alice, [1600, C.USER_NAME, C.USER_DN]);
    expect(all.rows).toEqual([
      { 1600: String(principalId('alice')), [C.USER_NAME]: 'alice', [C.USER_DN]: 'foo' },
      { 1600: String(principalId('alice')), [C.USER_NAME]: 'alice', [C.USER_DN]: 'bar' },
      { 1600: String(principalId('bob')), [C.USER_NAME]: 'bob', [C.USER_DN]: '/CN=bob' },
    ]);
  });
});

describe('access (700-714, 1300-1311)', () => {
  it("answers an object's ACL with principals, as python-irodsclient's permissions.get asks", async () => {
    const out = await query(rods, [C.USER_NAME, C.USER_ZONE, C.DATA_ACCESS_NAME], [
      [C.COLL_NAME, `= '${Z}/projects/p1'`],
      [C.DATA_NAME, "= 'data.csv'"],
    ]);
    expect(out.rows).toEqual([
      { 202: 'proj', 204: 'testZone', 701: 'modify object' },
      { 202: 'rods', 204: 'testZone', 701: 'own' },
    ]);
    const ids = await query(rods, [C.DATA_ACCESS_TYPE, C.DATA_TOKEN_NAMESPACE, C.DATA_ACCESS_USER_ID, C.DATA_ACCESS_DATA_ID], [
      [C.DATA_NAME, "= 'data.csv'"],
    ]);
    const dataId = String(store.protocolCore().row(`${Z}/projects/p1/data.csv`)!.id);
    expect(ids.rows).toEqual([
      { 700: '1120', 702: 'access_type', 703: String(principalId('proj')), 704: dataId },
      { 700: '1200', 702: 'access_type', 703: String(principalId('rods')), 704: dataId },
    ]);
  });

  it("answers a collection's ACL through COLL_USER_NAME, a group expanded to itself and its members as in iRODS", async () => {
    const out = await query(rods, [C.COLL_USER_NAME, C.COLL_USER_ZONE, C.COLL_ACCESS_NAME], [[C.COLL_NAME, `= '${Z}/projects/p1'`]]);
    expect(out.rows.map((r) => `${r[C.COLL_USER_NAME]}:${r[C.COLL_ACCESS_NAME]}`)).toEqual([
      'alice:read object',
      'carol:read object',
      'proj:read object',
      'rods:own',
    ]);
    const types = await query(rods, [C.COLL_ACCESS_TYPE, C.COLL_ACCESS_USER_ID, C.COLL_ACCESS_COLL_ID], [[C.COLL_NAME, `= '${Z}/projects/p1'`]]);
    const collId = String(store.protocolCore().row(`${Z}/projects/p1`)!.id);
    expect(types.rows).toContainEqual({ 710: '1050', 713: String(principalId('proj')), 714: collId });
    const dataUsers = await query(rods, [C.DATA_USER_NAME], [[C.DATA_ACCESS_NAME, "= 'modify object'"]]);
    expect(dataUsers.rows.map((r) => r[C.DATA_USER_NAME])).toEqual(['alice', 'carol', 'proj']);
  });
});

describe('conditions', () => {
  const names = async (ctx: TestContext, cond: string, col: number = C.DATA_NAME) =>
    (await query(ctx, [C.DATA_NAME], [[col, cond]]).catch((e: unknown) => {
      if (e instanceof IrodsError && e.codeName === 'CAT_NO_ROWS_FOUND') return { rows: [] };
      throw e;
    })).rows.map((r) => r[C.DATA_NAME]);

  it('compares text: =, <>, <, >, <=, >=', async () => {
    expect(await names(rods, "= 'b.txt'")).toEqual(['b.txt']);
    expect(await names(rods, "<> 'b.txt'")).toEqual(['a.txt', 'c.txt', 'data.csv', 'secret.txt']);
    expect(await names(rods, "!= 'b.txt'")).toEqual(['a.txt', 'c.txt', 'data.csv', 'secret.txt']);
    expect(await names(rods, "< 'b.txt'")).toEqual(['a.txt']);
    expect(await names(rods, "<= 'b.txt'")).toEqual(['a.txt', 'b.txt']);
    expect(await names(rods, "> 'c.txt'")).toEqual(['data.csv', 'secret.txt']);
    expect(await names(rods, ">= 'c.txt'")).toEqual(['c.txt', 'data.csv', 'secret.txt']);
  });

  it('compares integer columns as numbers, and text as numbers with the n prefix', async () => {
    // sizes: a 5, b 11, c 1, data 5, secret 8: as text '11' < '5', as numbers it is not
    expect(await names(rods, "> '5'", C.DATA_SIZE)).toEqual(['b.txt', 'secret.txt']);
    expect(await names(rods, "< '5'", C.DATA_SIZE)).toEqual(['c.txt']);
    expect(await names(rods, ">= '8'", C.DATA_SIZE)).toEqual(['b.txt', 'secret.txt']);
    expect(await names(rods, "between '2' '8'", C.DATA_SIZE)).toEqual(['a.txt', 'data.csv', 'secret.txt']);
    expect(await names(rods, "in ('1', '11')", C.DATA_SIZE)).toEqual(['b.txt', 'c.txt']);
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'n', value: '9', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice/b.txt`, 'add', { attribute: 'n', value: '10', unit: '' });
    // as text '10' < '5' < '9'; as numbers both are above 5
    expect(await names(rods, "> '5'", C.META_DATA_ATTR_VALUE)).toEqual(['a.txt']);
    expect(await names(rods, "n> '5'", C.META_DATA_ATTR_VALUE)).toEqual(['a.txt', 'b.txt']);
    expect(await names(rods, "n>= '10'", C.META_DATA_ATTR_VALUE)).toEqual(['b.txt']);
    expect(await names(rods, "n= '9.0'", C.META_DATA_ATTR_VALUE)).toEqual(['a.txt']);
  });

  it('like and not like, case-sensitive, with _ and escapes; an index range for a collection prefix', async () => {
    expect(await names(rods, "like '%.txt'")).toEqual(['a.txt', 'b.txt', 'c.txt', 'secret.txt']);
    expect(await names(rods, "like '_.txt'")).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(await names(rods, "like 'A%'")).toEqual([]);
    expect(await names(rods, "not like '%.txt'")).toEqual(['data.csv']);
    expect(await names(rods, `like '${Z}/home/%'`, C.COLL_NAME)).toEqual(['a.txt', 'b.txt', 'c.txt', 'secret.txt']);
    await put(`${Z}/home/alice/50%_x`, 'p', 'alice');
    await put(`${Z}/home/alice/50ab_x`, 'p', 'alice');
    expect(await names(rods, "like '50\\%\\_x'")).toEqual(['50%_x']);
    expect(await names(rods, "like '50%_x'")).toEqual(['50%_x', '50ab_x']);
    // GLOB's own wildcards are plain characters in a like pattern
    await put(`${Z}/home/alice/star*`, 'p', 'alice');
    expect(await names(rods, "like 'star*'")).toEqual(['star*']);
    expect(await names(rods, "like 's[t]%'")).toEqual([]);
  });

  it('in, between, begin_of, parent_of, IS NULL and IS NOT NULL', async () => {
    expect(await names(rods, "in ('a.txt', 'c.txt', 'nope')")).toEqual(['a.txt', 'c.txt']);
    expect(await names(rods, "IN('data.csv')")).toEqual(['data.csv']);
    expect(await names(rods, "between 'b' 'e'")).toEqual(['b.txt', 'c.txt', 'data.csv']);
    expect(await names(rods, `begin_of '${Z}/home/alice/sub/deeper'`, C.COLL_NAME)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    const colls = await query(rods, [C.COLL_NAME], [[C.COLL_NAME, `parent_of '${Z}/home/alice/sub'`]]);
    // iRODS 4.2.12 addInClauseToWhereForParentOf starts the list with / itself
    expect(colls.rows.map((r) => r[C.COLL_NAME])).toEqual(['/', Z, `${Z}/home`, `${Z}/home/alice`, `${Z}/home/alice/sub`]);
    expect(await names(rods, 'IS NOT NULL', C.D_DATA_CHECKSUM)).toHaveLength(5);
    expect(await names(rods, 'IS NULL', C.D_DATA_CHECKSUM)).toEqual([]);
  });

  it('joins conditions on one column with || and &&, quotes protecting them', async () => {
    expect(await names(rods, "= 'a.txt' || = 'c.txt'")).toEqual(['a.txt', 'c.txt']);
    expect(await names(rods, "like '%.txt' && <> 'b.txt' && <> 'secret.txt'")).toEqual(['a.txt', 'c.txt']);
    // and binds before or
    expect(await names(rods, "= 'data.csv' || like '%.txt' && < 'b'")).toEqual(['a.txt', 'data.csv']);
    await put(`${Z}/home/alice/x||y`, 'p', 'alice');
    expect(await names(rods, "= 'x||y'")).toEqual(['x||y']);
  });

  it('takes a value from the first quote to the last, as python-irodsclient sends quotes unescaped', async () => {
    await put(`${Z}/home/alice/O'Brien's`, 'p', 'alice');
    expect(await names(alice, "= 'O'Brien's'")).toEqual(["O'Brien's"]);
  });

  it('binds values: SQL in a value is only text', async () => {
    for (const v of ["x' OR '1'='1", "' OR 1=1 --", "a'); DROP TABLE entries; --"]) {
      expect(await names(bob, `= '${v}'`)).toEqual([]);
      expect(await names(bob, `like '${v}'`, C.COLL_NAME)).toEqual([]);
    }
    expect((await query(rods, [C.DATA_NAME])).rowCnt).toBe(5);
  });

  it('joins conditions on different columns with and; several on one column too', async () => {
    const out = await query(rods, [C.DATA_NAME], [
      [C.COLL_NAME, `like '${Z}/home/%'`],
      [C.DATA_SIZE, "> '4'"],
      [C.DATA_NAME, "<> 'secret.txt'"],
      [C.DATA_NAME, "<> 'b.txt'"],
    ]);
    expect(out.rows.map((r) => r[C.DATA_NAME])).toEqual(['a.txt']);
  });

  it('upper-cases the compared column with UPPER_CASE_WHERE', async () => {
    const out = await query(rods, [C.DATA_NAME], [[C.DATA_NAME, "= 'A.TXT'"]], { options: OPT.UPPER_CASE_WHERE });
    expect(out.rows).toEqual([{ 403: 'a.txt' }]);
  });

  it('compares times as the 11-digit strings python-irodsclient sends', async () => {
    const modified = (await store.stat(`${Z}/home/alice/a.txt`))!.modified;
    const t = epoch11(modified);
    const before = String(Number(t) - 1).padStart(11, '0');
    const out = await query(rods, [C.DATA_NAME], [
      [C.D_MODIFY_TIME, `between '${before}' '99999999999'`],
      [C.DATA_NAME, "= 'a.txt'"],
    ]);
    expect(out.rowCnt).toBe(1);
    await noRows(query(rods, [C.DATA_NAME], [[C.D_MODIFY_TIME, `< '${before}'`]]));
  });
});

describe('order and aggregates', () => {
  it('orders by the flagged columns, ascending or descending, before the default order', async () => {
    let out = await query(rods, [[C.DATA_NAME, 1], [C.DATA_SIZE, ORDER_BY_DESC]]);
    expect(out.rows.map((r) => r[C.DATA_NAME])).toEqual(['b.txt', 'secret.txt', 'a.txt', 'data.csv', 'c.txt']);
    out = await query(rods, [[C.USER_NAME, ORDER_BY]]);
    expect(out.rows.map((r) => r[C.USER_NAME])).toEqual(['alice', 'bob', 'carol', 'proj', 'public', 'rods']);
    out = await query(rods, [[C.USER_NAME, ORDER_BY_DESC]]);
    expect(out.rows.map((r) => r[C.USER_NAME])).toEqual(['rods', 'public', 'proj', 'carol', 'bob', 'alice']);
    // default: collection name, then data name
    out = await query(rods, [C.DATA_NAME, C.COLL_NAME]);
    expect(out.rows.map((r) => `${r[C.COLL_NAME]}/${r[C.DATA_NAME]}`)).toEqual([
      `${Z}/home/alice/a.txt`,
      `${Z}/home/alice/b.txt`,
      `${Z}/home/alice/sub/c.txt`,
      `${Z}/home/bob/secret.txt`,
      `${Z}/projects/p1/data.csv`,
    ]);
  });

  it('counts, sums, min, max and avg, grouped by the other columns', async () => {
    // python-irodsclient: session.query().count(DataObject.id).filter(Collection.name == path)
    let out = await query(alice, [[C.DATA_ID, SELECT.COUNT]], [[C.COLL_NAME, `= '${Z}/home/alice'`]]);
    expect(out.rows).toEqual([{ 401: '2' }]);
    out = await query(rods, [[C.DATA_SIZE, SELECT.SUM], [C.DATA_SIZE, SELECT.MIN]]);
    expect(out.rows).toEqual([{ 407: '1' }]);
    expect((out.results[0].value as string[])[0]).toBe('30');
    out = await query(rods, [[C.DATA_SIZE, SELECT.MAX], [C.DATA_NAME, SELECT.MIN], [C.DATA_SIZE, SELECT.AVG]]);
    expect(out.results.slice(0, 3).map((r) => (r.value as string[])[0])).toEqual(['11', 'a.txt', '6']);
    out = await query(rods, [C.COLL_NAME, [C.DATA_ID, SELECT.COUNT]], [[C.COLL_NAME, `like '${Z}/home/%'`]]);
    expect(out.rows).toEqual([
      { 501: `${Z}/home/alice`, 401: '2' },
      { 501: `${Z}/home/alice/sub`, 401: '1' },
      { 501: `${Z}/home/bob`, 401: '1' },
    ]);
    // a fixed column beside an aggregate groups as any other
    out = await query(rods, [C.DATA_REPL_NUM, C.DATA_TYPE_NAME, [C.DATA_ID, SELECT.COUNT]]);
    expect(out.rows).toEqual([{ 404: '0', 406: 'generic', 401: '5' }]);
    // a count over nothing is one row of 0
    out = await query(bob, [[C.DATA_ID, SELECT.COUNT]], [[C.COLL_NAME, `= '${Z}/home/alice'`]]);
    expect(out.rows).toEqual([{ 401: '0' }]);
  });

  it('answers rows distinct unless NO_DISTINCT', async () => {
    let out = await query(rods, [C.COLL_OWNER_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]]);
    expect(out.rows.map((r) => r[C.COLL_OWNER_NAME])).toEqual(['alice', 'bob', 'rods']);
    out = await query(rods, [C.COLL_OWNER_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]], { options: OPT.NO_DISTINCT });
    expect(out.rows.map((r) => r[C.COLL_OWNER_NAME])).toEqual(['alice', 'alice', 'bob', 'rods', 'rods']);
  });
});

describe('paging', () => {
  beforeEach(async () => {
    await store.createCollection(`${Z}/home/alice/many`, { owner: 'alice' });
    for (let i = 0; i < 25; i++) await put(`${Z}/home/alice/many/f${String(i).padStart(2, '0')}`, 'x', 'alice');
  });
  const many = `${Z}/home/alice/many`;

  it('answers maxRows at a time; continueInx fetches the next page and is 0 on the last', async () => {
    const body = (continueInx = 0) => gqBody([C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 10, continueInx });
    const p1 = await rawQuery(alice, body());
    expect(p1.rowCnt).toBe(10);
    expect(p1.continueInx).toBeGreaterThan(0);
    const p2 = await rawQuery(alice, body(p1.continueInx));
    expect(p2.rowCnt).toBe(10);
    expect(p2.continueInx).toBe(p1.continueInx);
    const p3 = await rawQuery(alice, body(p2.continueInx));
    expect(p3.rowCnt).toBe(5);
    expect(p3.continueInx).toBe(0);
    const all = [...p1.rows, ...p2.rows, ...p3.rows].map((r) => r[C.DATA_NAME]);
    expect(all).toEqual(Array.from({ length: 25 }, (_, i) => `f${String(i).padStart(2, '0')}`));
    // the query ended with its last page
    expect((await errorOf(rawQuery(alice, body(p1.continueInx)))).name).toBe('CAT_INVALID_ARGUMENT');
  });

  it('a page exactly at the end says no more rows follow', async () => {
    const out = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 25 });
    expect(out.rowCnt).toBe(25);
    expect(out.continueInx).toBe(0);
  });

  it('closes a query with maxRows 0, as python-irodsclient .all() does after its first page', async () => {
    const p1 = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 10 });
    const closed = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 0, continueInx: p1.continueInx });
    expect([closed.rowCnt, closed.attriCnt, closed.continueInx]).toEqual([0, 0, 0]);
    expect(closed.results).toHaveLength(50);
    const err = await errorOf(query(alice, [C.DATA_NAME], [], { maxRows: 10, continueInx: p1.continueInx }));
    expect(err.name).toBe('CAT_INVALID_ARGUMENT');
    expect(err.message).toMatch(/no open query/);
  });

  it('continues the query that was opened, whatever the continuation selects', async () => {
    const p1 = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 20 });
    const p2 = await query(alice, [C.USER_NAME], [], { maxRows: 20, continueInx: p1.continueInx });
    expect(p2.rows.map((r) => r[C.DATA_NAME])).toEqual(['f20', 'f21', 'f22', 'f23', 'f24']);
  });

  it('skips partialStartIndex rows and counts all rows with RETURN_TOTAL_ROW_COUNT', async () => {
    const out = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], {
      maxRows: 5,
      offset: 18,
      options: OPT.RETURN_TOTAL_ROW_COUNT,
    });
    expect(out.rows.map((r) => r[C.DATA_NAME])).toEqual(['f18', 'f19', 'f20', 'f21', 'f22']);
    expect(out.totalRowCount).toBe(25);
    const rest = await query(alice, [C.DATA_NAME], [], { maxRows: 5, continueInx: out.continueInx, options: OPT.RETURN_TOTAL_ROW_COUNT });
    expect(rest.rows.map((r) => r[C.DATA_NAME])).toEqual(['f23', 'f24']);
    // as in iRODS, only the first page counts
    expect(rest.totalRowCount).toBe(0);
    await noRows(query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { offset: 25 }));
  });

  it('pages descending and mixed orders without losing or repeating rows', async () => {
    for (let i = 0; i < 25; i += 3) {
      await store.modifyMetadata(`${many}/f${String(i).padStart(2, '0')}`, 'add', { attribute: 'grp', value: String(i % 2), unit: '' });
    }
    for (const flags of [
      [ORDER_BY_DESC, 1],
      [ORDER_BY, ORDER_BY_DESC],
      [ORDER_BY_DESC, ORDER_BY],
    ]) {
      const seen: string[] = [];
      let ci = 0;
      do {
        const page = await query(
          alice,
          [[C.META_DATA_ATTR_VALUE, flags[0]], [C.DATA_NAME, flags[1]]],
          [[C.META_DATA_ATTR_NAME, "= 'grp'"]],
          { maxRows: 2, continueInx: ci },
        );
        seen.push(...page.rows.map((r) => `${r[C.META_DATA_ATTR_VALUE]}:${r[C.DATA_NAME]}`));
        ci = page.continueInx;
      } while (ci > 0);
      const expected = [0, 3, 6, 9, 12, 15, 18, 21, 24].map((i) => `${i % 2}:f${String(i).padStart(2, '0')}`);
      const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      expected.sort((a, b) => {
        const [va, na] = a.split(':');
        const [vb, nb] = b.split(':');
        const v = cmp(va, vb) * (flags[0] === ORDER_BY_DESC ? -1 : 1);
        return v !== 0 ? v : cmp(na, nb) * (flags[1] === ORDER_BY_DESC ? -1 : 1);
      });
      expect(seen).toEqual(expected);
    }
  });

  /** Every row of a query, fetched `maxRows` at a time. */
  const allPages = async (ctx: TestContext, select: Array<[number, number] | number>, conds: Array<[number, string]>, maxRows: number) => {
    const rows: Array<Record<number, string>> = [];
    let ci = 0;
    do {
      const page = await query(ctx, select, conds, { maxRows, continueInx: ci });
      rows.push(...page.rows);
      ci = page.continueInx;
    } while (ci > 0);
    return rows;
  };

  it('pages a subtree by object path, across sibling collections whose names sort around the slash', async () => {
    for (const c of ['run1', 'run1.bak', 'run1-x', 'run10']) {
      await store.createCollection(`${many}/${c}`, { owner: 'alice' });
      for (const f of ['a', 'b', 'c']) await put(`${many}/${c}/${f}`, 'x', 'alice');
    }
    const rows = await allPages(alice, [C.COLL_NAME, C.DATA_NAME], [[C.COLL_NAME, `like '${many}/%'`]], 2);
    const paths = rows.map((r) => `${r[C.COLL_NAME]}/${r[C.DATA_NAME]}`);
    expect(paths).toHaveLength(12);
    expect(paths).toEqual([...paths].sort());
    expect(new Set(paths).size).toBe(12);
    // objects of one collection, in name order either way
    const names = (await allPages(alice, [C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${many}'`]], 4)).map((r) => r[C.DATA_NAME]);
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `f${String(i).padStart(2, '0')}`));
    const parent = String(store.protocolCore().row(many)!.id);
    const desc = (await allPages(alice, [[C.DATA_NAME, ORDER_BY_DESC], C.DATA_SIZE], [[C.D_COLL_ID, `= '${parent}'`]], 3)).map(
      (r) => r[C.DATA_NAME],
    );
    expect(desc).toEqual([...names].reverse());
  });

  it('ends a page early at its byte budget, holding one page at most, and goes on from there', async () => {
    const input = decodeGenQueryInput('GenQueryInp_PI', gqBody([C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${many}'`]]));
    const plan = buildPlan(input, { user: 'alice', admin: false, zone: 'testZone', vault: '/v', host: 'h', resources: '/r' });
    const db = store.protocolCore().db;
    const position = { plan, lastKey: null, skip: 0 };
    const names: string[] = [];
    let pages = 0;
    for (let more = true; more; pages++) {
      // a row counts 3 bytes a character: 3 × (3 + 25) = 84; two rows pass 150
      const page = readPage(db, position, 500, 150);
      expect(page.rows.length).toBeLessThanOrEqual(2);
      names.push(...page.rows.map((r) => String(r[0])));
      more = page.more;
    }
    expect(pages).toBe(13);
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `f${String(i).padStart(2, '0')}`));
  });

  it('pages NO_DISTINCT queries by skipping the rows sent', async () => {
    const rows: string[] = [];
    let ci = 0;
    do {
      const page = await query(alice, [C.D_OWNER_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 7, continueInx: ci, options: OPT.NO_DISTINCT });
      rows.push(...page.rows.map((r) => r[C.D_OWNER_NAME]));
      ci = page.continueInx;
    } while (ci > 0);
    expect(rows).toEqual(Array(25).fill('alice'));
  });

  it('shows rows added after the last page sent, and not those before it', async () => {
    const p1 = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 10 });
    await put(`${many}/a-early`, 'x', 'alice');
    await put(`${many}/z-late`, 'x', 'alice');
    const rest: string[] = [];
    let ci = p1.continueInx;
    while (ci > 0) {
      const page = await query(alice, [C.DATA_NAME], [], { maxRows: 10, continueInx: ci });
      rest.push(...page.rows.map((r) => r[C.DATA_NAME]));
      ci = page.continueInx;
    }
    expect(rest).not.toContain('a-early');
    expect(rest.at(-1)).toBe('z-late');
    expect(rest).toHaveLength(16);
  });

  it('keeps a bounded number of open queries per connection, dropping the oldest', async () => {
    const opened: number[] = [];
    for (let i = 0; i <= MAX_OPEN_QUERIES; i++) {
      opened.push((await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 1 })).continueInx);
    }
    expect(new Set(opened).size).toBe(MAX_OPEN_QUERIES + 1);
    expect((await errorOf(query(alice, [C.DATA_NAME], [], { maxRows: 1, continueInx: opened[0] }))).name).toBe('CAT_INVALID_ARGUMENT');
    const next = await query(alice, [C.DATA_NAME], [], { maxRows: 1, continueInx: opened[1] });
    expect(next.rows).toEqual([{ 403: 'f01' }]);
    // another connection has its own
    const other = await handlerContext(store, 'alice');
    expect((await errorOf(query(other, [C.DATA_NAME], [], { maxRows: 1, continueInx: opened[2] }))).name).toBe('CAT_INVALID_ARGUMENT');
  });

  it('with AUTO_CLOSE answers continueInx -1 when rows remain and keeps nothing open', async () => {
    const out = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 3, options: OPT.AUTO_CLOSE });
    expect(out.rowCnt).toBe(3);
    expect(out.continueInx).toBe(-1);
  });

  it('opens a query without rows for maxRows 0, as iRODS leaves its statement open', async () => {
    const out = await query(alice, [C.DATA_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 0 });
    expect([out.rowCnt, out.attriCnt]).toEqual([0, 0]);
    expect(out.continueInx).toBeGreaterThan(0);
    const p1 = await query(alice, [C.DATA_NAME], [], { maxRows: 2, continueInx: out.continueInx });
    expect(p1.rows).toEqual([{ 403: 'f00' }, { 403: 'f01' }]);
    await noRows(query(alice, [C.DATA_NAME], [[C.COLL_NAME, "= '/nowhere'"]], { maxRows: 0 }));
  });

  it('packs 50 SqlResult_PI entries, the unused ones empty, and one reslen for all columns', async () => {
    const out = await query(alice, [C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${many}'`]], { maxRows: 2 });
    expect(out.results).toHaveLength(50);
    expect(out.results[0]).toEqual({ attriInx: 403, reslen: 50, value: ['f00', 'f01'] });
    expect(out.results[1]).toEqual({ attriInx: 501, reslen: 50, value: [many, many] });
    expect(out.results[2]).toEqual({ attriInx: 0, reslen: 0 });
    const long = 'n'.repeat(200);
    await put(`${many}/${long}`, 'x', 'alice');
    const wide = await query(alice, [C.DATA_NAME, C.DATA_SIZE], [[C.DATA_NAME, `= '${long}'`]]);
    expect(wide.results.slice(0, 2).map((r) => r.reslen)).toEqual([201, 201]);
  });
});

describe('who sees what', () => {
  it("a user sees nothing of another's home: no rows, not even through metadata or access columns", async () => {
    await store.modifyMetadata(`${Z}/home/bob/secret.txt`, 'add', { attribute: 'k', value: 'v', unit: '' });
    const home = `${Z}/home/bob`;
    await noRows(query(alice, [C.COLL_NAME], [[C.COLL_NAME, `= '${home}'`]]));
    await noRows(query(alice, [C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `= '${home}'`]]));
    await noRows(query(alice, [C.DATA_NAME], [[C.DATA_NAME, "= 'secret.txt'"]]));
    await noRows(query(alice, [C.META_DATA_ATTR_NAME, C.META_DATA_ATTR_VALUE], [[C.META_DATA_ATTR_NAME, "= 'k'"]]));
    await noRows(query(alice, [C.USER_NAME, C.DATA_ACCESS_NAME], [[C.DATA_NAME, "= 'secret.txt'"]]));
    await noRows(query(alice, [C.COLL_ACCESS_NAME], [[C.COLL_NAME, `= '${home}'`]]));
    expect((await query(alice, [[C.DATA_ID, SELECT.COUNT]], [[C.COLL_NAME, `= '${home}'`]])).rows).toEqual([{ 401: '0' }]);
    // bob and an admin do see it
    expect((await query(bob, [C.DATA_NAME], [[C.COLL_NAME, `= '${home}'`]])).rows).toEqual([{ 403: 'secret.txt' }]);
    expect((await query(rods, [C.DATA_NAME], [[C.COLL_NAME, `= '${home}'`]])).rows).toEqual([{ 403: 'secret.txt' }]);
  });

  it("lists only what one may read: one's own, one's groups', public's", async () => {
    const all = async (ctx: TestContext) => (await query(ctx, [C.COLL_NAME, C.DATA_NAME])).rows.map((r) => `${r[C.COLL_NAME]}/${r[C.DATA_NAME]}`);
    expect(await all(alice)).toEqual([
      `${Z}/home/alice/a.txt`,
      `${Z}/home/alice/b.txt`,
      `${Z}/home/alice/sub/c.txt`,
      `${Z}/projects/p1/data.csv`,
    ]);
    expect(await all(bob)).toEqual([`${Z}/home/bob/secret.txt`]);
    await store.setAccess(`${Z}/home/alice`, 'public', 'read');
    await store.setAccess(`${Z}/home/alice/a.txt`, 'public', 'read');
    expect(await all(bob)).toEqual([`${Z}/home/alice/a.txt`, `${Z}/home/bob/secret.txt`]);
    // as under iRODS's strict policy, an object row needs read on its collection too when the query joins it
    await store.setAccess(`${Z}/home/alice`, 'public', 'null');
    expect(await all(bob)).toEqual([`${Z}/home/bob/secret.txt`]);
    expect((await query(bob, [C.DATA_NAME], [[C.DATA_NAME, "= 'a.txt'"]])).rowCnt).toBe(1);
    const carol = await handlerContext(store, 'carol');
    expect(await all(carol)).toEqual([`${Z}/projects/p1/data.csv`]);
  });

  it('an admin sees everything', async () => {
    const out = await query(rods, [C.COLL_NAME]);
    // the zone collection and the root / besides what lies in the zone
    expect(out.rowCnt).toBe((await store.list(Z, { recursive: true })).filter((e) => e.type === 'collection').length + 2);
  });

  it('/ is a collection owned by rods, with its own only, as a fresh iCAT has it: an admin sees it, no one else', async () => {
    const cols = [C.COLL_ID, C.COLL_NAME, C.COLL_PARENT_NAME, C.COLL_OWNER_NAME, C.COLL_OWNER_ZONE, C.COLL_INHERITANCE];
    const out = await query(rods, cols, [[C.COLL_NAME, "= '/'"]]);
    const id = String(store.protocolCore().row('/')!.id);
    expect(out.rows).toEqual([{ 500: id, 501: '/', 502: '/', 503: 'rods', 504: 'testZone', 506: '0' }]);
    const acl = await query(rods, [C.COLL_USER_NAME, C.COLL_ACCESS_NAME], [[C.COLL_NAME, "= '/'"]]);
    expect(acl.rows).toEqual([{ [C.COLL_USER_NAME]: 'rods', [C.COLL_ACCESS_NAME]: 'own' }]);
    // public on the zone collection shows it under / to a user, and / stays hidden
    await store.setAccess(Z, 'public', 'read');
    for (const ctx of [alice, bob]) {
      await noRows(query(ctx, [C.COLL_NAME], [[C.COLL_NAME, "= '/'"]]));
      await noRows(query(ctx, [C.COLL_ACCESS_NAME], [[C.COLL_NAME, "= '/'"]]));
      expect((await query(ctx, [C.COLL_NAME], [[C.COLL_PARENT_NAME, "= '/'"]])).rows).toEqual([{ [C.COLL_NAME]: Z }]);
      expect((await query(ctx, [C.COLL_NAME], [[C.COLL_NAME, "like '/%'"]])).rows.map((r) => r[C.COLL_NAME])).not.toContain('/');
    }
  });
});

describe('every column', () => {
  /** The outcome of a query: rows, or the iRODS error it answers (any other error fails the test). */
  const outcome = async (ctx: TestContext, select: Array<[number, number] | number>, conds: Array<[number, string]> = []) => {
    try {
      return `${(await query(ctx, select, conds)).rowCnt} rows`;
    } catch (err) {
      if (err instanceof IrodsError) return err.codeName;
      throw err;
    }
  };

  it('answers alone, conditioned, aggregated and beside a column of every table, never with a catalog error', async () => {
    await store.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'a', value: '1', unit: '' });
    await store.modifyMetadata(`${Z}/home/alice`, 'add', { attribute: 'c', value: '2', unit: '' });
    const seen = new Map<string, number>();
    const note = (o: string) => seen.set(o, (seen.get(o) ?? 0) + 1);
    const byTable = new Map<string, number>();
    for (const col of COLUMNS.values()) if (!byTable.has(col.table)) byTable.set(col.table, col.num);
    for (const col of COLUMNS.values()) {
      for (const ctx of [rods, alice]) {
        note(await outcome(ctx, [col.num]));
        for (const cond of ["= '1'", "like '%'", "not like 'x%'", "in ('a', '0')", "between '0' 'z'", "<> ''", 'IS NULL', "= 'x' || >= '0'"]) {
          note(await outcome(ctx, [col.num], [[col.num, cond]]));
        }
        for (const agg of Object.values(SELECT)) note(await outcome(ctx, [[col.num, agg], [col.num, ORDER_BY_DESC]]));
      }
      for (const other of byTable.values()) note(await outcome(rods, [col.num, [other, ORDER_BY]], [[other, "<> 'x'"]]));
    }
    expect(seen.has('CAT_SQL_ERR')).toBe(false);
    expect([...seen.keys()].every((o) => /rows$|^CAT_NO_ROWS_FOUND$|^CAT_FAILED_TO_LINK_TABLES$|^CAT_INVALID_ARGUMENT$/.test(o))).toBe(true);
    expect(seen.get('CAT_FAILED_TO_LINK_TABLES')).toBeGreaterThan(0);
    expect([...seen.keys()].filter((o) => o.endsWith('rows')).length).toBeGreaterThan(5);
  }, 120_000);
});

describe('bad input', () => {
  const codeOf = async (ctx: TestContext, body: PiNode | null, bodyName = 'GenQueryInp_PI') =>
    (await errorOf(call(route, ctx, bodyName, body))).name;

  it('refuses unknown columns with CAT_UNKNOWN_TABLE', async () => {
    expect(await codeOf(alice, gqBody([99999]))).toBe('CAT_UNKNOWN_TABLE');
    expect(await codeOf(alice, gqBody([C.DATA_NAME], [[1234, "= 'x'"]]))).toBe('CAT_UNKNOWN_TABLE');
  });

  it('refuses tables that do not link with CAT_FAILED_TO_LINK_TABLES', async () => {
    const err = await errorOf(query(rods, [C.ZONE_NAME, C.COLL_NAME]));
    expect(err.name).toBe('CAT_FAILED_TO_LINK_TABLES');
    expect((await query(rods, [C.ZONE_NAME])).rows).toEqual([{ 102: 'testZone' }]);
  });

  it('refuses malformed conditions with CAT_INVALID_ARGUMENT naming the column', async () => {
    for (const cond of [
      'a.txt',
      "= a.txt'",
      "== 'a'",
      "lik 'a'",
      "= 'a' extra",
      "in 'a', 'b'",
      'in ()',
      "in ('a',)",
      "between 'a'",
      "between 'a' 'b' 'c'",
      '',
      "= 'a' ||",
      "; DROP TABLE entries; = 'a'",
    ]) {
      const err = await errorOf(query(alice, [C.DATA_NAME], [[C.DATA_NAME, cond]]));
      expect(err.name, cond).toBe('CAT_INVALID_ARGUMENT');
      expect(err.message, cond).toMatch(/COL_DATA_NAME/);
    }
    const num = await errorOf(query(alice, [C.DATA_NAME], [[C.DATA_SIZE, "> 'big'"]]));
    expect(num.name).toBe('CAT_INVALID_ARGUMENT');
    expect(num.message).toMatch(/COL_DATA_SIZE compares as a number/);
    expect((await errorOf(query(alice, [C.DATA_NAME], [[C.META_DATA_ATTR_VALUE, "n< 'x'"]]))).name).toBe('CAT_INVALID_ARGUMENT');
  });

  it('refuses a body that is not a GenQueryInp_PI, or whose counts lie', async () => {
    expect(await codeOf(alice, null, 'DataObjInp_PI')).toBe('USER_PACKSTRUCT_INPUT_ERR');
    expect(await codeOf(alice, null)).toBe('USER_PACKSTRUCT_INPUT_ERR');
    const body = gqBody([C.DATA_NAME, C.COLL_NAME]);
    (body.InxIvalPair_PI as PiNode).iiLen = '3';
    expect(await codeOf(alice, body)).toBe('USER_PACKSTRUCT_INPUT_ERR');
    const notInt = gqBody([C.DATA_NAME]);
    (notInt.InxIvalPair_PI as PiNode).inx = '40x';
    expect(await codeOf(alice, notInt)).toBe('USER_PACKSTRUCT_INPUT_ERR');
    const nested = gqBody([C.DATA_NAME], [[C.DATA_NAME, "= 'a'"]]);
    (nested.InxValPair_PI as PiNode).svalue = { x: 'y' };
    expect(await codeOf(alice, nested)).toBe('USER_PACKSTRUCT_INPUT_ERR');
  });

  it('refuses empty, oversized and negative-offset queries', async () => {
    expect(await codeOf(alice, gqBody([]))).toBe('CAT_INVALID_ARGUMENT');
    expect(await codeOf(alice, gqBody(Array(51).fill(C.DATA_NAME)))).toBe('CAT_INVALID_ARGUMENT');
    expect(await codeOf(alice, gqBody([C.DATA_NAME], [], { offset: -1 }))).toBe('CAT_INVALID_ARGUMENT');
    expect(await codeOf(alice, gqBody([C.DATA_NAME], [[C.DATA_NAME, `= '${'x'.repeat(40_000)}'`]]))).toBe('CAT_INVALID_ARGUMENT');
    // two conditions within the length bound alone, past it together
    const inList = `in (${Array.from({ length: 5_000 }, () => "'a'").join(',')})`;
    await noRows(query(alice, [C.DATA_NAME], [[C.DATA_NAME, inList]]));
    expect((await errorOf(query(alice, [C.DATA_NAME], [[C.DATA_NAME, inList], [C.COLL_NAME, inList]]))).message).toMatch(
      /at most 32768 characters together/,
    );
    // a short condition that would bind too many values: every ancestor of a deep path
    const err = await errorOf(query(alice, [C.COLL_NAME], [[C.COLL_NAME, `parent_of '${'/a'.repeat(11_000)}'`]]));
    expect(err.name).toBe('CAT_INVALID_ARGUMENT');
    expect(err.message).toMatch(/binds at most/);
  });

  it('answers SYS_INVALID_ZONE_NAME for another zone, and refuses keywords it does not know', async () => {
    expect((await query(alice, [C.DATA_NAME], [], { keywords: { zone: 'testZone' } })).rowCnt).toBe(4);
    expect(await codeOf(alice, gqBody([C.DATA_NAME], [], { keywords: { zone: 'otherZone' } }))).toBe('SYS_INVALID_ZONE_NAME');
    expect(await codeOf(alice, gqBody([C.DATA_NAME], [], { keywords: { chksum: 'x' } }))).toBe('CAT_INVALID_ARGUMENT');
  });

  it('stays healthy: a good query after every bad one', async () => {
    await errorOf(query(alice, [C.DATA_NAME], [[C.DATA_NAME, "between 'a'"]]));
    await errorOf(query(alice, [99999]));
    expect((await query(alice, [C.DATA_NAME], [[C.DATA_NAME, "= 'a.txt'"]])).rowCnt).toBe(1);
  });
});

describe('cost', () => {
  const DATA_OBJECT = [401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 419, 420, 422, 423];
  /** The query plan SQLite chooses for a first page, or for a continuation with `continued`. */
  const plan = (select: number[], conds: Array<[number, string]>, continued = false) => {
    const input = decodeGenQueryInput('GenQueryInp_PI', gqBody(select, conds));
    const p = buildPlan(input, { user: 'alice', admin: false, zone: 'testZone', vault: '/v', host: 'h', resources: '/r' });
    const db = store.protocolCore().db;
    // as the GenQuery handler does on each connection it queries
    registerIdFunctions(db);
    const keys = Object.fromEntries(p.order.map((_, i) => [`gq_k${i}`, '']));
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${pageSql(p, continued, false)}`).all({ ...p.params, ...keys, gq_limit: 10 }) as Array<{
      detail: string;
    }>;
    return rows.map((r) => r.detail).join('\n');
  };

  it('a collection prefix is a range of the path index, not a scan', () => {
    const detail = plan([C.COLL_NAME, C.DATA_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]]);
    expect(detail).toMatch(/SEARCH (coll|data) USING INDEX sqlite_autoindex_entries_1 \(path>\? AND path<\?\)/);
    expect(detail).not.toMatch(/SCAN (coll|data)/);
    expect(plan([C.COLL_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]])).toMatch(
      /SEARCH coll USING INDEX sqlite_autoindex_entries_1 \(path>\? AND path<\?\)/,
    );
  });

  it('an object by name in a collection is found through the unique path index', () => {
    const detail = plan([C.DATA_ID, C.DATA_NAME], [
      [C.COLL_NAME, `= '${Z}/home/alice'`],
      [C.DATA_NAME, "= 'a.txt'"],
    ]);
    // one lookup each: the collection by its path, the object by (collection, path)
    expect(detail).toMatch(/SEARCH coll USING INDEX sqlite_autoindex_entries_1 \(path=\?\)/);
    expect(detail).toMatch(/SEARCH data USING INDEX entries_parent_path \(parent_id=\? AND path=\?\)/);
    expect(detail).not.toMatch(/SCAN (data|coll)/);
  });

  it('subcollections by parent name use the parent index', () => {
    const detail = plan([C.COLL_NAME], [[C.COLL_PARENT_NAME, `= '${Z}/home'`]]);
    expect(detail).toMatch(/SEARCH coll USING INDEX entries_parent_path \(parent_id=\?\)/);
  });

  it("a page of a collection's objects reads only that collection's children, in path order, from where the last page ended", () => {
    // python-irodsclient collection.data_objects, a continuation page: 0.8.1 names the
    // collection (COLL_NAME), later versions give its id (D_COLL_ID)
    const alice = String(store.protocolCore().row(`${Z}/home/alice`)!.id);
    for (const cond of [[C.COLL_NAME, `= '${Z}/home/alice'`], [C.D_COLL_ID, `= '${alice}'`]] as Array<[number, string]>) {
      for (const select of [DATA_OBJECT, [C.DATA_NAME, C.COLL_NAME], [C.DATA_NAME, C.DATA_SIZE]]) {
        const detail = plan(select, [cond], true);
        expect(detail).toMatch(/SEARCH data USING INDEX entries_parent_path \(parent_id=\? AND path>\?\)/);
        expect(detail).not.toMatch(/SCAN (data|coll)/);
        // a sort would read every row after the bound for each page: a listing's pages would cost its length squared
        expect(detail).not.toMatch(/TEMP B-TREE FOR (RIGHT PART OF |LAST \d+ TERMS OF )?ORDER BY/);
      }
    }
  });

  it("a page of a collection's objects with their metadata reads the objects in path order, sorting only each object's AVUs", () => {
    const detail = plan([...DATA_OBJECT, C.META_DATA_ATTR_VALUE], [[C.COLL_NAME, `= '${Z}/home/alice'`]], true);
    expect(detail).toMatch(/SEARCH data USING INDEX entries_parent_path \(parent_id=\? AND path>\?\)/);
    // not the whole listing after the bound: the columns of one object's row order nothing after its path
    expect(detail).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    expect(detail).not.toMatch(/TEMP B-TREE FOR (RIGHT PART OF |LAST \d+ TERMS OF )ORDER BY/);
  });

  it("a page of a collection's subcollections reads in path order from where the last page ended, without sorting", () => {
    // python-irodsclient collection.subcollections: every column of the collection, by parent name
    const COLLECTION = [500, 501, 502, 503, 504, 505, 506, 507, 508, 509];
    const detail = plan(COLLECTION, [[C.COLL_PARENT_NAME, `= '${Z}/home'`]], true);
    expect(detail).toMatch(/SEARCH coll USING INDEX entries_parent_path \(parent_id=\? AND path>\?\)/);
    expect(detail).not.toMatch(/TEMP B-TREE FOR (RIGHT PART OF |LAST \d+ TERMS OF )?ORDER BY/);
  });

  it('a page of a subtree reads in path order from where the last one ended, without sorting', () => {
    const detail = plan([C.DATA_NAME, C.COLL_NAME], [[C.COLL_NAME, `like '${Z}/home/%'`]], true);
    expect(detail).toMatch(/SEARCH data USING INDEX sqlite_autoindex_entries_1 \(path>\? AND path<\?\)/);
    expect(detail).not.toMatch(/TEMP B-TREE FOR (RIGHT PART OF |LAST \d+ TERMS OF )?ORDER BY/);
  });
});
