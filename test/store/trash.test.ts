import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, InvalidPathError, NotAllowedError, NotFoundError } from '../../src/store/index.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { caught, readAll, storePerTest } from '../support/store-helpers.js';

const Z = '/testZone';
const md5 = (b: string) => createHash('md5').update(b).digest('hex');
let s: EmbeddedStore;
storePerTest(async (opened) => {
  s = opened.store;
  await s.createPrincipal('alice', 'rodsuser');
  await s.createCollection(`${Z}/projects/ab/p1/sample_data`, { parents: true });
  await s.setInheritance(`${Z}/projects/ab/p1/sample_data`, true);
  await s.setAccess(`${Z}/projects/ab/p1`, 'alice', 'write', { recursive: true });
  await s.putObject(`${Z}/projects/ab/p1/sample_data/f.txt`, Readable.from(['data']));
  await s.modifyMetadata(`${Z}/projects/ab/p1/sample_data/f.txt`, 'add', { attribute: 'a', value: 'b', unit: '' });
  await s.modifyMetadata(`${Z}/projects/ab/p1`, 'add', { attribute: 'title', value: 'P1', unit: '' });
});

describe('trash', () => {
  it('moves an object under /<zone>/trash/home/rods and restores it exactly', async () => {
    const before = await s.dump();
    const tp = await s.trash(`${Z}/projects/ab/p1/sample_data/f.txt`);
    expect(tp).toBe(`${Z}/trash/home/rods/projects/ab/p1/sample_data/f.txt`);
    expect((await s.stat(`${Z}/projects/ab/p1/sample_data/f.txt`))?.type === 'object').toBe(false);
    expect(await s.checksum(tp, { verify: true })).toBe(md5('data'));
    await s.restore(tp, `${Z}/projects/ab/p1/sample_data/f.txt`);
    expect(await s.dump()).toEqual(before);
    expect((await readAll(await s.getObject(`${Z}/projects/ab/p1/sample_data/f.txt`))).toString()).toBe('data');
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('trashes a whole collection with ACLs, metadata, inheritance and bytes, and restores it', async () => {
    const before = await s.dump();
    const tp = await s.trash(`${Z}/projects/ab/p1`);
    expect(tp).toBe(`${Z}/trash/home/rods/projects/ab/p1`);
    expect(await s.stat(`${Z}/projects/ab/p1`)).toBeNull();
    expect((await s.stat(`${Z}/projects/ab`))?.type === 'collection').toBe(true);
    expect(await s.listObjectPaths(tp)).toEqual([`${tp}/sample_data/f.txt`]);
    expect((await s.getAccessMany([`${tp}/sample_data/f.txt`], 'alice'))[0]).toBe('write');
    await s.restore(tp, `${Z}/projects/ab/p1`);
    expect(await s.dump()).toEqual(before);
  });

  it('gives a unique name on a clash, and restores each', async () => {
    const p = `${Z}/projects/ab/p1/sample_data/f.txt`;
    const first = await s.trash(p);
    await s.putObject(p, Readable.from(['second']));
    const second = await s.trash(p);
    await s.putObject(p, Readable.from(['third']));
    const third = await s.trash(p);
    expect(second).toBe(`${first}.1`);
    expect(third).toBe(`${first}.2`);
    await s.restore(second, p);
    expect((await readAll(await s.getObject(p))).toString()).toBe('second');
    expect(await caught(() => s.restore(first, p))).toBeInstanceOf(AlreadyExistsError);
    await s.restore(first, `${Z}/projects/ab/p1/sample_data/first.txt`);
    expect((await readAll(await s.getObject(`${Z}/projects/ab/p1/sample_data/first.txt`))).toString()).toBe('data');
    expect((await s.stat(third))?.type === 'object').toBe(true);
  });

  it('trashes below a path where an object was trashed before', async () => {
    await s.createCollection(`${Z}/x`);
    await s.putObject(`${Z}/x/y`, Readable.from(['object y']));
    const first = await s.trash(`${Z}/x/y`);
    await s.createCollection(`${Z}/x/y`);
    await s.putObject(`${Z}/x/y/z`, Readable.from(['z']));
    const second = await s.trash(`${Z}/x/y/z`);
    expect(second).toBe(`${Z}/trash/home/rods/x/y.1/z`);
    expect((await s.stat(first))?.type === 'object').toBe(true);
    await s.restore(second, `${Z}/x/y/z`);
    expect(await s.stat(`${Z}/trash/home/rods/x/y.1`)).toBeNull();
    expect((await s.stat(first))?.type === 'object').toBe(true);
  });

  it('trashPathUnlessObjects lists the objects below a collection, or says where an empty one goes', async () => {
    const p1 = `${Z}/projects/ab/p1`;
    expect(await s.trashPathUnlessObjects(p1)).toEqual({ objects: [`${p1}/sample_data/f.txt`] });
    await s.trash(`${p1}/sample_data/f.txt`);
    // the path trashPathFor gives: the trash holds a p1 already (the trashed object's folders)
    expect(await s.trashPathUnlessObjects(p1)).toEqual({ trashPath: `${Z}/trash/home/rods/projects/ab/p1.1` });
    expect(await s.trashPathFor(p1)).toBe(`${Z}/trash/home/rods/projects/ab/p1.1`);
    const notFound = await caught(() => s.trashPathUnlessObjects(`${p1}/none`));
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect((notFound as NotFoundError).what).toBe('collection');
    await s.putObject(`${Z}/obj`, Readable.from(['x']));
    expect(((await caught(() => s.trashPathUnlessObjects(`${Z}/obj`))) as NotFoundError).what).toBe('collection');
    // objects are named first, as a listing before the trash path would; an empty protected collection is refused
    expect(await s.trashPathUnlessObjects(Z)).toMatchObject({ objects: expect.arrayContaining([`${Z}/obj`]) });
    expect(await caught(() => s.trashPathUnlessObjects(`${Z}/home`))).toBeInstanceOf(NotAllowedError);
  });

  it('refuses the zone collections, trash contents and non-trash restores', async () => {
    expect(await caught(() => s.trash(`${Z}/trash`))).toBeInstanceOf(NotAllowedError);
    expect(await caught(() => s.trash(Z))).toBeInstanceOf(NotAllowedError);
    const tp = await s.trash(`${Z}/projects/ab/p1/sample_data/f.txt`);
    expect(await caught(() => s.trash(tp))).toBeInstanceOf(NotAllowedError);
    expect(await caught(() => s.trash(`${Z}/none`))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.restore(`${Z}/projects/ab/p1`, `${Z}/home/p1`))).toBeInstanceOf(InvalidPathError);
    expect(await caught(() => s.restore(`${Z}/trash/../x`, `${Z}/home/p1`))).toBeInstanceOf(InvalidPathError);
    expect(await caught(() => s.restore(tp, `${Z}/missing/f.txt`))).toBeInstanceOf(NotFoundError);
    expect((await s.stat(tp))?.type === 'object').toBe(true);
  });
});
