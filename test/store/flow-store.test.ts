/**
 * The calls FlowStore adds beside the ones it keeps (trash path chosen
 * first, per-principal ACL listing, one metadata call, one principal API),
 * through the interface type, and that each replaces its deprecated call.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, InvalidPathError, NotAllowedError, NotFoundError } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { caught, storePerTest, tempStore } from '../support/store-helpers.js';

const Z = '/testZone';
const P = `${Z}/projects/ab/p1`;
let embedded: EmbeddedStore;
let s: FlowStore & StoreAdmin;
storePerTest(async (opened) => {
  s = embedded = opened.store;
  await s.createPrincipal('alice', 'rodsuser');
  await s.createCollection(`${P}/sample_data/a`, { parents: true });
  await s.putObject(`${P}/sample_data/a/f1.txt`, Readable.from(['1']));
  await s.putObject(`${P}/sample_data/a/f2.txt`, Readable.from(['2']));
  await s.putObject(`${P}/sample_data/f3.txt`, Readable.from(['3']));
});

describe('trash at a path chosen first', () => {
  it('trashPathFor names the path trash then uses, and changes nothing', async () => {
    const f = `${P}/sample_data/f3.txt`;
    const before = await s.dump();
    const planned = await s.trashPathFor(f);
    expect(await s.dump()).toEqual(before);
    expect(planned).toBe(`${Z}/trash/home/rods/projects/ab/p1/sample_data/f3.txt`);
    expect(await s.trash(f)).toBe(planned);
    await s.putObject(f, Readable.from(['again']));
    const next = await s.trashPathFor(f);
    expect(next).toBe(`${planned}.1`);
    expect(await s.trash(f, { to: next })).toBe(next);
    expect((await s.stat(next))?.type).toBe('object');
    expect(await s.stat(f)).toBeNull();
  });

  it('trash to a chosen path creates its collections, and restore puts it back exactly', async () => {
    const before = await s.dump();
    const to = await s.trashPathFor(`${P}/sample_data/a`);
    await s.trash(`${P}/sample_data/a`, { to });
    expect(await s.listObjectPaths(to)).toEqual([`${to}/f1.txt`, `${to}/f2.txt`]);
    await s.restore(to, `${P}/sample_data/a`);
    expect(await s.dump()).toEqual(before);
  });

  it('refuses a chosen path that is taken or outside the trash, changing nothing', async () => {
    const f = `${P}/sample_data/f3.txt`;
    const to = await s.trashPathFor(f);
    await s.trash(`${P}/sample_data/a/f1.txt`, { to });
    const before = await s.dump();
    expect(await caught(() => s.trash(f, { to }))).toBeInstanceOf(AlreadyExistsError);
    expect(await caught(() => s.trash(f, { to: `${P}/elsewhere.txt` }))).toBeInstanceOf(InvalidPathError);
    expect(await s.dump()).toEqual(before);
  });

  it('trashPathFor refuses what trash refuses', async () => {
    expect(await caught(() => s.trashPathFor(`${P}/missing`))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.trashPathFor(`${Z}/home`))).toBeInstanceOf(NotAllowedError);
    const t = await s.trash(`${P}/sample_data/f3.txt`);
    expect(await caught(() => s.trashPathFor(t))).toBeInstanceOf(NotAllowedError);
  });
});

describe('listAccess', () => {
  it('lists the entries where a principal holds access, the root first, and leaves out the others', async () => {
    await s.setAccess(`${P}/sample_data`, 'alice', 'read', { recursive: true });
    await s.setAccess(`${P}/sample_data/a/f2.txt`, 'alice', 'null');
    await s.setAccess(`${P}/sample_data/f3.txt`, 'alice', 'write');
    expect(await s.listAccess(`${P}/sample_data`, 'alice', { recursive: true })).toEqual([
      { path: `${P}/sample_data`, level: 'read' },
      { path: `${P}/sample_data/a`, level: 'read' },
      { path: `${P}/sample_data/a/f1.txt`, level: 'read' },
      { path: `${P}/sample_data/f3.txt`, level: 'write' },
    ]);
    expect(await s.listAccess(`${P}/sample_data`, 'alice')).toEqual([{ path: `${P}/sample_data`, level: 'read' }]);
    expect(await s.listAccess(`${P}`, 'alice', { recursive: true })).toEqual(
      (await s.listAccess(`${P}/sample_data`, 'alice', { recursive: true })),
    );
    expect(await s.listAccess(`${P}/missing`, 'alice', { recursive: true })).toEqual([]);
  });

  it('pages: a walk of pages gives the whole listing once', async () => {
    await s.setAccess(P, 'alice', 'own', { recursive: true });
    const whole = await s.listAccess(P, 'alice', { recursive: true });
    expect(whole.length).toBe(6);
    const walked: typeof whole = [];
    let after: string | undefined;
    for (;;) {
      const page = await s.listAccess(P, 'alice', { recursive: true, limit: 2, ...(after ? { after } : {}) });
      walked.push(...page);
      if (page.length < 2) break;
      after = page[page.length - 1].path;
    }
    expect(walked).toEqual(whole);
  });
});

describe('modifyMetadata', () => {
  it('adds, sets and removes like imeta add, set and rm', async () => {
    const f = `${P}/sample_data/f3.txt`;
    await s.modifyMetadata(f, 'add', { attribute: 'k', value: '1', unit: '' });
    await s.modifyMetadata(f, 'add', { attribute: 'k', value: '2', unit: 'u' });
    expect(await caught(() => s.modifyMetadata(f, 'add', { attribute: 'k', value: '1', unit: '' }))).toBeInstanceOf(AlreadyExistsError);
    expect(await s.getMetadata(f)).toEqual([
      { attribute: 'k', value: '1', unit: '' },
      { attribute: 'k', value: '2', unit: 'u' },
    ]);
    await s.modifyMetadata(f, 'set', { attribute: 'k', value: '3', unit: '' });
    expect(await s.getMetadata(f)).toEqual([{ attribute: 'k', value: '3', unit: '' }]);
    await s.modifyMetadata(f, 'rm', { attribute: 'k', value: '3', unit: '' });
    expect(await s.getMetadata(f)).toEqual([]);
    expect(await caught(() => s.modifyMetadata(f, 'rm', { attribute: 'k', value: '3', unit: '' }))).toBeInstanceOf(NotFoundError);
    await expect(s.modifyMetadata(f, 'put' as never, { attribute: 'k', value: '3', unit: '' })).rejects.toBeInstanceOf(RangeError);
  });

  it('gives the same catalog as the deprecated add, set and remove calls', async () => {
    const other = tempStore();
    try {
      const o = other.store;
      for (const st of [embedded, o]) await st.createCollection(`${Z}/c`);
      await s.modifyMetadata(`${Z}/c`, 'add', { attribute: 'a', value: '1', unit: '' });
      await s.modifyMetadata(`${Z}/c`, 'set', { attribute: 'b', value: '2', unit: '' });
      await s.modifyMetadata(`${Z}/c`, 'add', { attribute: 'c', value: '3', unit: '' });
      await s.modifyMetadata(`${Z}/c`, 'rm', { attribute: 'c', value: '3', unit: '' });
      await o.modifyMetadata(`${Z}/c`, 'add', { attribute: 'a', value: '1', unit: '' });
      await o.modifyMetadata(`${Z}/c`, 'set', { attribute: 'b', value: '2', unit: '' });
      await o.modifyMetadata(`${Z}/c`, 'add', { attribute: 'c', value: '3', unit: '' });
      await o.modifyMetadata(`${Z}/c`, 'rm', { attribute: 'c', value: '3', unit: '' });
      expect(await s.getMetadata(`${Z}/c`)).toEqual(await o.getMetadata(`${Z}/c`));
    } finally {
      await other.cleanup();
    }
  });
});

describe('principals', () => {
  it('creates, finds, lists and removes users and groups through one API', async () => {
    await s.createPrincipal('admin2', 'rodsadmin');
    await s.createPrincipal('g1', 'rodsgroup');
    expect(await s.getPrincipal('alice')).toEqual({ name: 'alice', kind: 'user', userType: 'rodsuser' });
    expect(await s.getPrincipal('admin2')).toEqual({ name: 'admin2', kind: 'user', userType: 'rodsadmin' });
    expect(await s.getPrincipal('g1')).toEqual({ name: 'g1', kind: 'group' });
    expect(await s.getPrincipal('nobody')).toBeNull();
    expect((await s.listPrincipals('group')).map((p) => p.name)).toEqual(['g1', 'public']);
    expect((await s.listPrincipals('user')).map((p) => p.name)).toEqual(['admin2', 'alice', 'rods']);
    expect(await caught(() => s.createPrincipal('g1', 'rodsuser'))).toBeInstanceOf(AlreadyExistsError);
    await expect(s.createPrincipal('x', 'rodsbogus' as never)).rejects.toBeInstanceOf(RangeError);
    await s.addGroupMember('g1', 'alice');
    await s.setAccess(`${P}`, 'g1', 'read');
    expect(await caught(() => s.removePrincipal('g1', 'user'))).toBeInstanceOf(NotFoundError);
    await s.removePrincipal('g1', 'group');
    expect(await s.getPrincipal('g1')).toBeNull();
    expect((await s.getAcl(P)).map((a) => a.name)).not.toContain('g1');
    expect(await s.isGroupMember('g1', 'alice')).toBe(false);
    await s.removePrincipal('alice', 'user');
    expect(await s.getPrincipal('alice')).toBeNull();
    expect(await caught(() => s.removePrincipal('rods', 'user'))).toBeInstanceOf(NotAllowedError);
    expect(await caught(() => s.removePrincipal('public', 'group'))).toBeInstanceOf(NotAllowedError);
  });
});
