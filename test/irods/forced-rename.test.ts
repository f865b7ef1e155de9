/**
 * A data object renamed onto another with `forceFlag` (DATA_OBJ_RENAME_AN
 * 627), as iRODS 4.2.9 and later do it (src/irods/objects/rename.ts has the
 * facts): through python-irodsclient 0.8.1 against `taskflow store serve`.
 * The client's `data_objects.move` sends oprType 11 and no keywords, which
 * never replaces; the forced renames are requests built as that method
 * builds them (client_ops.py `rename_raw`), with oprType 0 and the keyword.
 *
 * Every refusal and the forced catalog failure are checked against the
 * whole state: the catalog dump (trash, ACLs, metadata included), every
 * entry's row (ids, bytes' ids, times), every object's bytes and fsck.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { labelledOps, requireIrodsClient, type ClientOp, type ClientOpResult, type IrodsAccount } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { storeState } from '../support/store-helpers.js';

const Z = TEST_ZONE;
const HOME = `/${Z}/home/alice`;
const BOB_HOME = `/${Z}/home/bob`;
const FORCE = { forceFlag: '' };
/** Bytes beyond the store's inline limit (64 KiB): kept in a vault file, not in the catalog. */
const LARGE = 'vault file bytes\n'.repeat(6000);


let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
/** A second handle on the server's data folder, to look at (and, once, break) the catalog. */
let inspect: EmbeddedStore;


/** Runs `ops` as `who` and requires every one to succeed. */
async function setUp(who: IrodsAccount, ops: Record<string, ClientOp>): Promise<Record<string, ClientOpResult>> {
  const results = await labelledOps(who, ops);
  const failed = Object.entries(results).filter(([, r]) => !r.ok);
  expect(failed, 'setup').toEqual([]);
  return results;
}

/** A rename request with oprType 0 (the server finds out the kind) and `forceFlag` on the destination's side, unless told otherwise. */
function forced(path: string, dest: string, more: Partial<ClientOp> = {}): ClientOp {
  return { op: 'rename_raw', path, dest, opr_type: 0, dest_keywords: FORCE, ...more };
}

/** The refusal of one op: its iRODS error name, or the KeyError python-irodsclient 0.8.1 raises for a code it does not know. */
function refusal(r: ClientOpResult): string {
  if (r.ok) return 'succeeded';
  return r.error === 'KeyError' ? `KeyError ${r.message}` : r.error;
}

/** Everything the store holds (see storeState). */
const fullState = (): Promise<unknown> => storeState(inspect);

/** Paths of the data objects in the trash. */
async function trashed(): Promise<string[]> {
  const lines = (await inspect.dump()).map((l) => JSON.parse(l) as { t: string; path?: string });
  return lines.flatMap((e) => (e.t === 'object' && e.path?.startsWith(`/${Z}/trash/`) ? [e.path] : []));
}

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, bob, inspect } = await startAliceAndBob());
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
});

