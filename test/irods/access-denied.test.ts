/**
 * Permissions as an iRODS server enforces them, through python-irodsclient
 * 0.8.1 against the store's iRODS server: bob, without access to alice's
 * collection, can neither see nor change it, one check per kind of
 * operation, and alice's data stays as it was; read access lets him list and
 * read and nothing more; write lets him write but not change access; access
 * through a group counts as his own.
 *
 * Passes only with the server (src/irods, `taskflow store serve`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledOps, requireIrodsClient, type ClientOp, type ClientOpResult, type IrodsAccount } from '../support/irods-client.js';
import { startIrodsStore, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';

const Z = TEST_ZONE;
const HOME_A = `/${Z}/home/alice`;
const P = `${HOME_A}/private`;
const F = `${P}/secret.txt`;
const CONTENT = 'alice only';

/** python-irodsclient exceptions of a refused operation: a permission error. */
const DENIED = ['CAT_NO_ACCESS_PERMISSION', 'SYS_NO_API_PRIV', 'CAT_INSUFFICIENT_PRIVILEGE_LEVEL', 'USER_ACCESS_DENIED'];
/** … or the path looks absent to someone who may not see it (as GenQuery hides it). */
const HIDDEN = ['CollectionDoesNotExist', 'DataObjectDoesNotExist', 'CAT_NO_ROWS_FOUND', 'OBJ_PATH_DOES_NOT_EXIST', 'CAT_UNKNOWN_COLLECTION', 'CAT_UNKNOWN_FILE', 'USER_FILE_DOES_NOT_EXIST'];

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
let carol: IrodsAccount;


/** Every result refused: not done, and refused with a permission or not-found error (never a crash or an unknown code). */
function expectAllRefused(results: Record<string, ClientOpResult>): void {
  const wrong = Object.entries(results)
    .filter(([, r]) => r.ok || ![...DENIED, ...HIDDEN].includes(r.error))
    .map(([label, r]) => `${label}: ${JSON.stringify(r)}`);
  expect(wrong).toEqual([]);
}

/** Operations that change alice's collection, for a user who may not. */
function changes(who: string): Record<string, ClientOp> {
  return {
    'write a new object': { op: 'write', path: `${P}/${who}.txt`, content: 'intruder' },
    'create an empty object': { op: 'create', path: `${P}/${who}-empty.txt` },
    'overwrite her object': { op: 'write', path: F, content: 'overwritten' },
    'make a collection': { op: 'mkdir', path: `${P}/${who}-dir` },
    'rename her object': { op: 'rename', path: F, dest: `/${Z}/home/${who}/stolen.txt` },
    'add metadata': { op: 'meta_add', path: F, kind: 'd', attribute: 'by', value: who },
    'add collection metadata': { op: 'meta_add', path: P, kind: 'c', attribute: 'by', value: who },
    'give himself own on the object': { op: 'chmod', path: F, level: 'own', user: who },
    'give himself own on the collection': { op: 'chmod', path: P, level: 'own', user: who, recursive: true },
    'remove her object': { op: 'unlink', path: F },
    'remove her collection': { op: 'rmdir', path: P },
  };
}

/** Alice's view of her collection: unchanged by anyone else. */
async function expectUntouched(extraNames: string[] = []): Promise<void> {
  const r = await labelledOps(alice, {
    list: { op: 'list', path: P },
    read: { op: 'read', path: F },
    meta: { op: 'meta_get', path: F, kind: 'd' },
    collMeta: { op: 'meta_get', path: P, kind: 'c' },
    acl: { op: 'acl', path: F, kind: 'd' },
  });
  expect(r.list.ok && (r.list.value as string[]).sort(), JSON.stringify(r.list)).toEqual(['secret.txt', 'sub', ...extraNames].sort());
  expect(r.read, JSON.stringify(r.read)).toMatchObject({ ok: true, value: CONTENT });
  expect(r.meta, JSON.stringify(r.meta)).toMatchObject({ ok: true, value: [['kind', 'secret']] });
  expect(r.collMeta, JSON.stringify(r.collMeta)).toMatchObject({ ok: true, value: [] });
  expect(r.acl.ok && (r.acl.value as string[][]).filter(([u, level]) => u !== 'alice' && level === 'own'), JSON.stringify(r.acl)).toEqual([]);
  const stolen = await labelledOps(bob, { stat: { op: 'stat', path: `/${Z}/home/bob/stolen.txt` } });
  expect(stolen.stat, 'no renamed copy in his home').toMatchObject({ ok: false, error: 'DataObjectDoesNotExist' });
}

beforeAll(async () => {
  requireIrodsClient();
  server = await startIrodsStore({ users: [{ name: 'alice' }, { name: 'bob' }, { name: 'carol' }], groups: { team: ['carol'] } });
  alice = server.accounts.get('alice')!;
  bob = server.accounts.get('bob')!;
  carol = server.accounts.get('carol')!;
  const setup = await labelledOps(alice, {
    mkdir: { op: 'mkdir', path: P },
    sub: { op: 'mkdir', path: `${P}/sub` },
    write: { op: 'write', path: F, content: CONTENT },
    meta: { op: 'meta_add', path: F, kind: 'd', attribute: 'kind', value: 'secret' },
  });
  const failed = Object.entries(setup).filter(([, r]) => !r.ok);
  if (failed.length) throw new Error(`alice could not set up her collection: ${JSON.stringify(failed)}`);
}, 120_000);

