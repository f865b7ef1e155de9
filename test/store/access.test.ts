import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/store/index.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { caught, storePerTest, type TempStore } from '../support/store-helpers.js';

const Z = '/testZone';
let t: TempStore;
let s: EmbeddedStore;
storePerTest(async (opened) => {
  t = opened;
  s = opened.store;
  await s.createPrincipal('alice', 'rodsuser');
  await s.createPrincipal('bob', 'rodsuser');
  await s.createPrincipal('omics_project_x', 'rodsgroup');
});

describe('access levels', () => {
  it('sets, raises, lowers and removes a level; the ACL is sorted and typed', async () => {
    await s.createCollection(`${Z}/p`);
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'read');
    await s.setAccess(`${Z}/p`, 'bob', 'write');
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    expect(await s.getAcl(`${Z}/p`)).toEqual([
      { name: 'alice', kind: 'user', level: 'read' },
      { name: 'bob', kind: 'user', level: 'write' },
      { name: 'omics_project_x', kind: 'group', level: 'read' },
      { name: 'rods', kind: 'user', level: 'own' },
    ]);
    await s.setAccess(`${Z}/p`, 'alice', 'own');
    expect((await s.getAccessMany([`${Z}/p`], 'alice'))[0]).toBe('own');
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    expect((await s.getAccessMany([`${Z}/p`], 'alice'))[0]).toBe('read');
    await s.setAccess(`${Z}/p`, 'alice', 'null');
    expect((await s.getAccessMany([`${Z}/p`], 'alice'))[0]).toBe('null');
    await s.setAccess(`${Z}/p`, 'alice', 'null');
    expect((await s.getAcl(`${Z}/p`)).map((a) => a.name)).toEqual(['bob', 'omics_project_x', 'rods']);
  });

  it('names what is missing', async () => {
    let err = await caught(() => s.setAccess(`${Z}/none`, 'alice', 'read'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/none`);
    err = await caught(() => s.setAccess(`${Z}/home`, 'carol', 'read'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe('carol');
    await expect(s.setAccess(`${Z}/home`, 'alice', 'admin' as never)).rejects.toThrow(RangeError);
    expect(await caught(() => s.getAcl(`${Z}/none`))).toBeInstanceOf(NotFoundError);
  });

  it('recursive set and remove reach every collection and object below, and nothing beside', async () => {
    await s.createCollection(`${Z}/p/a/b`, { parents: true });
    await s.createCollection(`${Z}/p2`);
    await s.putObject(`${Z}/p/a/b/f`, Readable.from(['x']));
    await s.putObject(`${Z}/p/g`, Readable.from(['y']));
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'write', { recursive: true });
    for (const p of [`${Z}/p`, `${Z}/p/a`, `${Z}/p/a/b`, `${Z}/p/a/b/f`, `${Z}/p/g`]) {
      expect((await s.getAccessMany([p], 'omics_project_x'))[0]).toBe('write');
    }
    expect((await s.getAccessMany([`${Z}/p2`], 'omics_project_x'))[0]).toBe('null');
    expect((await s.getAccessMany([Z], 'omics_project_x'))[0]).toBe('null');
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read', { recursive: true });
    expect((await s.getAccessMany([`${Z}/p/a/b/f`], 'omics_project_x'))[0]).toBe('read');
    expect((await s.getAccessMany([`${Z}/p/g`], 'omics_project_x'))[0]).toBe('write');
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'null', { recursive: true });
    for (const e of await s.list(`${Z}/p`, { recursive: true })) {
      expect((await s.getAccessMany([e.path], 'omics_project_x'))[0]).toBe('null');
    }
    // Not recursive: only the path itself.
    await s.setAccess(`${Z}/p`, 'bob', 'read');
    expect((await s.getAccessMany([`${Z}/p/a`], 'bob'))[0]).toBe('null');
    // Recursive on an object is just the object.
    await s.setAccess(`${Z}/p/g`, 'bob', 'read', { recursive: true });
    expect((await s.getAccessMany([`${Z}/p/g`], 'bob'))[0]).toBe('read');
  });

  it('bulk reads give, in input order, what the single reads give', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.putObject(`${Z}/p/a/f`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'bob', 'write', { recursive: true });
    await s.setAccess(`${Z}/p/a/f`, 'bob', 'read');
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read');
    const paths = [`${Z}/p/a/f`, `${Z}/p`, `${Z}/p/a/`, `${Z}/home`];
    const single = await Promise.all(paths.map((p) => s.getAccessMany([p], 'bob').then((l) => l[0])));
    expect(single).toEqual(['read', 'write', 'write', 'null']);
    expect(await s.getAccessMany(paths, 'bob')).toEqual(single);
    expect(await s.getAccessMany([], 'bob')).toEqual([]);
    const err = await caught(() => s.getAccessMany([`${Z}/p`, `${Z}/none`], 'bob'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/none`);
  });

  it('listAcls gives a path and its subtree with their ACLs, as getAcl per entry does', async () => {
    await s.createCollection(`${Z}/p/a/empty`, { parents: true });
    await s.createCollection(`${Z}/p2`);
    await s.putObject(`${Z}/p/a/f`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'read', { recursive: true });
    await s.setAccess(`${Z}/p/a/f`, 'bob', 'write');
    await s.setAccess(`${Z}/p/a/empty`, 'rods', 'null');
    await s.setAccess(`${Z}/p/a/empty`, 'omics_project_x', 'null');
    const paths = [`${Z}/p`, ...(await s.list(`${Z}/p`, { recursive: true })).map((e) => e.path)];
    const expected = await Promise.all(paths.map(async (p) => ({ path: p, acl: await s.getAcl(p) })));
    expect(expected.find((e) => e.path === `${Z}/p/a/empty`)!.acl).toEqual([]);
    expect(await s.listAcls(`${Z}/p/`, { recursive: true })).toEqual(expected);
    expect(await s.listAcls(`${Z}/p`)).toEqual(expected.slice(0, 1));
    expect(await s.listAcls(`${Z}/p/a/f`, { recursive: true })).toEqual(expected.filter((e) => e.path === `${Z}/p/a/f`));
    expect(await s.listAcls(`${Z}/none`, { recursive: true })).toEqual([]);
  });

  it('setAccessMany sets or removes one level on exactly the listed paths, all or nothing', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    for (const f of ['f1', 'f2', 'f3']) await s.putObject(`${Z}/p/a/${f}`, Readable.from(['x']));
    await s.setAccessMany([`${Z}/p/a/f1`, `${Z}/p/a/f2`], 'bob', 'write');
    expect(await s.getAccessMany([`${Z}/p/a/f1`, `${Z}/p/a/f2`, `${Z}/p/a/f3`, `${Z}/p/a`], 'bob')).toEqual(['write', 'write', 'null', 'null']);
    await s.setAccessMany([`${Z}/p/a/f2`], 'bob', 'null');
    expect(await s.getAccessMany([`${Z}/p/a/f1`, `${Z}/p/a/f2`], 'bob')).toEqual(['write', 'null']);
    const dump = await s.dump();
    expect((await caught(() => s.setAccessMany([`${Z}/p/a/f3`, `${Z}/p/a/none`], 'bob', 'read'))).path).toBe(`${Z}/p/a/none`);
    expect((await caught(() => s.setAccessMany([`${Z}/p/a/f3`], 'carol', 'read'))).path).toBe('carol');
    expect(await s.dump()).toEqual(dump);
  });

  it('setAccesses sets several principals on a subtree at once, all or nothing', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.putObject(`${Z}/p/a/f`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'bob', 'write', { recursive: true });
    await s.setAccesses(`${Z}/p`, [{ name: 'alice', level: 'read' }, { name: 'bob', level: 'null' }], { recursive: true });
    for (const p of [`${Z}/p`, `${Z}/p/a`, `${Z}/p/a/f`]) {
      expect([(await s.getAccessMany([p], 'alice'))[0], (await s.getAccessMany([p], 'bob'))[0]]).toEqual(['read', 'null']);
    }
    const dump = await s.dump();
    expect((await caught(() => s.setAccesses(`${Z}/p`, [{ name: 'bob', level: 'own' }, { name: 'carol', level: 'read' }]))).path).toBe('carol');
    expect(await s.dump()).toEqual(dump);
  });

  it('accessCounts counts each principal\'s entries by level, as reading each entry does', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.createCollection(`${Z}/p2`);
    for (const f of ['f1', 'f2', 'f3']) await s.putObject(`${Z}/p/a/${f}`, Readable.from(['x']));
    await s.putObject(`${Z}/p2/g`, Readable.from(['y']));
    await s.setAccess(`${Z}/p`, 'alice', 'read', { recursive: true });
    await s.setAccess(`${Z}/p/a/f2`, 'alice', 'own');
    await s.setAccess(`${Z}/p/a/f3`, 'alice', 'null');
    await s.setAccess(`${Z}/p2`, 'bob', 'write', { recursive: true });
    const zero = { null: 0, read: 0, write: 0, own: 0 };
    // p, p/a, f1, f2, f3; p2 and its object beside are not counted
    expect(await s.accessCounts(`${Z}/p`, ['alice', 'bob'], { recursive: true })).toEqual({
      entries: 5,
      levels: [{ ...zero, read: 3, own: 1, null: 1 }, { ...zero, null: 5 }],
    });
    expect(await s.accessCounts(`${Z}/p`, ['alice'])).toEqual({ entries: 1, levels: [{ ...zero, read: 1 }] });
    expect(await s.accessCounts(`${Z}/p/a/f2`, ['alice'], { recursive: true })).toEqual({ entries: 1, levels: [{ ...zero, own: 1 }] });
    expect(await s.accessCounts(`${Z}/p2`, ['bob', 'nobody'], { recursive: true })).toEqual({
      entries: 2,
      levels: [{ ...zero, write: 2 }, { ...zero, null: 2 }],
    });
    expect(await s.accessCounts(`${Z}/none`, ['alice'], { recursive: true })).toEqual({ entries: 0, levels: [zero] });
  });

  it('moveMany then setAccessMany to null drops those names from the moved objects, and only there', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.createCollection(`${Z}/p/b`);
    for (const f of ['f1', 'f2', 'stay']) await s.putObject(`${Z}/p/a/${f}`, Readable.from(['x']));
    await s.setAccess(`${Z}/p/a`, 'bob', 'write', { recursive: true });
    await s.setAccess(`${Z}/p/a`, 'alice', 'own', { recursive: true });
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read', { recursive: true });
    const moves = ['f1', 'f2'].map((f) => ({ src: `${Z}/p/a/${f}`, dst: `${Z}/p/b/${f}` }));
    await s.moveMany(moves);
    for (const name of ['bob', 'alice']) await s.setAccessMany(moves.map((m) => m.dst), name, 'null');
    for (const f of ['f1', 'f2']) {
      expect((await s.getAcl(`${Z}/p/b/${f}`)).map((a) => `${a.name}:${a.level}`)).toEqual(['omics_project_x:read', 'rods:own']);
    }
    expect((await s.getAccessMany([`${Z}/p/a/stay`], 'bob'))[0]).toBe('write');
    expect((await s.getAccessMany([`${Z}/p/a`], 'alice'))[0]).toBe('own');
  });

  it('an ACL travels with a moved entry', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.setAccess(`${Z}/p/a`, 'bob', 'write');
    await s.move(`${Z}/p/a`, `${Z}/home/a`);
    expect((await s.getAccessMany([`${Z}/home/a`], 'bob'))[0]).toBe('write');
  });
});

