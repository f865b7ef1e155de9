import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { obfuscatePassword } from '../../src/irods/admin/password-obfuscation.js';
import { adminRoutes } from '../../src/irods/api/admin.js';
import type { ApiContext } from '../../src/irods/server/api.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest } from '../support/store-helpers.js';
import { python } from './admin-support.js';
import { call, handlerContext, irodsError } from './support/handler-context.js';

const Z = '/testZone';
const [route, userAdminRoute] = adminRoutes;
const SIGNATURE = '5f2e0c9a7b1d4e3f8a6b2c1d0e9f8a7b';

let s: EmbeddedStore;
let rods: ApiContext;
let alice: ApiContext;
storePerTest(async (t) => {
  s = t.store;
  s.setPassword('rods', 'rods-secret');
  await s.createPrincipal('alice', 'rodsuser');
  await s.createPrincipal('lab', 'rodsgroup');
  rods = await handlerContext(s, 'rods', { clientSignature: SIGNATURE });
  alice = await handlerContext(s, 'alice', { clientSignature: SIGNATURE });
});

/** The ten arguments `arg0`…`arg9` of an admin request as python-irodsclient packs them, empty ones ''. */
function tenArgs(values: readonly string[]): Record<string, string> {
  const body: Record<string, string> = {};
  for (let i = 0; i < 10; i++) body[`arg${i}`] = values[i] ?? '';
  return body;
}

// generalAdminInp_PI as python-irodsclient 0.8.1's GeneralAdminRequest packs it
function admin(ctx: ApiContext, ...values: string[]) {
  return call(route!, ctx, 'generalAdminInp_PI', tenArgs(values));
}
const typeOf = async (name: string) => {
  const p = await s.getPrincipal(name);
  return p?.kind === 'group' ? 'rodsgroup' : p?.userType;
};

