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
  await s.createUser('alice');
  await s.createUser('bob');
  await s.createGroup('omics_project_x');
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
    expect(await s.getAccess(`${Z}/p`, 'alice')).toBe('own');
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    expect(await s.getAccess(`${Z}/p`, 'alice')).toBe('read');
    await s.setAccess(`${Z}/p`, 'alice', 'null');
    expect(await s.getAccess(`${Z}/p`, 'alice')).toBe('null');
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
      expect(await s.getAccess(p, 'omics_project_x')).toBe('write');
    }
    expect(await s.getAccess(`${Z}/p2`, 'omics_project_x')).toBe('null');
    expect(await s.getAccess(Z, 'omics_project_x')).toBe('null');
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read', { recursive: true });
    expect(await s.getAccess(`${Z}/p/a/b/f`, 'omics_project_x')).toBe('read');
    expect(await s.getAccess(`${Z}/p/g`, 'omics_project_x')).toBe('write');
    await s.setAccess(`${Z}/p`, 'omics_project_x', 'null', { recursive: true });
    for (const e of await s.list(`${Z}/p`, { recursive: true })) {
      expect(await s.getAccess(e.path, 'omics_project_x')).toBe('null');
    }
    // Not recursive: only the path itself.
    await s.setAccess(`${Z}/p`, 'bob', 'read');
    expect(await s.getAccess(`${Z}/p/a`, 'bob')).toBe('null');
    // Recursive on an object is just the object.
    await s.setAccess(`${Z}/p/g`, 'bob', 'read', { recursive: true });
    expect(await s.getAccess(`${Z}/p/g`, 'bob')).toBe('read');
  });

  it('bulk reads give, in input order, what the single reads give', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.putObject(`${Z}/p/a/f`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'bob', 'write', { recursive: true });
    await s.setAccess(`${Z}/p/a/f`, 'bob', 'read');
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read');
    const paths = [`${Z}/p/a/f`, `${Z}/p`, `${Z}/p/a/`, `${Z}/home`];
    const single = await Promise.all(paths.map((p) => s.getAccess(p, 'bob')));
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

  it('moveMany with revoke drops those names from the moved objects in the same call, and only there', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.createCollection(`${Z}/p/b`);
    for (const f of ['f1', 'f2', 'stay']) await s.putObject(`${Z}/p/a/${f}`, Readable.from(['x']));
    await s.setAccess(`${Z}/p/a`, 'bob', 'write', { recursive: true });
    await s.setAccess(`${Z}/p/a`, 'alice', 'own', { recursive: true });
    await s.setAccess(`${Z}/p/a`, 'omics_project_x', 'read', { recursive: true });
    await s.moveMany(
      ['f1', 'f2'].map((f) => ({ src: `${Z}/p/a/${f}`, dst: `${Z}/p/b/${f}` })),
      { revoke: ['bob', 'alice'] },
    );
    for (const f of ['f1', 'f2']) {
      expect((await s.getAcl(`${Z}/p/b/${f}`)).map((a) => `${a.name}:${a.level}`)).toEqual(['omics_project_x:read', 'rods:own']);
    }
    expect(await s.getAccess(`${Z}/p/a/stay`, 'bob')).toBe('write');
    expect(await s.getAccess(`${Z}/p/a`, 'alice')).toBe('own');
  });

  it('an ACL travels with a moved entry', async () => {
    await s.createCollection(`${Z}/p/a`, { parents: true });
    await s.setAccess(`${Z}/p/a`, 'bob', 'write');
    await s.move(`${Z}/p/a`, `${Z}/home/a`);
    expect(await s.getAccess(`${Z}/home/a`, 'bob')).toBe('write');
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
      expect(await s.getAccess(p, 'omics_project_x')).toBe('read');
    }
  });

  it('copies the ACL as it is when the child is created, not later changes', async () => {
    await s.createCollection(`${Z}/p`);
    await s.setInheritance(`${Z}/p`, true);
    await s.putObject(`${Z}/p/before`, Readable.from(['x']));
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    await s.putObject(`${Z}/p/after`, Readable.from(['x']));
    expect(await s.getAccess(`${Z}/p/before`, 'alice')).toBe('null');
    expect(await s.getAccess(`${Z}/p/after`, 'alice')).toBe('read');
  });

  it('does nothing without the flag, and can be switched off and set recursively', async () => {
    await s.createCollection(`${Z}/p/a/b`, { parents: true });
    await s.setAccess(`${Z}/p`, 'alice', 'read');
    await s.createCollection(`${Z}/p/c`);
    expect(await s.getAccess(`${Z}/p/c`, 'alice')).toBe('null');
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
      expect(await s.getAccess(p, 'omics_project_x')).toBe('read');
    }
  });

  it('is for collections only', async () => {
    await s.putObject(`${Z}/f`, Readable.from(['x']));
    const err = await caught(() => s.setInheritance(`${Z}/f`, true));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain('collection');
  });
});