describe('inheritance', () => {
  it('new children copy the ACL of an inheriting parent; sub-collections inherit the flag', async () => {
    await s.createCollection(`${Z}/p`);
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'read');
    await s.setAccess(`${Z}/p`, 'bob', 'write');
    await s.setInheritance(`${Z}/p`, true);
    expect((await s.stat(`${Z}/p`))!.inherit).toBe(true);

    await s.createCollection(`${Z}/p/sub`, { owner: 'alice' });
    expect((await s.stat(`${Z}/p/sub`))!.inherit).toBe(true);
    expect(await s.getAcl(`${Z}/p/sub`)).toEqual([
      { name: 'alice', kind: 'user', level: 'own' },
      { name: 'bob', kind: 'user', level: 'write' },
      { name: 'omics_project_x', kind: 'group', level: 'read' },
      { name: 'rods', kind: 'user', level: 'own' },
    ]);
    await s.putObject(`${Z}/p/sub/f`, Readable.from(['x']), { owner: 'bob' });
    expect(await s.getAcl(`${Z}/p/sub/f`)).toEqual([
      { name: 'alice', kind: 'user', level: 'own' },
      { name: 'bob', kind: 'user', level: 'own' },
      { name: 'omics_project_x', kind: 'group', level: 'read' },
      { name: 'rods', kind: 'user', level: 'own' },
    ]);
    // Parents created on the way inherit too, each from its own parent.
    await s.createCollection(`${Z}/p/x/y/z`, { parents: true });
    for (const p of [`${Z}/p/x`, `${Z}/p/x/y`, `${Z}/p/x/y/z`]) {
      expect((await s.stat(p))!.inherit).toBe(true);
      expect((await s.getAccessMany([p], 'omics_project_x'))[0]).toBe('read');
    }
  });

  it('copies the ACL as it is when the child is created, not later changes', async () => {
    await s.createCollection(`${Z}/p`);
    await s.setInheritance(`${Z}/p`, true);
    await s.putObject(`${Z}/p/before`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    await s.putObject(`${Z}/p/after`, Readable.from(['x']));
    expect((await s.getAccessMany([`${Z}/p/before`], 'alice'))[0]).toBe('null');
    expect((await s.getAccessMany([`${Z}/p/after`], 'alice'))[0]).toBe('read');
  });

  it('does nothing without the flag, and can be switched off and set recursively', async () => {
    await s.createCollection(`${Z}/p/a/b`, { parents: true });
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    await s.createCollection(`${Z}/p/c`);
    expect((await s.getAccessMany([`${Z}/p/c`], 'alice'))[0]).toBe('null');
    expect((await s.stat(`${Z}/p/c`))!.inherit).toBe(false);

    await s.setInheritance(`${Z}/p`, true, { recursive: true });
    for (const p of [`${Z}/p`, `${Z}/p/a`, `${Z}/p/a/b`, `${Z}/p/c`]) expect((await s.stat(p))!.inherit).toBe(true);
    expect((await s.stat(`${Z}/home`))!.inherit).toBe(false);
    await s.setInheritance(`${Z}/p`, false);
    expect((await s.stat(`${Z}/p`))!.inherit).toBe(false);
    expect((await s.stat(`${Z}/p/a`))!.inherit).toBe(true);
    await s.setInheritance(`${Z}/p`, false, { recursive: true });
    expect((await s.stat(`${Z}/p/a/b`))!.inherit).toBe(false);
  });

  it('applies to folder puts', async () => {
    await s.createCollection(`${Z}/p`);
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'read');
    await s.setInheritance(`${Z}/p`, true);
    const local = join(t.dir, 'tree');
    mkdirSync(join(local, 'd'), { recursive: true });
    writeFileSync(join(local, 'd', 'f'), 'x');
    await s.putTree(local, `${Z}/p/tree`);
    for (const p of [`${Z}/p/tree`, `${Z}/p/tree/d`, `${Z}/p/tree/d/f`]) {
      expect((await s.getAccessMany([p], 'omics_project_x'))[0]).toBe('read');
    }
  });

  it('is for collections only', async () => {
    await s.putObject(`${Z}/f`, Readable.from(['x']));
    const err = await caught(() => s.setInheritance(`${Z}/f`, true));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain('collection');
  });
});