describe('GENERAL_ADMIN_AN 701', () => {
  it('serves API 701 to rodsadmins only, before reading the request', async () => {
    expect(route!.api).toBe(701);
    for (const req of [
      ['add', 'user', 'eve', 'rodsuser', '', ''],
      ['rm', 'user', 'alice', ''],
      ['modify', 'user', 'alice', 'type', 'rodsadmin'],
      ['modify', 'group', 'lab', 'add', 'alice', ''],
      ['nonsense'],
    ]) {
      expect(await irodsError(admin(alice, ...req))).toBe('SYS_NO_API_PRIV');
    }
    expect(await s.getPrincipal('eve')).toBeNull();
    expect(await typeOf('alice')).toBe('rodsuser');
  });

  it('creates a user with its home and trash collections, owned by it', async () => {
    await admin(rods, 'add', 'user', 'bobby', 'rodsuser', '', '');
    expect(await typeOf('bobby')).toBe('rodsuser');
    for (const home of [`${Z}/home/bobby`, `${Z}/trash/home/bobby`]) {
      expect(await s.stat(home)).toMatchObject({ type: 'collection', owner: 'bobby' });
      expect(await s.getAcl(home)).toEqual([{ name: 'bobby', kind: 'user', level: 'own' }]);
    }
    expect((await s.stat(`${Z}/trash/home`))?.owner).toBe('rods');
    // name#zone and the zone argument, when they name this zone
    await admin(rods, 'add', 'user', 'carol#testZone', 'rodsadmin', 'testZone', '');
    expect(await typeOf('carol')).toBe('rodsadmin');
  });

  it('creates groups both ways clients ask, with their homes', async () => {
    await admin(rods, 'add', 'user', 'test_group', 'rodsgroup', '', '');
    await admin(rods, 'add', 'group', 'other_group', '', '', '');
    expect(await typeOf('test_group')).toBe('rodsgroup');
    expect(await typeOf('other_group')).toBe('rodsgroup');
    expect(await s.getAcl(`${Z}/home/test_group`)).toEqual([{ name: 'test_group', kind: 'group', level: 'own' }]);
  });

  it('refuses taken names, leftover homes, bad names, types, zones and a group with a DN, changing nothing', async () => {
    expect(await irodsError(admin(rods, 'add', 'user', 'alice', 'rodsuser', '', ''))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect(await irodsError(admin(rods, 'add', 'user', 'lab', 'rodsgroup', '', ''))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    await s.createCollection(`${Z}/home/dave`);
    expect(await irodsError(admin(rods, 'add', 'user', 'dave', 'rodsuser', '', ''))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect(await s.getPrincipal('dave')).toBeNull();
    expect(await s.stat(`${Z}/trash/home/dave`)).toBeNull();
    expect(await irodsError(admin(rods, 'add', 'user', 'eve', 'superuser', '', ''))).toBe('CAT_INVALID_USER_TYPE');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve', '', '', ''))).toBe('CAT_INVALID_USER_TYPE');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve', 'groupadmin', '', ''))).toBe('CAT_INVALID_USER_TYPE');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve smith', 'rodsuser', '', ''))).toBe('USER_INVALID_USERNAME_FORMAT');
    expect(await irodsError(admin(rods, 'add', 'user', '..', 'rodsuser', '', ''))).toBe('USER_INVALID_USERNAME_FORMAT');
    expect(await irodsError(admin(rods, 'add', 'user', 'e'.repeat(64), 'rodsuser', '', ''))).toBe('USER_INVALID_USERNAME_FORMAT');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve', 'rodsuser', 'otherZone', ''))).toBe('CAT_INVALID_ZONE');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve#otherZone', 'rodsuser', 'testZone', ''))).toBe('CAT_INVALID_ZONE');
    expect(await irodsError(admin(rods, 'add', 'user', 'eve', 'rodsgroup', '', '/C=DE/CN=eve'))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'add', 'user', 'client_user', 'rodsuser', '', ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await s.getPrincipal('eve')).toBeNull();
  });

  it('removes a user or group with its empty homes; a home with content keeps everything', async () => {
    await admin(rods, 'add', 'user', 'bobby', 'rodsuser', '', '');
    await admin(rods, 'add', 'user', 'test_group', 'rodsgroup', '', '');
    await s.addGroupMember('test_group', 'bobby');
    await s.setAccess(`${Z}/home/bobby`, 'alice', 'read');
    await s.putObject(`${Z}/home/bobby/f`, Readable.from([Buffer.from('x')]), { owner: 'bobby' });
    expect(await irodsError(admin(rods, 'rm', 'user', 'bobby', ''))).toBe('CAT_COLLECTION_NOT_EMPTY');
    expect(await typeOf('bobby')).toBe('rodsuser');
    expect(await s.stat(`${Z}/trash/home/bobby`)).not.toBeNull();
    await s.removeObject(`${Z}/home/bobby/f`);
    await admin(rods, 'rm', 'user', 'bobby', 'testZone');
    expect(await s.getPrincipal('bobby')).toBeNull();
    expect(await s.stat(`${Z}/home/bobby`)).toBeNull();
    expect(await s.stat(`${Z}/trash/home/bobby`)).toBeNull();
    expect(await s.groupMembers('test_group')).toEqual([]);
    // python-irodsclient 0.8.1 removes a group with `rm user`; 4.3 clients say `rm group`
    await admin(rods, 'rm', 'user', 'test_group', '');
    expect(await s.getPrincipal('test_group')).toBeNull();
    expect(await s.stat(`${Z}/home/test_group`)).toBeNull();
    await admin(rods, 'rm', 'group', 'lab', '');
    expect(await s.getPrincipal('lab')).toBeNull();
  });

  it('answers removals of unknown principals, of itself and of the admin as a server does', async () => {
    expect(await irodsError(admin(rods, 'rm', 'user', 'nobody', ''))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'rm', 'user', 'alice', 'otherZone'))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'rm', 'group', 'alice', ''))).toBe('CAT_INVALID_GROUP');
    expect(await irodsError(admin(rods, 'rm', 'group', 'nogroup', ''))).toBe('CAT_INVALID_GROUP');
    expect(await irodsError(admin(rods, 'rm', 'user', 'rods', ''))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    await s.createPrincipal('root2', 'rodsadmin');
    const root2 = await handlerContext(s, 'root2');
    expect(await irodsError(admin(root2, 'rm', 'user', 'rods', ''))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(admin(root2, 'rm', 'group', 'public', ''))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await typeOf('rods')).toBe('rodsadmin');
    expect(await typeOf('alice')).toBe('rodsuser');
  });

  it('changes a user type, by name or name#zone, never to or from a group', async () => {
    await admin(rods, 'modify', 'user', 'alice', 'type', 'rodsadmin', '');
    expect(await typeOf('alice')).toBe('rodsadmin');
    await admin(rods, 'modify', 'user', 'alice#testZone', 'type', 'rodsuser', '');
    expect(await typeOf('alice')).toBe('rodsuser');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'type', 'rodsgroup'))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(admin(rods, 'modify', 'user', 'lab', 'type', 'rodsuser'))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'type', 'wizard'))).toBe('CAT_INVALID_USER_TYPE');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'type', ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'user', 'nobody', 'type', 'rodsadmin'))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice#otherZone', 'type', 'rodsadmin'))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'modify', 'user', 'rods', 'type', 'rodsuser'))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await typeOf('alice')).toBe('rodsuser');
    expect(await typeOf('rods')).toBe('rodsadmin');
  });

  it('sets a password the client obfuscated with the caller\'s password and the connection signature', async () => {
    const horrible = 'abc123!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~Z';
    await admin(rods, 'modify', 'user', 'alice', 'password', obfuscatePassword(horrible, 'rods-secret', SIGNATURE, '~'), '');
    expect(s.passwordOf('alice')).toBe(horrible);
    // obfuscated with another password or on another connection: nothing changes
    const wrong = obfuscatePassword('other', 'not-the-password', SIGNATURE);
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'password', wrong))).toBe('CAT_PASSWORD_ENCODING_ERROR');
    const elsewhere = obfuscatePassword('other', 'rods-secret', '0'.repeat(32));
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'password', elsewhere))).toBe('CAT_PASSWORD_ENCODING_ERROR');
    const long = obfuscatePassword('p'.repeat(43), 'rods-secret', SIGNATURE);
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'password', long))).toBe('PASSWORD_EXCEEDS_MAX_SIZE');
    expect(s.passwordOf('alice')).toBe(horrible);
    const forGroup = obfuscatePassword('x', 'rods-secret', SIGNATURE);
    expect(await irodsError(admin(rods, 'modify', 'user', 'lab', 'password', forGroup))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(admin(rods, 'modify', 'user', 'nobody', 'password', forGroup))).toBe('CAT_INVALID_USER');
  });

  it('lets a user change its own password through USER_ADMIN_AN 714 (ipasswd), and nothing else; a rodsadmin anything modify user takes', async () => {
    // userAdminInp_PI as python-irodsclient 3.3.0's UserAdminRequest packs it
    const userAdmin = (ctx: ApiContext, ...values: string[]) => call(userAdminRoute!, ctx, 'userAdminInp_PI', tenArgs(values));
    await s.createPrincipal('bob', 'rodsuser');
    await s.setPassword('alice', 'alice-old');
    await s.setPassword('bob', 'bob-secret');
    const own = obfuscatePassword('alice-new', 'alice-old', SIGNATURE);
    expect(await irodsError(userAdmin(alice, 'userpw', 'bob', 'password', own))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(userAdmin(alice, 'userpw', 'alice', 'type', 'rodsadmin'))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(userAdmin(alice, 'mkuser', 'mallory', '', ''))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(userAdmin(alice, 'frobnicate'))).toBe('CAT_INVALID_ARGUMENT');
    expect([s.passwordOf('bob'), await typeOf('alice'), await s.getPrincipal('mallory')]).toEqual(['bob-secret', 'rodsuser', null]);
    await userAdmin(alice, 'userpw', 'alice', 'password', own);
    expect(s.passwordOf('alice')).toBe('alice-new');
    await userAdmin(rods, 'userpw', 'bob', 'password', obfuscatePassword('bob-new', 'rods-secret', SIGNATURE));
    expect(s.passwordOf('bob')).toBe('bob-new');
    await userAdmin(rods, 'mkgroup', 'crew');
    await userAdmin(rods, 'modify', 'group', 'crew', 'add', 'bob', '');
    expect((await s.getPrincipal('crew'))?.kind).toBe('group');
    expect(await s.groupMembers('crew')).toEqual(['bob']);
  });

  it('sets the password python-irodsclient 0.8.1 sends, so the user can log in with it', async () => {
    const wanted = 'new pass#1';
    const [sent] = python<string[]>(
      'import sys, json\nfrom irods.password_obfuscation import obfuscate_new_password\nprint(json.dumps([obfuscate_new_password(*json.load(sys.stdin))]))',
      [wanted, 'rods-secret', SIGNATURE],
    );
    expect(s.passwordOf('alice')).toBeNull();
    await admin(rods, 'modify', 'user', 'alice', 'password', sent!, '');
    // native authentication proves exactly this stored password
    expect(s.passwordOf('alice')).toBe(wanted);
  });

  it('adds and removes group members, answering repeats as a catalog does', async () => {
    await admin(rods, 'modify', 'group', 'lab', 'add', 'alice', '');
    expect(await s.groupMembers('lab')).toEqual(['alice']);
    expect(await irodsError(admin(rods, 'modify', 'group', 'lab', 'add', 'alice', 'testZone'))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    await admin(rods, 'modify', 'group', 'lab', 'remove', 'alice', '');
    expect(await s.groupMembers('lab')).toEqual([]);
    expect(await irodsError(admin(rods, 'modify', 'group', 'lab', 'remove', 'alice', ''))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect(await irodsError(admin(rods, 'modify', 'group', 'nogroup', 'add', 'alice', ''))).toBe('CAT_INVALID_GROUP');
    expect(await irodsError(admin(rods, 'modify', 'group', 'alice', 'add', 'rods', ''))).toBe('CAT_INVALID_GROUP');
    expect(await irodsError(admin(rods, 'modify', 'group', 'lab', 'add', 'nobody', ''))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'modify', 'group', 'lab', 'add', 'alice', 'otherZone'))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'modify', 'group', 'lab', 'join', 'alice', ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'group', 'public', 'remove', 'alice', ''))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await s.groupMembers('lab')).toEqual([]);
  });

  it('keeps the info and comment of a user or group under either option name, as iRODS 4.2.12 db_mod_user_op does', async () => {
    await admin(rods, 'modify', 'user', 'alice', 'info', 'in room 7');
    await admin(rods, 'modify', 'user', 'alice', 'r_comment', 'ask first');
    await admin(rods, 'modify', 'user', 'lab', 'user_info', 'the lab');
    await admin(rods, 'modify', 'user', 'lab', 'comment', 'x'.repeat(1000));
    const notes = (await s.dump()).filter((l) => /"t":"(user|group)"/.test(l) && /"(info|comment)":/.test(l));
    expect(notes).toEqual([
      JSON.stringify({ t: 'group', name: 'lab', info: 'the lab', comment: 'x'.repeat(1000) }),
      JSON.stringify({ t: 'user', name: 'alice', type: 'rodsuser', info: 'in room 7', comment: 'ask first' }),
    ]);
    // an empty value clears it, as an update of the column to '' does
    await admin(rods, 'modify', 'user', 'alice', 'comment', '');
    expect(await s.dump()).toContain(JSON.stringify({ t: 'user', name: 'alice', type: 'rodsuser', info: 'in room 7' }));
    const before = await s.dump();
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'info', 'y'.repeat(1001)))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'user', 'nobody', 'info', 'z'))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(alice, 'modify', 'user', 'alice', 'info', 'mine'))).toBe('SYS_NO_API_PRIV');
    expect(await s.dump()).toEqual(before);
  });

  it('names what the store does not hold, and refuses what it does not know', async () => {
    for (const req of [
      ['modify', 'user', 'alice', 'zone', 'otherZone'],
      ['add', 'resource', 'c1', 'compound', '', ''],
      ['modify', 'resource', 'demoResc', 'comment', 'x'],
      ['add', 'childtoresc', 'c1', 'demoResc'],
      ['set-quota', 'user', 'alice', 'total', '10'],
    ]) {
      expect(await irodsError(admin(rods, ...req))).toBe('SYS_NOT_SUPPORTED');
    }
    // no AVU here is ever left unused: the request succeeds with nothing to do, and only for rodsadmins
    expect(await admin(rods, 'rm', 'unusedAVUs')).toEqual({});
    expect(await irodsError(admin(alice, 'rm', 'unusedAVUs'))).toBe('SYS_NO_API_PRIV');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'colour', 'blue'))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'frobnicate', 'user'))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods))).toBe('CAT_INVALID_ARGUMENT');
  });
});
