/**
 * The touch API (TOUCH_APN 20007), as `itouch` and python-irodsclient 2.1.0
 * and later `data_objects.touch` / `collections.touch` send it (JSON in
 * BinBytesBuf_PI; 0.8.1 has no such call, so parallel_transfer.py's
 * `json_api` sends the request). The server's facts, from iRODS 4.2.12, are
 * in src/irods/objects/touch.ts and touch-input.ts. Times are read back as
 * GenQuery and a stat answer them (client_ops.py `mtime`); every refusal is
 * checked to leave the whole store as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { clientOp, labelledOps, rawCalls, requireIrodsClient, type IrodsAccount, type RawCallResult } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { storeState } from '../support/store-helpers.js';

const Z = TEST_ZONE;
const HOME = `/${Z}/home/alice`;
const API = 20007;
const O = { WRONLY: 1, CREAT: 64, TRUNC: 512 } as const;
/** 1988-07-11 00:00:00 UTC, the time iRODS 4.2.12 test_itouch.py touches with. */
const T1988 = 584582400;

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
let inspect: EmbeddedStore;

/** One touch as `who` sends it; `raw` replaces the JSON text. */
async function touchAs(who: IrodsAccount, input: unknown, raw?: string): Promise<RawCallResult> {
  return (await touchesAs(who, [[input, raw]]))[0]!;
}

/** Touches as `who` sends them, one after the other on one connection: each `[input, raw]` as for {@link touchAs}. */
async function touchesAs(who: IrodsAccount, inputs: ReadonlyArray<readonly [unknown, string?]>): Promise<RawCallResult[]> {
  return rawCalls(who, inputs.map(([json, raw]) => ({ call: 'json_api', api: API, json, raw })));
}

/** The modify time of `path` (kind d or c) as GenQuery and a stat answer it, asked by `who` (alice by default). */
async function mtimeOf(path: string, kind: 'd' | 'c', who = alice): Promise<{ query: number[]; stat: number }> {
  const r = await clientOp(who, { op: 'mtime', path, kind });
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  return (r as { value: { query: number[]; stat: number } }).value;
}

/** The catalog row of `path` without its modify time: what a touch must leave alone. */
function rowBesidesTime(path: string): unknown {
  const row = inspect.protocolCore().row(path);
  if (!row) return row;
  const { modified: _modified, ...rest } = row;
  return rest;
}

const OK = { ok: true, value: null };
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, bob, inspect } = await startAliceAndBob());
  const setup = await labelledOps(alice, {
    obj: { op: 'write', path: `${HOME}/a.txt`, content: 'a' },
    ref: { op: 'write', path: `${HOME}/ref.txt`, content: 'ref' },
    sub: { op: 'mkdir', path: `${HOME}/sub` },
  });
  expect(Object.values(setup).every((r) => r.ok)).toBe(true);
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
});

