import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { accessRoutes } from '../../src/irods/api/access.js';
import type { ApiContext } from '../../src/irods/server/api.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest } from '../support/store-helpers.js';
import { call, handlerContext, irodsError } from './support/handler-context.js';

const Z = '/testZone';
const C = `${Z}/home/alice/c`;
const OBJ = `${C}/f.txt`;
const [route] = accessRoutes;

let s: EmbeddedStore;
let alice: ApiContext;
let bob: ApiContext;
let rods: ApiContext;
const put = (path: string, owner: string) => s.putObject(path, Readable.from([Buffer.from('x')]), { owner });
storePerTest(async (t) => {
  s = t.store;
  await s.createPrincipal('alice', 'rodsuser');
  await s.createPrincipal('bob', 'rodsuser');
  await s.createPrincipal('lab', 'rodsgroup');
  await s.createCollection(`${Z}/home/alice`, { owner: 'alice' });
  await s.createCollection(`${C}/sub`, { owner: 'alice', parents: true });
  await put(OBJ, 'alice');
  await put(`${C}/sub/g.txt`, 'alice');
  alice = await handlerContext(s, 'alice');
  bob = await handlerContext(s, 'bob');
  rods = await handlerContext(s, 'rods');
});

// modAccessControlInp_PI as python-irodsclient 0.8.1's ModAclRequest packs it
function chmod(ctx: ApiContext, level: string, userName: string, path: string, opts: { recursive?: boolean; zone?: string } = {}) {
  return call(route!, ctx, 'modAccessControlInp_PI', {
    recursiveFlag: opts.recursive ? '1' : '0',
    accessLevel: level,
    userName,
    zone: opts.zone ?? '',
    path,
  });
}
const levelOf = async (path: string, name: string) => (await s.getAccessMany([path], name))[0];

describe('MOD_ACCESS_CONTROL_AN 707', () => {
  it('serves API 707', () => {
    expect(route!.api).toBe(707);
  });

  it('sets, changes and removes a level on an object and a collection, under every name clients use', async () => {
    await chmod(alice, 'read', 'bob', OBJ);
    expect(await levelOf(OBJ, 'bob')).toBe('read');
    await chmod(alice, 'write', 'bob', OBJ, { zone: 'testZone' });
    expect(await levelOf(OBJ, 'bob')).toBe('write');
    await chmod(alice, 'own', 'lab', C);
    expect(await levelOf(C, 'lab')).toBe('own');
    for (const [name, level] of [
      ['read_object', 'read'],
      ['modify_object', 'write'],
      ['read object', 'read'],
      ['modify object', 'write'],
    ] as const) {
      await chmod(alice, name, 'bob', C);
      expect(await levelOf(C, 'bob')).toBe(level);
    }
    await chmod(alice, 'null', 'bob', C);
    expect(await levelOf(C, 'bob')).toBe('null');
    // the rest of the collection is untouched without recursion
    expect(await levelOf(OBJ, 'lab')).toBe('null');
  });

  it('needs own on the path: none, read and write are refused, own through a group is enough', async () => {
    expect(await irodsError(chmod(bob, 'read', 'bob', OBJ))).toBe('CAT_NO_ACCESS_PERMISSION');
    await s.setAccess(OBJ, 'bob', 'write');
    expect(await irodsError(chmod(bob, 'own', 'bob', OBJ))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(chmod(bob, 'inherit', '', C))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await levelOf(OBJ, 'bob')).toBe('write');
    await s.addGroupMember('lab', 'bob');
    await s.setAccess(OBJ, 'lab', 'own');
    await chmod(bob, 'read', 'alice', OBJ);
    expect(await levelOf(OBJ, 'alice')).toBe('read');
    // a rodsadmin changes anyone's access anywhere
    await chmod(rods, 'own', 'alice', OBJ);
    expect(await levelOf(OBJ, 'alice')).toBe('own');
  });

  it('recursively changes every entry below, those the caller does not own included, as the iRODS catalog does', async () => {
    // an entry below alice's collection that she has no access on at all
    await put(`${C}/sub/rods.txt`, 'rods');
    await s.setAccess(`${C}/sub/rods.txt`, 'alice', 'null');
    await chmod(alice, 'read', 'bob', C, { recursive: true });
    const entries = [C, `${C}/sub`, OBJ, `${C}/sub/g.txt`, `${C}/sub/rods.txt`];
    expect(await s.getAccessMany(entries, 'bob')).toEqual(entries.map(() => 'read'));
    await chmod(alice, 'null', 'bob', `${C}/sub`, { recursive: true });
    expect(await s.getAccessMany(entries, 'bob')).toEqual(['read', 'null', 'read', 'null', 'null']);
    expect(await irodsError(chmod(alice, 'read', 'bob', OBJ, { recursive: true }))).toBe('CAT_INVALID_ARGUMENT');
  });

  it('sets inheritance on collections only, recursively on request', async () => {
    await chmod(alice, 'inherit', '', C);
    expect((await s.stat(C))?.inherit).toBe(true);
    expect((await s.stat(`${C}/sub`))?.inherit).toBe(false);
    await chmod(alice, 'inherit', '', C, { recursive: true });
    expect((await s.stat(`${C}/sub`))?.inherit).toBe(true);
    await chmod(alice, 'noinherit', '', C);
    expect((await s.stat(C))?.inherit).toBe(false);
    expect((await s.stat(`${C}/sub`))?.inherit).toBe(true);
    expect(await irodsError(chmod(alice, 'inherit', '', OBJ))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(chmod(alice, 'inherit', '', `${C}/none`))).toBe('CAT_NO_ACCESS_PERMISSION');
  });

  it('keeps the admin mode to rodsadmins', async () => {
    expect(await irodsError(chmod(alice, 'admin:read', 'bob', OBJ))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await levelOf(OBJ, 'bob')).toBe('null');
    await chmod(rods, 'admin:write', 'bob', OBJ);
    expect(await levelOf(OBJ, 'bob')).toBe('write');
    await chmod(rods, 'admin:inherit', '', C);
    expect((await s.stat(C))?.inherit).toBe(true);
  });

  it('answers unknown users, paths and levels as a server does', async () => {
    expect(await irodsError(chmod(alice, 'read', 'nobody', OBJ))).toBe('CAT_INVALID_USER');
    expect(await irodsError(chmod(alice, 'read', '', OBJ))).toBe('CAT_INVALID_USER');
    expect(await irodsError(chmod(alice, 'read', 'bob', OBJ, { zone: 'otherZone' }))).toBe('CAT_INVALID_USER');
    expect(await irodsError(chmod(alice, 'read', 'bob', `${C}/none`))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(chmod(alice, 'read', 'bob', 'relative/path'))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(chmod(alice, 'readish', 'bob', OBJ))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(chmod(alice, 'delete_object', 'bob', OBJ))).toBe('CAT_INVALID_ARGUMENT');
    expect(await s.getAcl(OBJ)).toEqual([{ name: 'alice', kind: 'user', level: 'own' }]);
  });
});
