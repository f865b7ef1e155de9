/**
 * The root collection `/` through python-irodsclient 0.8.1 against the
 * store's iRODS server (`taskflow store serve`), as an iRODS 4.2 server on a
 * fresh catalog serves it: a collection owned by rods, on which only rods
 * holds access (own), the zone collection's parent and its own. A rodsadmin
 * gets it, lists it and stats it; a user sees and stats nothing of it (strict
 * ACL policy); no one creates, changes, moves or removes anything at `/`,
 * and `/` shows no one anything below it that they may not read.
 *
 * Passes only with the server (src/irods, `taskflow store serve`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledOps, requireIrodsClient, type ClientOpResult, type IrodsAccount } from '../support/irods-client.js';
import { startIrodsStore, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';

const Z = `/${TEST_ZONE}`;
const ALICE_FILE = `${Z}/home/alice/a.txt`;
const RODS_FILE = `${Z}/home/rods/r.txt`;

let server: IrodsStoreServer | undefined;
let rods: IrodsAccount;
let alice: IrodsAccount;


/** rods's view of `/`: what must stay as the catalog made it. */
async function rootAsRods(): Promise<Record<string, ClientOpResult>> {
  return labelledOps(rods, {
    collection: { op: 'collection', path: '/' },
    stat: { op: 'obj_stat', path: '/' },
    acl: { op: 'acl', path: '/', kind: 'c' },
    meta: { op: 'meta_get', path: '/', kind: 'c' },
  });
}

beforeAll(async () => {
  requireIrodsClient();
  server = await startIrodsStore({ users: [{ name: 'alice' }] });
  rods = server.admin;
  alice = server.accounts.get('alice')!;
  const setup = {
    ...(await labelledOps(alice, { write: { op: 'write', path: ALICE_FILE, content: 'alice' } })),
    ...(await labelledOps(rods, { write: { op: 'write', path: RODS_FILE, content: 'rods' } })),
  };
  const failed = Object.entries(setup).filter(([, r]) => !r.ok);
  if (failed.length) throw new Error(`setting up failed: ${JSON.stringify(failed)}`);
}, 120_000);

afterAll(async () => {
  await server?.dispose();
});

describe('the root collection / over iRODS', { timeout: 180_000 }, () => {
  it('rods gets / with the zone collection (and /, as the iCAT lists it) among its subcollections, and stats it as a collection', async () => {
    const r = await rootAsRods();
    expect(r.collection, JSON.stringify(r.collection)).toEqual({
      op: 'collection',
      ok: true,
      value: { path: '/', subcollections: ['/', Z], data_objects: [] },
    });
    expect(r.stat, JSON.stringify(r.stat)).toEqual({ op: 'obj_stat', ok: true, value: { objType: '2', ownerName: 'rods', ownerZone: TEST_ZONE } });
    expect(r.acl, JSON.stringify(r.acl)).toEqual({ op: 'acl', ok: true, value: [['rods', 'own']] });
    expect(r.meta, JSON.stringify(r.meta)).toEqual({ op: 'meta_get', ok: true, value: [] });
  });

  it('alice, who holds nothing on /, neither gets nor stats it, even with read on the zone; / shows her only what she may read', async () => {
    const grant = await labelledOps(rods, { zone: { op: 'chmod', path: Z, level: 'read', user: 'public' } });
    expect(grant.zone, JSON.stringify(grant.zone)).toMatchObject({ ok: true });
    const r = await labelledOps(alice, {
      collection: { op: 'collection', path: '/' },
      stat: { op: 'obj_stat', path: '/' },
      zone: { op: 'obj_stat', path: Z },
      names: { op: 'query_names', path: '/' },
    });
    expect(r.collection, JSON.stringify(r.collection)).toMatchObject({ ok: false, error: 'CollectionDoesNotExist' });
    expect(r.stat, JSON.stringify(r.stat)).toMatchObject({ ok: false, error: 'USER_FILE_DOES_NOT_EXIST' });
    expect(r.zone, JSON.stringify(r.zone)).toEqual({ op: 'obj_stat', ok: true, value: { objType: '2', ownerName: 'rods', ownerZone: TEST_ZONE } });
    expect(r.names, JSON.stringify(r.names)).toEqual({ op: 'query_names', ok: true, value: [ALICE_FILE] });
    const all = await labelledOps(rods, { names: { op: 'query_names', path: '/' } });
    expect(all.names, JSON.stringify(all.names)).toEqual({ op: 'query_names', ok: true, value: [ALICE_FILE, RODS_FILE] });
  });

  it('no one creates, changes, moves or removes anything at /: not alice, not rods, its owner', async () => {
    const before = await rootAsRods();
    expect(before.collection.ok, JSON.stringify(before.collection)).toBe(true);
    for (const who of [alice, rods]) {
      const own = who === rods ? RODS_FILE : ALICE_FILE;
      const r = await labelledOps(who, {
        'make /': { op: 'mkdir', path: '/' },
        'make a collection in /': { op: 'mkdir', path: '/elsewhere' },
        'write an object in /': { op: 'write', path: '/x.txt', content: 'x' },
        'move an object into /': { op: 'rename', path: own, dest: '/' },
        'give alice own on /': { op: 'chmod', path: '/', level: 'own', user: 'alice' },
        'give alice own on / and below': { op: 'chmod', path: '/', level: 'own', user: 'alice', recursive: true },
        'let / inherit': { op: 'chmod', path: '/', level: 'inherit' },
        'add metadata to /': { op: 'meta_add', path: '/', kind: 'c', attribute: 'a', value: 'v' },
        'remove /': { op: 'rmdir', path: '/' },
      });
      const wrong = Object.entries(r)
        .filter(([, x]) => x.ok || !['USER_INPUT_PATH_ERR', 'SYS_INVALID_ZONE_NAME'].includes(x.error))
        .map(([label, x]) => `${label}: ${JSON.stringify(x)}`);
      expect(wrong, `as ${who.user}`).toEqual([]);
    }
    expect(await rootAsRods()).toEqual(before);
    const still = await labelledOps(rods, { alice: { op: 'read', path: ALICE_FILE }, rods: { op: 'read', path: RODS_FILE } });
    expect(still).toMatchObject({ alice: { ok: true, value: 'alice' }, rods: { ok: true, value: 'rods' } });
    const zone = await labelledOps(rods, { acl: { op: 'acl', path: Z, kind: 'c' } });
    // (python-irodsclient 0.8.1 lists a group's entry once per member: public's read shows as alice's too)
    expect(zone.acl.ok && (zone.acl.value as string[][]).filter(([u, level]) => u === 'alice' && level === 'own'), JSON.stringify(zone.acl)).toEqual([]);
  });
});