describe('touch (20007)', { timeout: 120_000 }, () => {
  it('sets the modify time of an object and of a collection to given seconds, as GenQuery and stat answer it; nothing else changes', async () => {
    const objRow = rowBesidesTime(`${HOME}/a.txt`);
    const collRow = rowBesidesTime(`${HOME}/sub`);
    expect(await touchAs(alice, { logical_path: `${HOME}/a.txt`, options: { seconds_since_epoch: T1988 } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/a.txt`, 'd')).toEqual({ query: [T1988], stat: T1988 });
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: { seconds_since_epoch: 1_000_000_000 } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/sub`, 'c')).toEqual({ query: [1_000_000_000], stat: 1_000_000_000 });
    expect(rowBesidesTime(`${HOME}/a.txt`)).toEqual(objRow);
    expect(rowBesidesTime(`${HOME}/sub`)).toEqual(collRow);
    // the time checked as a C++ int and used as 64 bits, as 4.2.12 does: 2^32 + 5 passes as 5
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: { seconds_since_epoch: 2 ** 32 + 5 } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/sub`, 'c')).toEqual({ query: [2 ** 32 + 5], stat: 2 ** 32 + 5 });
    // a boolean is a number to nlohmann::json's int conversion
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: { seconds_since_epoch: true } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/sub`, 'c')).toEqual({ query: [1], stat: 1 });
  });

  it("sets it to a reference's modify time (object to collection and back) and, without a time, to now", async () => {
    expect(await touchAs(alice, { logical_path: `${HOME}/ref.txt`, options: { seconds_since_epoch: 1234 } })).toEqual(OK);
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: { reference: `${HOME}/ref.txt` } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/sub`, 'c')).toEqual({ query: [1234], stat: 1234 });
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: { seconds_since_epoch: 5678 } })).toEqual(OK);
    expect(await touchAs(alice, { logical_path: `${HOME}/ref.txt`, options: { reference: `${HOME}/sub` } })).toEqual(OK);
    expect(await mtimeOf(`${HOME}/ref.txt`, 'd')).toEqual({ query: [5678], stat: 5678 });
    const before = now();
    expect(await touchAs(alice, { logical_path: `${HOME}/ref.txt` })).toEqual(OK);
    expect(await touchAs(alice, { logical_path: `${HOME}/sub`, options: {} })).toEqual(OK);
    const after = now();
    for (const [path, kind] of [[`${HOME}/ref.txt`, 'd'], [`${HOME}/sub`, 'c']] as const) {
      const { query, stat } = await mtimeOf(path, kind);
      expect(query).toEqual([stat]);
      expect(stat).toBeGreaterThanOrEqual(before);
      expect(stat).toBeLessThanOrEqual(after);
    }
  });

  it('creates an empty object where there is none, owned by the client like any new object and seen by GenQuery; no_create creates nothing', async () => {
    const before = await storeState(inspect);
    expect(await touchAs(alice, { logical_path: `${HOME}/none.txt`, options: { no_create: true } })).toEqual(OK);
    expect(await touchAs(alice, { logical_path: `${HOME}/missing/x.txt`, options: { no_create: true } })).toEqual(OK);
    expect(await storeState(inspect)).toEqual(before);
    expect(await touchAs(alice, { logical_path: `${HOME}/new.txt`, options: { seconds_since_epoch: T1988 } })).toEqual(OK);
    expect(await touchAs(alice, { logical_path: `${HOME}/on-demo.txt`, options: { leaf_resource_name: 'demoResc', no_create: false } })).toEqual(OK);
    const r = await labelledOps(alice, {
      made: { op: 'create', path: `${HOME}/made.txt` },
      names: { op: 'query_names', path: HOME },
      size: { op: 'stat', path: `${HOME}/new.txt` },
      read: { op: 'read', path: `${HOME}/new.txt` },
      acl: { op: 'acl', path: `${HOME}/new.txt`, kind: 'd' },
      aclMade: { op: 'acl', path: `${HOME}/made.txt`, kind: 'd' },
      stat: { op: 'obj_stat', path: `${HOME}/on-demo.txt` },
    });
    expect(r.names).toMatchObject({ ok: true, value: expect.arrayContaining([`${HOME}/new.txt`, `${HOME}/on-demo.txt`]) });
    expect(r.size).toMatchObject({ ok: true, value: 0 });
    expect(r.read).toMatchObject({ ok: true, value: '' });
    expect(r.acl).toMatchObject({ ok: true, value: [['alice', 'own']] });
    expect((r.acl as { value: unknown }).value).toEqual((r.aclMade as { value: unknown }).value);
    expect(r.stat).toMatchObject({ ok: true, value: { objType: '1', ownerName: 'alice' } });
    expect(await mtimeOf(`${HOME}/new.txt`, 'd')).toEqual({ query: [T1988], stat: T1988 });
    // made now and then touched (4.2.12 touch.cpp creates, then sets the modify time): made after 1988
    const times = await clientOp(alice, { op: 'times', path: `${HOME}/new.txt`, kind: 'd' });
    expect((times as { value: { stat: number[] } }).value.stat[0]).toBeGreaterThan(T1988);
    // the same catalog row as an object an open with O_CREAT and a close makes
    const { id: _a, path: _p, modified: _m, created: _c, vault_id: _v, ...made } = inspect.protocolCore().row(`${HOME}/made.txt`)!;
    const { id: _b, path: _q, modified: _n, created: _d, vault_id: _w, ...touched } = inspect.protocolCore().row(`${HOME}/new.txt`)!;
    expect(touched).toEqual(made);
  });

  it('answers a path where nothing can be created, and a replica number or unknown resource for a missing object, with the real codes, creating nothing', async () => {
    const before = await storeState(inspect);
    const cases: Array<[unknown, number]> = [
      [{ logical_path: `${HOME}/missing/x.txt` }, IRODS_ERRORS.CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION],
      [{ logical_path: `${HOME}/a.txt/x` }, IRODS_ERRORS.CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION],
      [{ logical_path: `${HOME}/none.txt`, options: { replica_number: 0 } }, IRODS_ERRORS.OBJ_PATH_DOES_NOT_EXIST],
      [{ logical_path: `${HOME}/none.txt`, options: { leaf_resource_name: 'noSuchResc' } }, IRODS_ERRORS.SYS_RESC_DOES_NOT_EXIST],
    ];
    const answers = await touchesAs(alice, cases.map(([input]) => [input]));
    cases.forEach(([input, code], i) => expect(answers[i], JSON.stringify(input)).toEqual({ ok: false, code }));
    expect(await storeState(inspect)).toEqual(before);
  });

  it('refuses bad input with the codes of the real plugin, in its order, and changes nothing', async () => {
    const before = await storeState(inspect);
    const p = `${HOME}/a.txt`;
    const cases: Array<[unknown, number, string?]> = [
      [undefined, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR, '{"logical_path": '],
      [[p], IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{}, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: 7 }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: null }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: '' }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: p, options: [] }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: p, options: null }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      // exclusive options come before the types
      [{ logical_path: p, options: { replica_number: 'x', leaf_resource_name: 5 } }, IRODS_ERRORS.USER_INCOMPATIBLE_PARAMS],
      [{ logical_path: p, options: { reference: p, seconds_since_epoch: 1 } }, IRODS_ERRORS.USER_INCOMPATIBLE_PARAMS],
      [{ logical_path: p, options: { no_create: 1 } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { no_create: null } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { replica_number: '0' } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { leaf_resource_name: 3 } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { reference: {} } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { seconds_since_epoch: '5' } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      // every type before any value
      [{ logical_path: p, options: { replica_number: -1, reference: 5 } }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ logical_path: p, options: { replica_number: -1 } }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: p, options: { leaf_resource_name: '' } }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: p, options: { reference: '' } }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      [{ logical_path: p, options: { seconds_since_epoch: -5 } }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      // 2^31 is negative as a C++ int
      [{ logical_path: p, options: { seconds_since_epoch: 2 ** 31 } }, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR],
      // the target's own checks
      [{ logical_path: `${HOME}/sub`, options: { replica_number: 0 } }, IRODS_ERRORS.USER_INCOMPATIBLE_PARAMS],
      [{ logical_path: `${HOME}/sub`, options: { leaf_resource_name: 'demoResc' } }, IRODS_ERRORS.USER_INCOMPATIBLE_PARAMS],
      [{ logical_path: p, options: { replica_number: 1 } }, IRODS_ERRORS.SYS_REPLICA_DOES_NOT_EXIST],
      [{ logical_path: p, options: { leaf_resource_name: 'otherResc' } }, IRODS_ERRORS.SYS_REPLICA_DOES_NOT_EXIST],
      [{ logical_path: p, options: { reference: `${HOME}/gone` } }, IRODS_ERRORS.INVALID_OBJECT_TYPE],
      // the reference is looked up before the collection's options are
      [{ logical_path: `${HOME}/sub`, options: { replica_number: 0, reference: `${HOME}/gone` } }, IRODS_ERRORS.INVALID_OBJECT_TYPE],
    ];
    const answers = await touchesAs(alice, cases.map(([input, , raw]) => [input, raw]));
    cases.forEach(([input, code, raw], i) => expect(answers[i], JSON.stringify(input ?? raw)).toEqual({ ok: false, code }));
    expect(await storeState(inspect)).toEqual(before);
    // replica 0 named, by number (4294967296 is 0 as a C++ int) or by its resource, is the object's one replica
    for (const options of [{ replica_number: 0 }, { replica_number: 2 ** 32 }, { leaf_resource_name: 'demoResc' }]) {
      expect(await touchAs(alice, { logical_path: p, options: { ...options, seconds_since_epoch: 99 } }), JSON.stringify(options)).toEqual(OK);
      expect(await mtimeOf(p, 'd')).toEqual({ query: [99], stat: 99 });
      await touchAs(alice, { logical_path: p, options: { seconds_since_epoch: 1 } });
    }
  });

  it('needs write: bob sees nothing of alice\'s and creates nothing there; with read he is refused; with write he may; a rodsadmin may', async () => {
    const p = `${HOME}/a.txt`;
    const before = await storeState(inspect);
    expect(await touchAs(bob, { logical_path: p, options: { no_create: true } })).toEqual(OK);
    const paths = [p, `${HOME}/bobs.txt`, HOME];
    const answers = await touchesAs(bob, paths.map((path) => [{ logical_path: path }]));
    paths.forEach((path, i) => expect(answers[i], path).toEqual({ ok: false, code: IRODS_ERRORS.CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION }));
    // nor does he read a time through a reference he cannot see
    expect(await touchAs(bob, { logical_path: `/${Z}/home/bob`, options: { reference: p } })).toEqual({ ok: false, code: IRODS_ERRORS.INVALID_OBJECT_TYPE });
    expect(await storeState(inspect)).toEqual(before);
    const granted = await labelledOps(alice, {
      obj: { op: 'chmod', path: p, level: 'read', user: 'bob' },
      home: { op: 'chmod', path: HOME, level: 'read', user: 'bob' },
    });
    expect(Object.values(granted).every((r) => r.ok)).toBe(true);
    const afterGrant = await storeState(inspect);
    expect(await touchAs(bob, { logical_path: p })).toEqual({ ok: false, code: IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION });
    expect(await touchAs(bob, { logical_path: HOME, options: { seconds_since_epoch: 5 } })).toEqual({ ok: false, code: IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION });
    // the replica is looked for before the permission
    expect(await touchAs(bob, { logical_path: p, options: { replica_number: 3 } })).toEqual({ ok: false, code: IRODS_ERRORS.SYS_REPLICA_DOES_NOT_EXIST });
    // a new object in a collection he may only read: nothing created
    expect(await touchAs(bob, { logical_path: `${HOME}/bobs.txt` })).toEqual({ ok: false, code: IRODS_ERRORS.CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION });
    expect(await storeState(inspect)).toEqual(afterGrant);
    expect(await touchAs(bob, { logical_path: `/${Z}/home/bob`, options: { reference: p } })).toEqual(OK);
    expect((await labelledOps(alice, { w: { op: 'chmod', path: p, level: 'write', user: 'bob' } })).w).toMatchObject({ ok: true });
    expect(await touchAs(bob, { logical_path: p, options: { seconds_since_epoch: 4242 } })).toEqual(OK);
    expect(await mtimeOf(p, 'd', bob)).toEqual({ query: [4242], stat: 4242 });
    expect(await touchAs(server!.admin, { logical_path: HOME, options: { seconds_since_epoch: 4343 } })).toEqual(OK);
    expect(await mtimeOf(HOME, 'c')).toEqual({ query: [4343], stat: 4343 });
  });

  it('an object open for writing has no good replica until its close, unless the touch names it; a new one being written cannot be touched into being', async () => {
    const p = `${HOME}/a.txt`;
    const fresh = `${HOME}/being-written.txt`;
    const fd = 3;
    const r = await rawCalls(
      alice,
      [
        { call: 'open', conn: 'w', path: p, flags: O.WRONLY },
        { call: 'json_api', api: API, json: { logical_path: p } },
        { call: 'json_api', api: API, json: { logical_path: p, options: { seconds_since_epoch: 77 } } },
        { call: 'json_api', api: API, json: { logical_path: p, options: { replica_number: 0, seconds_since_epoch: 77 } } },
        { call: 'open', conn: 'n', path: fresh, flags: O.WRONLY | O.CREAT | O.TRUNC },
        { call: 'json_api', api: API, json: { logical_path: fresh } },
        { call: 'write', conn: 'n', fd, data: 'new bytes' },
        { call: 'close', conn: 'n', fd },
        { call: 'close', conn: 'w', fd },
      ],
      { w: alice, n: alice },
    );
    expect(r).toEqual([
      { ok: true, value: fd },
      { ok: false, code: IRODS_ERRORS.SYS_NO_GOOD_REPLICA },
      { ok: false, code: IRODS_ERRORS.SYS_NO_GOOD_REPLICA },
      OK,
      { ok: true, value: fd },
      { ok: false, code: IRODS_ERRORS.CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION },
      { ok: true, value: 9 },
      OK,
      OK,
    ]);
    const after = await labelledOps(alice, { fresh: { op: 'read', path: fresh }, obj: { op: 'read', path: p } });
    expect(after.fresh).toMatchObject({ ok: true, value: 'new bytes' });
    expect(after.obj).toMatchObject({ ok: true, value: 'a' });
    // closed, the object is touched as any other
    expect(await touchAs(alice, { logical_path: p, options: { seconds_since_epoch: 88 } })).toEqual(OK);
    expect(await mtimeOf(p, 'd')).toEqual({ query: [88], stat: 88 });
  });
});