afterAll(async () => {
  await server?.dispose();
});

describe("another user's collection over iRODS", { timeout: 180_000 }, () => {
  it('without access: bob can neither list, see, read, nor change anything in it', async () => {
    const reads = await labelledOps(bob, {
      'list her collection': { op: 'list', path: P },
      'stat her object': { op: 'stat', path: F },
      'read her object': { op: 'read', path: F },
      'read her ACL': { op: 'acl', path: F, kind: 'd' },
    });
    expectAllRefused(reads);

    // GenQuery answers, but with nothing of hers
    const queries = await labelledOps(bob, {
      'query her names': { op: 'query_names', path: HOME_A },
      'query her metadata': { op: 'meta_get', path: F, kind: 'd' },
      'list her home': { op: 'list', path: HOME_A },
    });
    for (const [label, r] of Object.entries(queries)) {
      if (r.ok) expect(r.value, `${label} shows nothing of hers`).toEqual([]);
      else expect([...DENIED, ...HIDDEN], `${label}: ${JSON.stringify(r)}`).toContain(r.error);
    }

    expectAllRefused(await labelledOps(bob, changes('bob')));
    await expectUntouched();
  });

  it('with read: bob lists and reads, and still changes nothing', async () => {
    const grant = await labelledOps(alice, { read: { op: 'chmod', path: P, level: 'read', user: 'bob', recursive: true } });
    expect(grant.read, JSON.stringify(grant.read)).toMatchObject({ ok: true });

    const reads = await labelledOps(bob, {
      list: { op: 'list', path: P },
      read: { op: 'read', path: F },
      query: { op: 'query_names', path: HOME_A },
    });
    expect(reads.list.ok && (reads.list.value as string[]).sort(), JSON.stringify(reads.list)).toEqual(['secret.txt', 'sub']);
    expect(reads.read, JSON.stringify(reads.read)).toMatchObject({ ok: true, value: CONTENT });
    expect(reads.query, JSON.stringify(reads.query)).toMatchObject({ ok: true, value: [F] });

    expectAllRefused(await labelledOps(bob, changes('bob')));
    await expectUntouched();
  });

  it("read through a group: carol, in team, reads what team may; bob's grant is not hers", async () => {
    const before = await labelledOps(carol, { read: { op: 'read', path: F } });
    expectAllRefused(before);
    const grant = await labelledOps(alice, { team: { op: 'chmod', path: P, level: 'read', user: 'team', recursive: true } });
    expect(grant.team, JSON.stringify(grant.team)).toMatchObject({ ok: true });
    const after = await labelledOps(carol, { read: { op: 'read', path: F } });
    expect(after.read, JSON.stringify(after.read)).toMatchObject({ ok: true, value: CONTENT });
    expectAllRefused(await labelledOps(carol, { overwrite: { op: 'write', path: F, content: 'carol' } }));
  });

  it('with write: bob writes into it, but cannot take ownership or change access', async () => {
    const grant = await labelledOps(alice, { write: { op: 'chmod', path: P, level: 'write', user: 'bob', recursive: true } });
    expect(grant.write, JSON.stringify(grant.write)).toMatchObject({ ok: true });

    const writes = await labelledOps(bob, {
      new: { op: 'write', path: `${P}/bob.txt`, content: 'from bob' },
      overwrite: { op: 'write', path: F, content: 'edited by bob' },
    });
    expect(writes.new, JSON.stringify(writes.new)).toMatchObject({ ok: true });
    expect(writes.overwrite, JSON.stringify(writes.overwrite)).toMatchObject({ ok: true });
    const seen = await labelledOps(alice, { read: { op: 'read', path: F }, bobs: { op: 'read', path: `${P}/bob.txt` } });
    expect(seen.read).toMatchObject({ ok: true, value: 'edited by bob' });
    // bob owns what he created; without inheritance on the collection alice
    // gets no entry on it, so, as on an iRODS server, she cannot read it
    expect(seen.bobs.ok, JSON.stringify(seen.bobs)).toBe(false);
    expect([...DENIED, ...HIDDEN]).toContain(seen.bobs.ok ? '' : seen.bobs.error);
    const bobsOwn = await labelledOps(bob, { bobs: { op: 'read', path: `${P}/bob.txt` } });
    expect(bobsOwn.bobs).toMatchObject({ ok: true, value: 'from bob' });

    expectAllRefused(
      await labelledOps(bob, {
        'own the object': { op: 'chmod', path: F, level: 'own', user: 'bob' },
        'own the collection': { op: 'chmod', path: P, level: 'own', user: 'bob', recursive: true },
        'let carol write': { op: 'chmod', path: F, level: 'write', user: 'carol' },
        'take alice off': { op: 'chmod', path: F, level: 'null', user: 'alice' },
      }),
    );
    const acl = await labelledOps(alice, { acl: { op: 'acl', path: F, kind: 'd' } });
    expect(acl.acl.ok && (acl.acl.value as string[][]).filter(([u]) => u === 'alice' || u === 'carol'), JSON.stringify(acl.acl)).toEqual([['alice', 'own']]);
  });
});