describe('access counts and exceptions', () => {
  async function tree(): Promise<void> {
    await s.createCollection(`${Z}/z/a`, { parents: true });
    for (const p of ['z/a/f1', 'z/a/f2', 'z/f3', 'z/f4']) await s.putObject(`${Z}/${p}`, Readable.from([p]));
    await s.setAccess(`${Z}/z`, 'alice', 'read', { recursive: true });
    await s.setAccess(`${Z}/z/a/f2`, 'alice', 'own');
    await s.setAccess(`${Z}/z/f4`, 'alice', 'null');
    await s.setAccess(`${Z}/z/a`, 'omics_project_x', 'write');
  }

  it('counts each level of each name over a subtree, the root included', async () => {
    await tree();
    // z, z/a, z/a/f1, z/a/f2, z/f3, z/f4
    expect(await s.countAccess(`${Z}/z`, ['alice', 'omics_project_x', 'nobody'], { recursive: true })).toEqual({
      entries: 6,
      levels: [
        [1, 4, 0, 1],
        [5, 0, 1, 0],
        [6, 0, 0, 0],
      ],
    });
    expect(await s.countAccess(`${Z}/z`, [], { recursive: true })).toEqual({ entries: 6, levels: [] });
    expect(await s.countAccess(`${Z}/z`, ['alice'])).toEqual({ entries: 1, levels: [[0, 1, 0, 0]] });
    expect(await s.countAccess(`${Z}/z/f4`, ['alice'], { recursive: true })).toEqual({ entries: 1, levels: [[1, 0, 0, 0]] });
    expect(await s.countAccess(`${Z}/missing`, ['alice'], { recursive: true })).toEqual({ entries: 0, levels: [[0, 0, 0, 0]] });
  });

  it('lists the entries at another level in path order, the root first, a page at a time', async () => {
    await tree();
    const all = [
      { path: `${Z}/z/a/f2`, level: 'own' },
      { path: `${Z}/z/f4`, level: 'null' },
    ];
    expect(await s.listAccessExceptions(`${Z}/z`, 'alice', 'read', { recursive: true })).toEqual(all);
    expect(await s.listAccessExceptions(`${Z}/z`, 'alice', 'own', { recursive: true })).toEqual([
      { path: `${Z}/z`, level: 'read' },
      { path: `${Z}/z/a`, level: 'read' },
      { path: `${Z}/z/a/f1`, level: 'read' },
      { path: `${Z}/z/f3`, level: 'read' },
      { path: `${Z}/z/f4`, level: 'null' },
    ]);
    const first = await s.listAccessExceptions(`${Z}/z`, 'alice', 'own', { recursive: true, limit: 2 });
    expect(first.map((e) => e.path)).toEqual([`${Z}/z`, `${Z}/z/a`]);
    const next = await s.listAccessExceptions(`${Z}/z`, 'alice', 'own', { recursive: true, after: first[1].path, limit: 2 });
    expect(next.map((e) => e.path)).toEqual([`${Z}/z/a/f1`, `${Z}/z/f3`]);
    expect(await s.listAccessExceptions(`${Z}/z`, 'alice', 'read')).toEqual([]);
    expect(await s.listAccessExceptions(`${Z}/z`, 'omics_project_x', 'null')).toEqual([]);
    expect(await s.listAccessExceptions(`${Z}/missing`, 'alice', 'read', { recursive: true })).toEqual([]);
    await expect(s.listAccessExceptions(`${Z}/z`, 'alice', 'all' as 'own')).rejects.toThrow(RangeError);
  });
});
