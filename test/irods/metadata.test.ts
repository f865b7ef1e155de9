import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { metadataRoutes } from '../../src/irods/api/metadata.js';
import type { ApiContext } from '../../src/irods/server/api.js';
import type { PiNode } from '../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { args } from './admin-support.js';
import { call, irodsError } from './support/handler-context.js';
import { usersPerTest } from './support/objects-context.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const OBJ = `${HOME}/f.txt`;
const [route] = metadataRoutes;

let s: EmbeddedStore;
let alice: ApiContext;
let bob: ApiContext;
let rods: ApiContext;
// HOME is alice's home, which usersPerTest makes hers
usersPerTest(async (u) => {
  s = u.store;
  alice = u.alice.ctx;
  bob = u.bob.ctx;
  rods = u.rods.ctx;
  await s.createPrincipal('lab', 'rodsgroup');
  await put(OBJ, 'data', 'alice');
});

const put = (path: string, text: string, owner: string) => s.putObject(path, Readable.from([Buffer.from(text)]), { owner });
// ModAVUMetadataInp_PI as python-irodsclient 0.8.1's MetadataRequest packs it
const meta = (ctx: ApiContext, body: PiNode) => call(route!, ctx, 'ModAVUMetadataInp_PI', body);

describe('MOD_AVU_METADATA_AN 706', () => {
  it('serves API 706', () => {
    expect(route!.api).toBe(706);
  });

  it('adds, sets and removes AVUs on a data object and a collection', async () => {
    await meta(alice, args('add', '-d', OBJ, 'a', '1', ''));
    await meta(alice, args('add', '-d', OBJ, 'a', '2', 'kg'));
    await meta(alice, args('add', '-c', HOME, 'c', 'x', ''));
    await meta(alice, args('add', '-C', HOME, 'c', 'y', ''));
    expect(await s.getMetadata(OBJ)).toEqual([
      { attribute: 'a', value: '1', unit: '' },
      { attribute: 'a', value: '2', unit: 'kg' },
    ]);
    await meta(alice, args('set', '-d', OBJ, 'a', '3', ''));
    expect(await s.getMetadata(OBJ)).toEqual([{ attribute: 'a', value: '3', unit: '' }]);
    await meta(alice, args('rm', '-d', OBJ, 'a', '3', ''));
    await meta(alice, args('rm', '-C', HOME, 'c', 'x', ''));
    expect(await s.getMetadata(OBJ)).toEqual([]);
    expect(await s.getMetadata(HOME)).toEqual([{ attribute: 'c', value: 'y', unit: '' }]);
  });

  it('answers a duplicate add and the removal of an absent AVU as a catalog does', async () => {
    await meta(alice, args('add', '-d', OBJ, 'a', '1', 'u'));
    expect(await irodsError(meta(alice, args('add', '-d', OBJ, 'a', '1', 'u')))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect(await irodsError(meta(alice, args('rm', '-d', OBJ, 'a', '1', '')))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect(await s.getMetadata(OBJ)).toEqual([{ attribute: 'a', value: '1', unit: 'u' }]);
  });

  it('keeps unicode values as they came', async () => {
    await meta(alice, args('add', '-d', OBJ, 'attr2', '☭⛷★⚽', ''));
    expect(await s.getMetadata(OBJ)).toEqual([{ attribute: 'attr2', value: '☭⛷★⚽', unit: '' }]);
  });

  it('needs write on the item: none and read are refused, write directly or through a group is enough', async () => {
    expect(await irodsError(meta(bob, args('add', '-d', OBJ, 'a', '1', '')))).toBe('CAT_NO_ACCESS_PERMISSION');
    await s.setAccess(OBJ, 'bob', 'read');
    expect(await irodsError(meta(bob, args('add', '-d', OBJ, 'a', '1', '')))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(meta(bob, args('rm', '-d', OBJ, 'a', '1', '')))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.getMetadata(OBJ)).toEqual([]);
    await s.setAccess(OBJ, 'bob', 'write');
    await meta(bob, args('add', '-d', OBJ, 'a', '1', ''));
    await s.setAccess(OBJ, 'bob', 'null');
    await s.addGroupMember('lab', 'bob');
    await s.setAccess(OBJ, 'lab', 'write');
    await meta(bob, args('add', '-d', OBJ, 'a', '2', ''));
    // a rodsadmin may change any item's metadata
    await meta(rods, args('set', '-d', OBJ, 'a', '3', ''));
    expect(await s.getMetadata(OBJ)).toEqual([{ attribute: 'a', value: '3', unit: '' }]);
  });

  it('answers an item of the wrong kind or none as unknown, and refuses paths outside the zone', async () => {
    expect(await irodsError(meta(alice, args('add', '-d', HOME, 'a', '1', '')))).toBe('CAT_UNKNOWN_FILE');
    expect(await irodsError(meta(alice, args('add', '-C', OBJ, 'a', '1', '')))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(meta(alice, args('add', '-d', `${HOME}/none`, 'a', '1', '')))).toBe('CAT_UNKNOWN_FILE');
    expect(await irodsError(meta(alice, args('add', '-d', '/otherZone/x', 'a', '1', '')))).toBe('USER_INPUT_PATH_ERR');
  });

  it('refuses empty arguments, unknown types and operations', async () => {
    expect(await irodsError(meta(alice, args('add', '-d', OBJ, 'a', '', '')))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(meta(alice, args('add', '-d', OBJ, '', '1', '')))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(meta(alice, args('add', '-x', OBJ, 'a', '1', '')))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(meta(alice, args('frob', '-d', OBJ, 'a', '1', '')))).toBe('CAT_INVALID_ARGUMENT');
    expect(await irodsError(meta(alice, args('mod', '-d', OBJ, 'a', '1', '', 'n:b')))).toBe('SYS_NOT_SUPPORTED');
    expect(await irodsError(meta(alice, {}))).toBe('CAT_INVALID_ARGUMENT');
  });

  it('keeps the admin mode and user and resource metadata to rodsadmins; the store holds neither', async () => {
    expect(await irodsError(meta(alice, args('adda', '-d', OBJ, 'a', '1', '')))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(
      await irodsError(meta(alice, { ...args('add', '-d', OBJ, 'a', '1', ''), KeyValPair_PI: { ssLen: '1', keyWord: 'irodsAdmin', svalue: '' } })),
    ).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    await meta(rods, args('adda', '-d', OBJ, 'a', '1', ''));
    expect(await s.getMetadata(OBJ)).toEqual([{ attribute: 'a', value: '1', unit: '' }]);
    expect(await irodsError(meta(alice, args('add', '-u', 'bob', 'a', '1', '')))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(meta(rods, args('add', '-u', 'nobody', 'a', '1', '')))).toBe('CAT_INVALID_USER');
    expect(await irodsError(meta(rods, args('add', '-u', 'bob', 'a', '1', '')))).toBe('SYS_NOT_SUPPORTED');
    expect(await irodsError(meta(alice, args('add', '-R', 'demoResc', 'a', '1', '')))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await irodsError(meta(rods, args('add', '-R', 'demoResc', 'a', '1', '')))).toBe('SYS_NOT_SUPPORTED');
    expect(await irodsError(meta(rods, args('add', '-R', 'nosuch', 'a', '1', '')))).toBe('CAT_INVALID_RESOURCE');
  });

  it('copies all AVUs (cp) with read on the source and write on the target, all or none', async () => {
    const other = `${HOME}/g.txt`;
    await put(other, 'more', 'alice');
    await meta(alice, args('add', '-d', OBJ, 'a', '1', ''));
    await meta(alice, args('add', '-d', OBJ, 'b', '2', 'u'));
    await meta(alice, args('cp', '-d', '-d', OBJ, other));
    expect(await s.getMetadata(other)).toEqual(await s.getMetadata(OBJ));
    // the target holds one of them now: the whole copy fails and adds nothing
    await meta(alice, args('add', '-d', OBJ, 'c', '3', ''));
    expect(await irodsError(meta(alice, args('cp', '-d', '-d', OBJ, other)))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect((await s.getMetadata(other)).map((a) => a.attribute)).toEqual(['a', 'b']);
    // to a collection; from an item without AVUs there is nothing to copy
    await meta(alice, args('cp', '-d', '-C', OBJ, HOME));
    expect((await s.getMetadata(HOME)).map((a) => a.attribute)).toEqual(['a', 'b', 'c']);
    await put(`${HOME}/empty`, '', 'alice');
    expect(await irodsError(meta(alice, args('cp', '-d', '-d', `${HOME}/empty`, other)))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    // bob may read the source but not write the target, then write a target of his own
    await s.setAccess(OBJ, 'bob', 'read');
    await put(`${Z}/home/bobs`, 'b', 'bob');
    expect(await irodsError(meta(bob, args('cp', '-d', '-d', OBJ, other)))).toBe('CAT_NO_ACCESS_PERMISSION');
    await meta(bob, args('cp', '-d', '-d', OBJ, `${Z}/home/bobs`));
    expect(await irodsError(meta(bob, args('cp', '-d', '-d', other, `${Z}/home/bobs`)))).toBe('CAT_NO_ACCESS_PERMISSION');
  });

  it('removes by LIKE pattern (rmw), case-sensitively as a catalog does', async () => {
    for (const [a, v, u] of [
      ['sample_1', 'x', ''],
      ['sample_2', 'y', 'kg'],
      ['Sample_3', 'z', ''],
      ['other', 'x', ''],
      ['star*', 'q', ''],
    ]) {
      await meta(alice, args('add', '-d', OBJ, a!, v!, u!));
    }
    await meta(alice, args('rmw', '-d', OBJ, 'sample%', '%', '%'));
    expect((await s.getMetadata(OBJ)).map((a) => a.attribute)).toEqual(['Sample_3', 'other', 'star*']);
    await meta(alice, args('rmw', '-d', OBJ, 'star*', '_', ''));
    expect((await s.getMetadata(OBJ)).map((a) => a.attribute)).toEqual(['Sample_3', 'other']);
    expect(await irodsError(meta(alice, args('rmw', '-d', OBJ, 'nothing%', '%', '%')))).toBe('CAT_SUCCESS_BUT_WITH_NO_INFO');
    expect(await irodsError(meta(bob, args('rmw', '-d', OBJ, '%', '%', '%')))).toBe('CAT_NO_ACCESS_PERMISSION');
  });
});
