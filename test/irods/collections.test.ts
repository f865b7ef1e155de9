import { describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import type { TempStore } from '../support/store-helpers.js';
import { irodsError, type TestContext } from './support/handler-context.js';
import { usersPerTest, type ObjectsClient, type UsersOfTest } from './support/objects-context.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
/** What a trash nothing went to holds: the trash homes a catalog is made with. */
const TRASH_HOMES = [`${Z}/trash/home`, `${Z}/trash/home/public`, `${Z}/trash/home/rods`];

let t: TempStore;
let s: EmbeddedStore;
let contexts: TestContext[];
let client: UsersOfTest['client'];
let alice: ObjectsClient;
let bob: ObjectsClient;
let rods: ObjectsClient;
const clean = { missingFiles: [], orphanFiles: [], repaired: 0 };

usersPerTest((u) => {
  ({ t, store: s, contexts, client, alice, bob, rods } = u);
});

/** A collection of `n` objects (names o000…) in `path`, created by alice over the protocol. */
async function fill(path: string, n: number): Promise<void> {
  await alice.mkdir(path, { recursiveOpr: '' });
  for (let i = 0; i < n; i++) await alice.put(`${path}/o${String(i).padStart(3, '0')}`, `object ${i}`);
}

describe('collection create (681)', () => {
  it('creates one collection owned by the user; an existing one is an error without recursiveOpr', async () => {
    expect(await alice.mkdir(`${HOME}/c`)).toEqual({ status: 0 });
    expect(await s.stat(`${HOME}/c`)).toMatchObject({ type: 'collection', owner: 'alice' });
    expect(await s.getAcl(`${HOME}/c`)).toEqual([{ name: 'alice', kind: 'user', level: 'own' }]);
    expect(await irodsError(alice.mkdir(`${HOME}/c`))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect(await alice.mkdir(`${HOME}/c`, { recursiveOpr: '' })).toEqual({ status: 0 });
  });

  it('with recursiveOpr creates the missing parents, all owned by the user', async () => {
    await alice.mkdir(`${HOME}/a/b/c`, { recursiveOpr: '' });
    for (const p of [`${HOME}/a`, `${HOME}/a/b`, `${HOME}/a/b/c`]) expect(await s.stat(p)).toMatchObject({ type: 'collection', owner: 'alice' });
  });

  it('refuses a missing parent, a data object in the way, a collection without write, and bad paths', async () => {
    expect(await irodsError(alice.mkdir(`${HOME}/x/y`))).toBe('CAT_UNKNOWN_COLLECTION');
    await alice.put(`${HOME}/obj`, 'o');
    expect(await irodsError(alice.mkdir(`${HOME}/obj`))).toBe('CAT_NAME_EXISTS_AS_DATAOBJ');
    expect(await irodsError(alice.mkdir(`${HOME}/obj/sub`, { recursiveOpr: '' }))).toBe('CAT_NAME_EXISTS_AS_DATAOBJ');
    expect(await irodsError(bob.mkdir(`${HOME}/bobs`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.mkdir(`${HOME}/bobs/deep`, { recursiveOpr: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(alice.mkdir(`${Z}/projects`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(alice.mkdir(`${HOME}/..`))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(alice.mkdir(`relative/path`))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(alice.mkdir(`/elsewhere/x`))).toBe('SYS_INVALID_ZONE_NAME');
    expect(await s.stat(`${HOME}/bobs`)).toBeNull();
    expect((await rods.mkdir(`${Z}/projects`)).status).toBe(0);
  });

  it('a new collection in an inheriting one takes its ACL and inheritance', async () => {
    await alice.mkdir(`${HOME}/shared`);
    await s.setAccess(`${HOME}/shared`, 'bob', 'write');
    await s.setInheritance(`${HOME}/shared`, true);
    await bob.mkdir(`${HOME}/shared/by-bob`);
    expect(await s.stat(`${HOME}/shared/by-bob`)).toMatchObject({ owner: 'bob', inherit: true });
    expect(await s.getAcl(`${HOME}/shared/by-bob`)).toEqual([
      { name: 'alice', kind: 'user', level: 'own' },
      { name: 'bob', kind: 'user', level: 'own' },
    ]);
  });
});

describe('collection remove (679)', () => {
  it('without recursiveOpr removes an empty collection for good and refuses a full one', async () => {
    await fill(`${HOME}/full`, 1);
    await alice.mkdir(`${HOME}/empty`);
    const reply = await alice.rmdir(`${HOME}/empty`);
    expect(reply).toEqual({ status: 0, body: { name: 'CollOprStat_PI', fields: { filesCnt: 1, totalFileCnt: 1, bytesWritten: 0, lastObjPath: `${HOME}/empty` } } });
    expect(await s.stat(`${HOME}/empty`)).toBeNull();
    expect((await s.list(`${Z}/trash`, { recursive: true })).map((e) => e.path)).toEqual(TRASH_HOMES);
    expect(await irodsError(alice.rmdir(`${HOME}/full`))).toBe('CAT_COLLECTION_NOT_EMPTY');
    expect(await irodsError(alice.rmdir(`${HOME}/none`))).toBe('CAT_UNKNOWN_COLLECTION');
  });

  it("recursive without forceFlag moves the collection into the user's trash, bytes and checksums intact", async () => {
    await fill(`${HOME}/proj/raw`, 3);
    const before = await s.listObjectChecksums(`${HOME}/proj`, { relative: true });
    const reply = await alice.rmdir(`${HOME}/proj`, { recursiveOpr: '' });
    expect(reply.body!.fields).toMatchObject({ filesCnt: 1, totalFileCnt: 1, lastObjPath: `${HOME}/proj` });
    expect(await s.stat(`${HOME}/proj`)).toBeNull();
    expect(await s.listObjectChecksums(`${Z}/trash/home/alice/proj`, { relative: true })).toEqual(before);
    expect(contexts[0].exchanges).toEqual([]);
    expect(await s.fsck()).toEqual(clean);
  });

  it('recursive with forceFlag removes everything for good, sending a progress reply every ten objects', async () => {
    await fill(`${HOME}/big/a`, 14);
    await fill(`${HOME}/big/b`, 11);
    const reply = await alice.rmdir(`${HOME}/big`, { recursiveOpr: '', forceFlag: '' });
    expect(await s.stat(`${HOME}/big`)).toBeNull();
    expect((await s.list(`${Z}/trash`, { recursive: true })).map((e) => e.path)).toEqual(TRASH_HOMES);
    const progress = contexts[0].exchanges;
    expect(progress.map((e) => e.reply.status)).toEqual([99999996, 99999996]);
    expect(progress.map((e) => e.reply.body)).toEqual([
      { name: 'CollOprStat_PI', fields: { filesCnt: 10, totalFileCnt: 0, bytesWritten: 0, lastObjPath: `${HOME}/big/a/o009` } },
      { name: 'CollOprStat_PI', fields: { filesCnt: 10, totalFileCnt: 0, bytesWritten: 0, lastObjPath: `${HOME}/big/b/o005` } },
    ]);
    expect(reply).toEqual({ status: 0, body: { name: 'CollOprStat_PI', fields: { filesCnt: 5, totalFileCnt: 0, bytesWritten: 0, lastObjPath: '' } } });
    expect(await s.fsck()).toEqual(clean);
  });

  it('a client that answers a progress reply with something else gets UNMATCHED_KEY_OR_INDEX', async () => {
    await fill(`${HOME}/p`, 10);
    const odd = await client('alice', () => 42);
    expect(await irodsError(odd.rmdir(`${HOME}/p`, { recursiveOpr: '', forceFlag: '' }))).toBe('UNMATCHED_KEY_OR_INDEX');
    expect(contexts.at(-1)!.exchanges).toHaveLength(1);
  });

  it('needs own on everything it removes (and write on the parent for good); refused, it removes nothing', async () => {
    await fill(`${HOME}/shared/sub`, 2);
    await s.setAccess(`${HOME}/shared`, 'bob', 'own');
    await s.setAccess(`${HOME}/shared/sub`, 'bob', 'own');
    await s.setAccess(`${HOME}/shared/sub/o000`, 'bob', 'own');
    await s.setAccess(`${HOME}/shared/sub/o001`, 'bob', 'write');
    let dump = await s.dump();
    expect(await irodsError(bob.rmdir(`${HOME}/shared`, { recursiveOpr: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.rmdir(`${HOME}/shared`, { recursiveOpr: '', forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.dump()).toEqual(dump);
    // own on everything below, but no write on the parent /home/alice
    await s.setAccess(`${HOME}/shared/sub/o001`, 'bob', 'own');
    dump = await s.dump();
    expect(await irodsError(bob.rmdir(`${HOME}/shared`, { recursiveOpr: '', forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.dump()).toEqual(dump);
    // to the trash needs own on the collection and its objects only
    await bob.rmdir(`${HOME}/shared`, { recursiveOpr: '' });
    expect(await s.stat(`${Z}/trash/home/bob/home/alice/shared/sub/o001`)).toMatchObject({ type: 'object' });
  });

  it('a non-empty home collection is not removed for good, as iRODS refuses; the layout roots never', async () => {
    await alice.put(`${HOME}/x`, 'x');
    expect(await irodsError(rods.rmdir(HOME, { recursiveOpr: '', forceFlag: '' }))).toBe('CANT_RM_NON_EMPTY_HOME_COLL');
    expect(await irodsError(rods.rmdir(`${Z}/home`, { recursiveOpr: '', forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(alice.rmdir(HOME, { recursiveOpr: '', forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.stat(`${HOME}/x`)).not.toBeNull();
  });

  it('removing from the trash empties it; admin mode is for rodsadmins', async () => {
    await fill(`${HOME}/t`, 2);
    await alice.rmdir(`${HOME}/t`, { recursiveOpr: '' });
    expect(await irodsError(alice.rmdir(`${Z}/trash/home/alice/t`, { recursiveOpr: '', irodsAdmin: '' }))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    await alice.rmdir(`${Z}/trash/home/alice/t`, { recursiveOpr: '' });
    expect(await s.stat(`${Z}/trash/home/alice/t`)).toBeNull();
    expect(await s.fsck()).toEqual(clean);
  });
});