describe('rename onto a data object with forceFlag (627), python-irodsclient 0.8.1', { timeout: 180_000 }, () => {
  it('replaces the target for good (not to the trash) only for oprType 0 with forceFlag on either side; move (11) and 11 with the flag are refused', async () => {
    await setUp(alice, {
      sub: { op: 'mkdir', path: `${HOME}/sub` },
      src: { op: 'write', path: `${HOME}/src`, content: 'the source' },
      tgt: { op: 'write', path: `${HOME}/tgt`, content: LARGE },
      srcMeta: { op: 'meta_add', path: `${HOME}/src`, kind: 'd', attribute: 'from', value: 'src' },
      tgtMeta: { op: 'meta_add', path: `${HOME}/tgt`, kind: 'd', attribute: 'from', value: 'tgt' },
      tgtAcl: { op: 'chmod', path: `${HOME}/tgt`, level: 'read', user: 'bob' },
      src2: { op: 'write', path: `${HOME}/sub/src2`, content: 'the second source' },
      tgt2: { op: 'write', path: `${HOME}/tgt2`, content: 'the second target' },
    });
    const ids = await setUp(alice, { src: { op: 'id', path: `${HOME}/src` }, src2: { op: 'id', path: `${HOME}/sub/src2` } });

    const before = await fullState();
    const refused = await labelledOps(alice, {
      move: { op: 'rename', path: `${HOME}/src`, dest: `${HOME}/tgt` },
      'oprType 11 with forceFlag': { op: 'rename_raw', path: `${HOME}/src`, dest: `${HOME}/tgt`, opr_type: 11, src_keywords: FORCE, dest_keywords: FORCE },
      'oprType 0 without forceFlag': { op: 'rename_raw', path: `${HOME}/src`, dest: `${HOME}/tgt`, opr_type: 0 },
    });
    expect(Object.values(refused).map(refusal)).toEqual(['CAT_NAME_EXISTS_AS_DATAOBJ', 'CAT_NAME_EXISTS_AS_DATAOBJ', 'CAT_NAME_EXISTS_AS_DATAOBJ']);
    expect(await fullState()).toEqual(before);

    const done = await labelledOps(alice, {
      'forceFlag on the destination': forced(`${HOME}/src`, `${HOME}/tgt`),
      'forceFlag on the source, into another collection': forced(`${HOME}/sub/src2`, `${HOME}/tgt2`, { src_keywords: FORCE, dest_keywords: {} }),
    });
    expect(Object.values(done).map(refusal)).toEqual(['succeeded', 'succeeded']);
    const after = await labelledOps(alice, {
      read: { op: 'read', path: `${HOME}/tgt` },
      id: { op: 'id', path: `${HOME}/tgt` },
      meta: { op: 'meta_get', path: `${HOME}/tgt`, kind: 'd' },
      acl: { op: 'acl', path: `${HOME}/tgt`, kind: 'd' },
      source: { op: 'stat', path: `${HOME}/src` },
      read2: { op: 'read', path: `${HOME}/tgt2` },
      id2: { op: 'id', path: `${HOME}/tgt2` },
      list: { op: 'list', path: `${HOME}/sub` },
    });
    // the source under the target's name: its id, bytes, metadata and ACL; nothing of the target's
    expect(after.read).toMatchObject({ ok: true, value: 'the source' });
    expect(after.id).toMatchObject({ ok: true, value: (ids.src as { value: number }).value });
    expect(after.meta).toMatchObject({ ok: true, value: [['from', 'src']] });
    expect(after.acl).toMatchObject({ ok: true, value: [['alice', 'own']] });
    expect(after.source).toMatchObject({ ok: false, error: 'DataObjectDoesNotExist' });
    expect(after.read2).toMatchObject({ ok: true, value: 'the second source' });
    expect(after.id2).toMatchObject({ ok: true, value: (ids.src2 as { value: number }).value });
    expect(after.list).toMatchObject({ ok: true, value: [] });
    // removed for good: nothing in the trash, the large target's vault file gone with it
    expect(await trashed()).toEqual([]);
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('needs read to see the target, own on it to replace it, and write on its collection; never replaces a collection; a refusal changes nothing', async () => {
    const SHARED = `${HOME}/shared`;
    const T = `${SHARED}/t`;
    await setUp(alice, {
      shared: { op: 'mkdir', path: SHARED },
      coll: { op: 'mkdir', path: `${SHARED}/coll` },
      t: { op: 'write', path: T, content: "alice's target" },
      meta: { op: 'meta_add', path: T, kind: 'd', attribute: 'owner', value: 'alice' },
      collOwn: { op: 'chmod', path: `${SHARED}/coll`, level: 'own', user: 'bob' },
    });
    await setUp(bob, {
      mine: { op: 'write', path: `${BOB_HOME}/mine`, content: "bob's source" },
      dir: { op: 'mkdir', path: `${BOB_HOME}/dir` },
    });
    const refusedNow = async (op: ClientOp): Promise<string> => {
      const before = await fullState();
      const r = refusal((await labelledOps(bob, { op })).op);
      expect(await fullState(), `${JSON.stringify(op)} changed nothing`).toEqual(before);
      return r;
    };
    const grant = (path: string, level: string) => setUp(alice, { grant: { op: 'chmod', path, level, user: 'bob' } });

    // a target bob cannot read is not found as a data object, so not unlinked: the name is taken
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, T))).toBe('CAT_NAME_EXISTS_AS_DATAOBJ');
    await grant(T, 'read');
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, T))).toBe('CAT_NO_ACCESS_PERMISSION');
    await grant(T, 'write');
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, T))).toBe('CAT_NO_ACCESS_PERMISSION');
    await grant(T, 'own');
    // iRODS would have unlinked the target before finding that bob may not write into its collection
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, T))).toBe('CAT_NO_ACCESS_PERMISSION');
    // admin mode on the destination's side is for rodsadmins, as in an unlink
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, T, { dest_keywords: { ...FORCE, irodsAdmin: '' } }))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    await grant(SHARED, 'write');
    expect(await refusedNow(forced(`${BOB_HOME}/mine`, `${SHARED}/coll`))).toBe('CAT_NAME_EXISTS_AS_COLLECTION');
    expect(await refusedNow(forced(`${BOB_HOME}/dir`, T))).toBe('CAT_NAME_EXISTS_AS_DATAOBJ');

    const done = await labelledOps(bob, { rename: forced(`${BOB_HOME}/mine`, T), read: { op: 'read', path: T }, meta: { op: 'meta_get', path: T, kind: 'd' } });
    expect(done.rename).toMatchObject({ ok: true });
    expect(done.read).toMatchObject({ ok: true, value: "bob's source" });
    expect(done.meta).toMatchObject({ ok: true, value: [] });
    expect(await inspect.stat(T)).toMatchObject({ owner: 'bob' });
    expect(await trashed()).toEqual([]);
  });

  it('does not replace a target open for writing (INTERMEDIATE_REPLICA_ACCESS, a KeyError in 0.8.1); once it is closed, does', async () => {
    await setUp(alice, {
      src: { op: 'write', path: `${HOME}/src3`, content: 'the third source' },
      tgt: { op: 'write', path: `${HOME}/tgt3`, content: 'old bytes' },
    });
    // one session: the object stays open on one connection while the rename comes on another
    const r = await labelledOps(alice, {
      open: { op: 'open_write', path: `${HOME}/tgt3`, content: 'being written' },
      whileOpen: forced(`${HOME}/src3`, `${HOME}/tgt3`),
      close: { op: 'close', path: `${HOME}/tgt3` },
      written: { op: 'read', path: `${HOME}/tgt3` },
      source: { op: 'read', path: `${HOME}/src3` },
      afterClose: forced(`${HOME}/src3`, `${HOME}/tgt3`),
      replaced: { op: 'read', path: `${HOME}/tgt3` },
    });
    expect(r.open).toMatchObject({ ok: true });
    expect(refusal(r.whileOpen)).toBe('KeyError -405000');
    expect(r.close).toMatchObject({ ok: true });
    expect(r.written).toMatchObject({ ok: true, value: 'being written' });
    expect(r.source).toMatchObject({ ok: true, value: 'the third source' });
    expect(r.afterClose).toMatchObject({ ok: true });
    expect(r.replaced).toMatchObject({ ok: true, value: 'the third source' });
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('does not move a source open for writing with oprType 0, forced or not (LOCKED_DATA_OBJECT_ACCESS, a KeyError in 0.8.1); once it is closed, does', async () => {
    await setUp(alice, {
      src: { op: 'write', path: `${HOME}/src4`, content: 'the fourth source' },
      tgt: { op: 'write', path: `${HOME}/tgt4`, content: 'kept bytes' },
    });
    const trashBefore = await trashed();
    // python-irodsclient's move (11) of an open object is allowed, as in the released servers: objects-client.test.ts
    const r = await labelledOps(alice, {
      open: { op: 'open_write', path: `${HOME}/src4`, content: 'being written' },
      forcedWhileOpen: forced(`${HOME}/src4`, `${HOME}/tgt4`),
      plainWhileOpen: { op: 'rename_raw', path: `${HOME}/src4`, dest: `${HOME}/free4`, opr_type: 0 },
      close: { op: 'close', path: `${HOME}/src4` },
      target: { op: 'read', path: `${HOME}/tgt4` },
      notMoved: { op: 'read', path: `${HOME}/free4` },
      afterClose: { op: 'rename_raw', path: `${HOME}/src4`, dest: `${HOME}/free4`, opr_type: 0 },
      moved: { op: 'read', path: `${HOME}/free4` },
    });
    expect(r.open).toMatchObject({ ok: true });
    expect(refusal(r.forcedWhileOpen)).toBe('KeyError -406000');
    expect(refusal(r.plainWhileOpen)).toBe('KeyError -406000');
    expect(r.close).toMatchObject({ ok: true });
    expect(r.target).toMatchObject({ ok: true, value: 'kept bytes' });
    expect(r.notMoved).toMatchObject({ ok: false });
    expect(r.afterClose).toMatchObject({ ok: true });
    expect(r.moved).toMatchObject({ ok: true, value: 'being written' });
    expect(await trashed()).toEqual(trashBefore);
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('is all or nothing: a catalog failure after the target was removed leaves source, target and trash exactly as they were', async () => {
    const SRC = `${HOME}/src4`;
    const TGT = `${HOME}/tgt4`;
    await setUp(alice, {
      src: { op: 'write', path: SRC, content: 'small source, bytes in the catalog' },
      tgt: { op: 'write', path: TGT, content: LARGE },
      srcMeta: { op: 'meta_add', path: SRC, kind: 'd', attribute: 'side', value: 'source' },
      tgtMeta: { op: 'meta_add', path: TGT, kind: 'd', attribute: 'side', value: 'target' },
      srcAcl: { op: 'chmod', path: SRC, level: 'write', user: 'bob' },
      tgtAcl: { op: 'chmod', path: TGT, level: 'read', user: 'bob' },
      old: { op: 'write', path: `${HOME}/old`, content: 'trashed' },
    });
    // something in the trash, which must stay as it is too
    await inspect.trash(`${HOME}/old`, { user: 'alice' });
    expect(await trashed()).toEqual([`/${Z}/trash/home/alice/old`]);

    // the move's row update fails inside the transaction, after the target's rows went
    const db = inspect.protocolCore().db;
    db.exec(`CREATE TRIGGER test_forced_rename_fails BEFORE UPDATE OF path ON entries WHEN NEW.path = '${TGT}' BEGIN SELECT RAISE(ABORT, 'forced failure'); END`);
    const before = await fullState();
    try {
      const r = await labelledOps(alice, { rename: forced(SRC, TGT) });
      // the server's answer for a failure of its own (src/irods/server/store-errors.ts)
      expect(r.rename, JSON.stringify(r.rename)).toMatchObject({ ok: false, error: 'SYS_INTERNAL_NULL_INPUT_ERR' });
      expect(await fullState()).toEqual(before);
    } finally {
      db.exec('DROP TRIGGER test_forced_rename_fails');
    }

    const r = await labelledOps(alice, { rename: forced(SRC, TGT), read: { op: 'read', path: TGT } });
    expect(r.rename).toMatchObject({ ok: true });
    expect(r.read).toMatchObject({ ok: true, value: 'small source, bytes in the catalog' });
    expect(await trashed()).toEqual([`/${Z}/trash/home/alice/old`]);
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });
});
