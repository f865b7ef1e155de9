/**
 * Users' distinguished names through GENERAL_ADMIN_AN 701, as
 * python-irodsclient 0.8.1's `user.modify('addAuth' | 'rmAuth', DN)` and
 * `iadmin mkuser NAME TYPE DN` send them: kept in the order added, removed
 * one by one and with the user; refused for groups and non-admins.
 */
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/irods/api/admin.js';
import type { ApiContext } from '../../src/irods/server/api.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { call, irodsError } from './support/handler-context.js';
import { usersPerTest } from './support/objects-context.js';

const [route] = adminRoutes;
let s: EmbeddedStore;
let rods: ApiContext;
let alice: ApiContext;
usersPerTest(async (u) => {
  s = u.store;
  rods = u.rods.ctx;
  alice = u.alice.ctx;
  await s.createPrincipal('lab', 'rodsgroup');
});

// generalAdminInp_PI as python-irodsclient 0.8.1's GeneralAdminRequest packs it: ten arguments, empty ones ''
function admin(ctx: ApiContext, ...values: string[]) {
  const body: Record<string, string> = {};
  for (let i = 0; i < 10; i++) body[`arg${i}`] = values[i] ?? '';
  return call(route!, ctx, 'generalAdminInp_PI', body);
}

describe('distinguished names (modify user addAuth / rmAuth)', () => {
  it('adds names in order, adds one twice as once, and removes one of them', async () => {
    await admin(rods, 'add', 'user', 'testuser', 'rodsuser', '', '');
    expect(s.authNamesOf('testuser')).toEqual([]);
    await admin(rods, 'modify', 'user', 'testuser', 'addAuth', 'foo', '');
    await admin(rods, 'modify', 'user', 'testuser', 'addAuth', 'bar', '');
    await admin(rods, 'modify', 'user', 'testuser', 'addAuth', 'foo', '');
    expect(s.authNamesOf('testuser')).toEqual(['foo', 'bar']);
    await admin(rods, 'modify', 'user', 'testuser', 'rmAuth', 'foo', '');
    expect(s.authNamesOf('testuser')).toEqual(['bar']);
    // zone-qualified names, as the client sends them with a zone
    await admin(rods, 'modify', 'user', 'testuser#testZone', 'addAuth', '/C=DE/O=Lab/CN=Test User', 'testZone');
    expect(s.authNamesOf('testuser')).toEqual(['bar', '/C=DE/O=Lab/CN=Test User']);
  });

  it('removes a user\'s names with the user, so a new user of that name has none', async () => {
    await admin(rods, 'add', 'user', 'testuser', 'rodsuser', '', '');
    await admin(rods, 'modify', 'user', 'testuser', 'addAuth', 'foo', '');
    await admin(rods, 'rm', 'user', 'testuser', '');
    expect(s.authNamesOf('testuser')).toEqual([]);
    await admin(rods, 'add', 'user', 'testuser', 'rodsuser', '', '');
    expect(s.authNamesOf('testuser')).toEqual([]);
  });

  it('gives a new user the DN of mkuser', async () => {
    await admin(rods, 'add', 'user', 'eve', 'rodsuser', '', '/C=DE/CN=eve');
    expect(s.authNamesOf('eve')).toEqual(['/C=DE/CN=eve']);
  });

  it('answers as iRODS: a name not there, an empty name, no such user, a group, a non-admin; changing nothing', async () => {
    await admin(rods, 'modify', 'user', 'alice', 'addAuth', 'foo', '');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'rmAuth', 'bar', ''))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'addAuth', '', ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'rmAuth', '', ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'user', 'alice', 'addAuth', 'x'.repeat(1001), ''))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(admin(rods, 'modify', 'user', 'nobody', 'addAuth', 'foo', ''))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(rods, 'modify', 'user', 'lab', 'addAuth', 'foo', ''))).toBe('CAT_INVALID_USER');
    expect(await irodsError(admin(alice, 'modify', 'user', 'alice', 'addAuth', 'mine', ''))).toBe('SYS_NO_API_PRIV');
    expect(await irodsError(admin(alice, 'modify', 'user', 'alice', 'rmAuth', 'foo', ''))).toBe('SYS_NO_API_PRIV');
    expect(s.authNamesOf('alice')).toEqual(['foo']);
    expect(s.authNamesOf('lab')).toEqual([]);
  });

  it('shows names in the catalog dump, and leaves the password alone', async () => {
    s.setPassword('alice', 'alice-pw');
    await admin(rods, 'modify', 'user', 'alice', 'addAuth', '/CN=alice', '');
    expect(s.passwordOf('alice')).toBe('alice-pw');
    expect(await s.dump()).toContain(JSON.stringify({ t: 'dn', user: 'alice', name: '/CN=alice' }));
  });
});
