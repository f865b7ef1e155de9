import { describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { StoreUnavailableError } from '../../src/store/index.js';
import { storePerTest } from '../support/store-helpers.js';

let s: EmbeddedStore;
storePerTest((opened) => {
  s = opened.store;
});

describe('isGroupMember', () => {
  it('agrees with groupMembers as members come and go', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('bob', 'rodsuser');
    await s.createPrincipal('g', 'rodsgroup');
    await s.createPrincipal('h', 'rodsgroup');
    await s.addGroupMember('g', 'alice');
    await s.addGroupMember('h', 'bob');
    expect(await s.isGroupMember('g', 'alice')).toBe(true);
    expect(await s.isGroupMember('g', 'bob')).toBe(false);
    expect(await s.isGroupMember('h', 'bob')).toBe(true);
    expect(await s.isGroupMember('h', 'alice')).toBe(false);
    await s.removeGroupMember('g', 'alice');
    expect(await s.isGroupMember('g', 'alice')).toBe(false);
    expect(await s.groupMembers('g')).toEqual([]);
  });

  it('reads a missing group or user as not a member instead of failing', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('g', 'rodsgroup');
    expect(await s.isGroupMember('nogroup', 'alice')).toBe(false);
    expect(await s.isGroupMember('g', 'nobody')).toBe(false);
    // A user is not a group: asking with the names swapped is not a membership.
    await s.addGroupMember('g', 'alice');
    expect(await s.isGroupMember('alice', 'g')).toBe(false);
  });

  it('forgets memberships of a removed user or group, also when one is recreated', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('g', 'rodsgroup');
    await s.addGroupMember('g', 'alice');
    await s.removePrincipal('alice', 'user');
    expect(await s.isGroupMember('g', 'alice')).toBe(false);
    await s.createPrincipal('alice', 'rodsuser');
    expect(await s.isGroupMember('g', 'alice')).toBe(false);
    await s.addGroupMember('g', 'alice');
    await s.removePrincipal('g', 'group');
    await s.createPrincipal('g', 'rodsgroup');
    expect(await s.isGroupMember('g', 'alice')).toBe(false);
  });

  it('answers for one member of a large group', async () => {
    await s.createPrincipal('big', 'rodsgroup');
    for (let i = 0; i < 500; i++) {
      await s.createPrincipal(`u${i}`, 'rodsuser');
      await s.addGroupMember('big', `u${i}`);
    }
    await s.createPrincipal('outsider', 'rodsuser');
    expect(await s.isGroupMember('big', 'u0')).toBe(true);
    expect(await s.isGroupMember('big', 'u499')).toBe(true);
    expect(await s.isGroupMember('big', 'outsider')).toBe(false);
  });

  it('fails with StoreUnavailable once the store is closed', async () => {
    await s.close();
    await expect(s.isGroupMember('public', 'rods')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
