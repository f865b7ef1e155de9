/**
 * Store tasks one by one: exact undo values read by prepare, an apply that
 * fails part-way reverted with the same value, and reverts after a crash
 * (the apply done or not, the journaled undo alone) in the tricky cases.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLandingZone, ZoneValidationError } from '../../src/tasks/zone-check.js';
import * as store from '../../src/tasks/store-tasks.js';
import type { TaskContext } from '../../src/tasks/context.js';
import type { Json, Task } from '../../src/engine/types.js';
import { openWorld, type World } from '../flows/harness.js';

let w: World;
const Z = '/omicsZone/projects/ab/abc';
beforeEach(async () => {
  w = await openWorld();
  await w.store.createCollection(Z, { parents: true });
});
afterEach(async () => w.close());

const put = (path: string, content: string) => w.store.putObject(path, Readable.from([Buffer.from(content)]));

/** Prepares and applies a task as the engine does; returns the undo value (journaled before the apply). */
async function run(task: Task<TaskContext>, ctx: TaskContext = w.ctx): Promise<Json | undefined> {
  const undo = await task.prepare(ctx);
  await task.apply(ctx, undo);
  return undo;
}

/**
 * Reverting with the journaled `undo`, and reverting twice (a crash in the
 * first revert), and again after a crash right after a second apply with
 * the undo its prepare gave: each leaves the store as `before`.
 */
async function expectRevertsRestore(task: Task<TaskContext>, undo: Json, before: string[]): Promise<void> {
  await task.revert(w.ctx, undo);
  expect(await w.store.dump()).toEqual(before);
  await task.revert(w.ctx, undo);
  expect(await w.store.dump()).toEqual(before);
  const again = (await run(task))!;
  await task.revert(w.ctx, again);
  expect(await w.store.dump()).toEqual(before);
}

describe('store tasks', () => {
  it('createCollections removes what it created when a later path fails', async () => {
    await put(`${Z}/file`, 'x');
    const before = await w.store.dump();
    const task = store.createCollections('t', { paths: [`${Z}/a/b`, `${Z}/file/c`] });
    const undo = (await task.prepare(w.ctx))!;
    expect(undo).toEqual({ created: [`${Z}/a`, `${Z}/a/b`, `${Z}/file/c`] });
    await expect(Promise.resolve(task.apply(w.ctx, undo))).rejects.toThrow();
    // the engine reverts a task whose apply threw with the undo its prepare gave
    await task.revert(w.ctx, undo);
    expect(await w.store.dump()).toEqual(before);
  });

  it('createCollections refuses to remove a created collection someone filled (no silent data loss)', async () => {
    const task = store.createCollections('t', { paths: [`${Z}/new`] });
    const undo = (await run(task))!;
    await put(`${Z}/new/data`, 'd');
    await expect(Promise.resolve(task.revert(w.ctx, undo))).rejects.toThrow(/not empty/);
  });

  it('setAccess reverts mixed previous levels entry by entry', async () => {
    await w.store.createPrincipal('u', 'rodsuser');
    await put(`${Z}/f1`, '1');
    await put(`${Z}/f2`, '2');
    await w.store.setAccess(`${Z}/f1`, 'u', 'write');
    const before = await w.store.dump();
    const task = store.setAccess('t', { path: Z, name: 'u', level: 'read', recursive: true });
    const undo = (await run(task))!;
    expect(undo).toEqual({ level: 'null', except: { f1: 'write' } });
    expect((await w.store.getAccessMany([`${Z}/f2`], 'u'))[0]).toBe('read');
    await expectRevertsRestore(task, undo, before);
  });

  it('reads access with the store\'s count of levels, listing only the entries at another level', async () => {
    await w.store.createPrincipal('u', 'rodsuser');
    await put(`${Z}/f1`, '1');
    await put(`${Z}/f2`, '2');
    await w.store.setAccess(`${Z}/f1`, 'u', 'write');
    const calls: string[] = [];
    const counting = Object.assign(Object.create(w.store) as typeof w.store, {
      // the store's count of levels, and the start of each walk: of all entries, of access entries alone
      accessCounts(...args: Parameters<typeof w.store.accessCounts>) {
        calls.push(`count ${args[0]} ${args[1].join(',')}`);
        return w.store.accessCounts(...args);
      },
      list(...args: Parameters<typeof w.store.list>) {
        if (args[1]?.after === undefined) calls.push(`list ${args[0]}`);
        return w.store.list(...args);
      },
      listAccess(...args: Parameters<typeof w.store.listAccess>) {
        if (args[2]?.after === undefined) calls.push(`access ${args[0]} ${args[1]}`);
        return w.store.listAccess(...args);
      },
      listAcls(): never {
        throw new Error('a snapshot must not read every ACL');
      },
    });
    const before = await w.store.dump();
    const task = store.setAccess('t', { path: Z, name: 'u', level: 'read', recursive: true });
    const undo = (await run(task, { ...w.ctx, store: counting }))!;
    expect(undo).toEqual({ level: 'null', except: { f1: 'write' } });
    expect(calls).toEqual([`count ${Z} u`, `access ${Z} u`]);
    await task.revert(w.ctx, undo);
    expect(await w.store.dump()).toEqual(before);
    // one level throughout: the count alone
    calls.length = 0;
    await w.store.setAccess(Z, 'u', 'own', { recursive: true });
    expect(await store.setAccess('t', { path: Z, name: 'u', level: 'read', recursive: true }).prepare({ ...w.ctx, store: counting })).toEqual({
      level: 'own',
      except: {},
    });
    expect(calls).toEqual([`count ${Z} u`]);
  });

  it('reads a principal mostly with access: the entries without it are found beside the listing of all, the root included', async () => {
    await w.store.createPrincipal('u', 'rodsuser');
    await w.store.createCollection(`${Z}/z/a`, { parents: true });
    for (const p of ['z/a/f1', 'z/a/f2', 'z/f3', 'z/f4']) await put(`${Z}/${p}`, p);
    await w.store.setAccess(`${Z}/z`, 'u', 'read', { recursive: true });
    await w.store.setAccess(`${Z}/z/a/f2`, 'u', 'own');
    await w.store.setAccess(`${Z}/z/f4`, 'u', 'null');
    const before = await w.store.dump();
    const task = store.setAccess('t', { path: `${Z}/z`, name: 'u', level: 'write', recursive: true });
    const undo = (await run(task, w.ctx))!;
    expect(undo).toEqual({ level: 'read', except: { 'a/f2': 'own', f4: 'null' } });
    expect((await w.store.getAccessMany([`${Z}/z/f4`], 'u'))[0]).toBe('write');
    await expectRevertsRestore(task, undo, before);
    // the root differing from its subtree is an exception like any other
    await w.store.setAccess(`${Z}/z`, 'u', 'null');
    expect(await task.prepare(w.ctx)).toEqual({ level: 'read', except: { '': 'null', 'a/f2': 'own', f4: 'null' } });
  });

  it('trash goes to the trash path its prepare chose, beside older entries of the same name, and comes back from there', async () => {
    await put(`${Z}/same`, 'old');
    const older = await w.store.trash(`${Z}/same`);
    await put(`${Z}/same`, 'new');
    const before = await w.store.dump();
    const task = store.trash('t', { path: `${Z}/same`, refuse_objects: false });
    const undo = (await task.prepare(w.ctx)) as { trash_path: string };
    expect(undo.trash_path).not.toBe(older);
    expect(await w.store.dump()).toEqual(before);
    await task.apply(w.ctx, undo);
    expect((await w.store.stat(undo.trash_path))?.type === 'object').toBe(true);
    await expectRevertsRestore(task, undo, before);
    // a crash before the move: the revert finds the path in place and leaves it
    await task.revert(w.ctx, undo);
    expect(await w.store.dump()).toEqual(before);
  });

  it('trash with refuse_objects leaves a collection holding files alone', async () => {
    await put(`${Z}/zone/left.txt`, 'x').catch(async () => {
      await w.store.createCollection(`${Z}/zone`);
      await put(`${Z}/zone/left.txt`, 'x');
    });
    const task = store.trash('t', { path: `${Z}/zone`, refuse_objects: true });
    await expect(Promise.resolve(task.prepare(w.ctx))).rejects.toThrow(/still holds 1 file\(s\): left\.txt/);
    expect((await w.store.stat(`${Z}/zone/left.txt`))?.type === 'object').toBe(true);
  });

  it('moveObjects moves back exactly, and twice is harmless', async () => {
    await w.store.createCollection(`${Z}/src/sub`, { parents: true });
    await w.store.createCollection(`${Z}/dst/sub`, { parents: true });
    await put(`${Z}/src/a`, 'a');
    await put(`${Z}/src/sub/b`, 'b');
    const before = await w.store.dump();
    const task = store.moveObjects('t', { src: `${Z}/src`, dst: `${Z}/dst`, names: store.packNames(['a', 'sub/b']) });
    const undo = (await run(task))!;
    expect((await w.store.stat(`${Z}/dst/sub/b`))?.type === 'object').toBe(true);
    await task.revert(w.ctx, undo);
    await task.revert(w.ctx, undo);
    expect(await w.store.dump()).toEqual(before);
    // a crash right after the store call: the moves are found done and undone
    await run(task);
    await task.revert(w.ctx, undo);
    expect(await w.store.dump()).toEqual(before);
  });

  it('moveObjects journals the revoked principals\' levels on its own chunk only, and puts them back', async () => {
    await w.store.createPrincipal('u', 'rodsuser');
    await w.store.createCollection(`${Z}/src`, { parents: true });
    await w.store.createCollection(`${Z}/dst`, { parents: true });
    for (const n of ['a', 'b', 'c']) await put(`${Z}/src/${n}`, n);
    await w.store.setAccess(`${Z}/src`, 'u', 'own', { recursive: true });
    await w.store.setAccess(`${Z}/src/b`, 'u', 'read');
    const before = await w.store.dump();
    const task = store.moveObjects('t', { src: `${Z}/src`, dst: `${Z}/dst`, names: store.packNames(['a', 'b']), revoke: ['u'] });
    const undo = (await run(task))!;
    expect(undo).toEqual({ moved: 2, previous: { u: { level: 'read', except: { a: 'own' } } } });
    expect((await w.store.getAccessMany([`${Z}/dst/a`], 'u'))[0]).toBe('null');
    await expectRevertsRestore(task, undo, before);
  });

  it('an access undo with more exceptions than one listing page restores every one', async () => {
    const { LIST_PAGE } = await import('../../src/store/pages.js');
    await w.store.createCollection(`${Z}/big`);
    const n = 2 * LIST_PAGE + 100;
    for (let i = 0; i < 2 * n; i++) await put(`${Z}/big/f${String(i).padStart(5, '0')}`, '');
    await w.store.createPrincipal('u', 'rodsuser');
    await w.store.setAccess(`${Z}/big`, 'u', 'read', { recursive: true });
    const odd = (await w.store.listObjectPaths(`${Z}/big`)).filter((_, i) => i % 2 === 1);
    for (const p of odd) await w.store.setAccess(p, 'u', 'write');
    const before = await w.store.dump();
    const task = store.setAccess('t', { path: `${Z}/big`, name: 'u', level: 'own', recursive: true });
    const undo = (await run(task)) as store.AccessSnapshot;
    expect(undo.level).toBe('read');
    expect(Object.keys(undo.except)).toHaveLength(odd.length);
    await expectRevertsRestore(task, undo, before);
  });

  it('setAccesses sets several principals after one count of levels and journals one level per principal', async () => {
    await w.store.createPrincipal('u', 'rodsuser');
    await w.store.createPrincipal('g', 'rodsgroup');
    await w.store.createCollection(`${Z}/d`);
    for (let i = 0; i < 50; i++) await put(`${Z}/d/f${i}`, `${i}`);
    await w.store.setAccess(Z, 'u', 'own', { recursive: true });
    await w.store.setAccess(`${Z}/d/f7`, 'g', 'write');
    const before = await w.store.dump();
    let counts = 0;
    let passes = 0;
    const counting = Object.assign(Object.create(w.store) as typeof w.store, {
      accessCounts(...args: Parameters<typeof w.store.accessCounts>) {
        counts++;
        return w.store.accessCounts(...args);
      },
      list(...args: Parameters<typeof w.store.list>) {
        if (args[1]?.after === undefined) passes++;
        return w.store.list(...args);
      },
    });
    const task = store.setAccesses('t', {
      path: Z,
      recursive: true,
      grants: [
        { name: 'u', level: 'read' },
        { name: 'g', level: 'read' },
      ],
    });
    const undo = (await run(task, { ...w.ctx, store: counting }))!;
    // both counted at once; neither needs the listing of all entries (g's exceptions are its access entries)
    expect([counts, passes]).toEqual([1, 0]);
    expect(undo).toEqual({ previous: { u: { level: 'own', except: {} }, g: { level: 'null', except: { 'd/f7': 'write' } } } });
    expect((await w.store.getAccessMany([`${Z}/d/f3`], 'u'))[0]).toBe('read');
    expect((await w.store.getAccessMany([`${Z}/d/f7`], 'g'))[0]).toBe('read');
    await expectRevertsRestore(task, undo, before);
  });
});

describe('landing zone check', () => {
  it('counts files without companions and passes a clean zone', async () => {
    const { createHash } = await import('node:crypto');
    await w.store.createCollection(`${Z}/zone/sub`, { parents: true });
    for (const [rel, c] of [['a', 'A'], ['sub/b', 'B']]) {
      await put(`${Z}/zone/${rel}`, c);
      await put(`${Z}/zone/${rel}.md5`, `${createHash('md5').update(c).digest('hex').toUpperCase()} ${rel}\n`);
    }
    expect(await checkLandingZone(w.store, `${Z}/zone`, { verify: true })).toEqual({ files: 2 });
  });

  it('reads the companions in one call when the store offers readObjectHeads', async () => {
    const { createHash } = await import('node:crypto');
    await w.store.createCollection(`${Z}/zone`);
    await put(`${Z}/zone/a`, 'A');
    await put(`${Z}/zone/a.md5`, `${createHash('md5').update('A').digest('hex')}\n`);
    await put(`${Z}/zone/b`, 'B');
    await put(`${Z}/zone/b.md5`, 'not-an-md5 b\n');
    const asked: string[][] = [];
    const bulk = Object.assign(Object.create(w.store) as typeof w.store, {
      async readObjectHeads(paths: readonly string[], maxBytes: number) {
        asked.push([...paths]);
        return Promise.all(
          paths.map(async (p) => {
            const chunks: Buffer[] = [];
            for await (const c of await w.store.getObject(p)) chunks.push(c as Buffer);
            return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
          }),
        );
      },
    });
    const err = await checkLandingZone(bulk, `${Z}/zone`, { verify: true }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('invalid MD5 in b.md5');
    expect((err as ZoneValidationError).paths).toEqual(['b']);
    expect(asked).toEqual([[`${Z}/zone/a.md5`, `${Z}/zone/b.md5`]]);
  });

  it('reads a companion whose token has no whitespace after it, and one longer than a chunk', async () => {
    const { createHash } = await import('node:crypto');
    await w.store.createCollection(`${Z}/zone`);
    const md5 = (c: string) => createHash('md5').update(c).digest('hex');
    await put(`${Z}/zone/a`, 'A');
    await w.store.putObject(`${Z}/zone/a.md5`, Readable.from([Buffer.from(md5('A').slice(0, 10)), Buffer.from(md5('A').slice(10))]));
    await put(`${Z}/zone/b`, 'B');
    await put(`${Z}/zone/b.md5`, `  ${md5('B')}  b${' '.repeat(100_000)}\n`);
    expect(await checkLandingZone(w.store, `${Z}/zone`, { verify: true })).toEqual({ files: 2 });
  });

  it('pairs a file with a companion listed after other entries, and a companion of a companion has no file', async () => {
    const { createHash } = await import('node:crypto');
    await w.store.createCollection(`${Z}/zone/f.d`, { parents: true });
    // in the catalog's order `f-a`, `f.a` and `f.d/…` come between `f` and `f.md5`
    for (const rel of ['f', 'f-a', 'f.a', 'f.d/g']) {
      await put(`${Z}/zone/${rel}`, rel);
      await put(`${Z}/zone/${rel}.md5`, `${createHash('md5').update(rel).digest('hex')}  ${rel}\n`);
    }
    expect(await checkLandingZone(w.store, `${Z}/zone`, { verify: true })).toEqual({ files: 4 });
    await put(`${Z}/zone/f.md5.md5`, 'x');
    await put(`${Z}/zone/lone`, 'x');
    const err = await checkLandingZone(w.store, `${Z}/zone`, { verify: true }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'Landing zone validation failed: missing .md5 file for 1 file(s): lone; missing data file for 1 .md5 file(s): f.md5.md5',
    );
    expect((err as ZoneValidationError).paths).toEqual(['lone', 'f.md5.md5']);
  });

  it('checks a zone of several listing pages and check batches, naming faults in listing order', async () => {
    const { createHash } = await import('node:crypto');
    await w.store.createCollection(`${Z}/zone/d`, { parents: true });
    const rels = Array.from({ length: 700 }, (_, i) => `${i % 2 ? 'd/' : ''}f${String(i).padStart(4, '0')}`);
    const wrong = new Set(['f0000', 'd/f0301', 'f0698']);
    for (const rel of rels) {
      await put(`${Z}/zone/${rel}`, rel);
      const md5 = createHash('md5').update(wrong.has(rel) ? 'other' : rel).digest('hex');
      await put(`${Z}/zone/${rel}.md5`, rel === 'd/f0555' ? 'zz' : `${md5}  ${rel}\n`);
    }
    const err = await checkLandingZone(w.store, `${Z}/zone`, { verify: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZoneValidationError);
    // listing order: d/… sorts before f…
    expect((err as ZoneValidationError).paths).toEqual(['d/f0301', 'd/f0555', 'f0000', 'f0698']);
    const other = createHash('md5').update('other').digest('hex');
    const catalog = (rel: string) => createHash('md5').update(rel).digest('hex');
    expect((err as Error).message).toBe(
      `Landing zone validation failed: checksums do not match for 4 file(s): d/f0301 (expected ${other}, catalog ${catalog('d/f0301')}), ` +
        `invalid MD5 in d/f0555.md5, f0000 (expected ${other}, catalog ${catalog('f0000')}), f0698 (expected ${other}, catalog ${catalog('f0698')})`,
    );
  });

  it('lists a zone of one page once, and one of exactly a page to its end', async () => {
    const { createHash } = await import('node:crypto');
    const { LIST_PAGE } = await import('../../src/store/pages.js');
    await w.store.createCollection(`${Z}/zone`);
    const listings: string[] = [];
    const counting = Object.assign(Object.create(w.store) as typeof w.store, {
      listObjectPaths(...args: Parameters<typeof w.store.listObjectPaths>) {
        listings.push(`paths after ${args[1]?.after ?? '-'}`);
        return w.store.listObjectPaths(...args);
      },
      listObjectChecksums(...args: Parameters<typeof w.store.listObjectChecksums>) {
        listings.push(`checksums after ${args[1]?.after ?? '-'}`);
        return w.store.listObjectChecksums(...args);
      },
    });
    expect(await checkLandingZone(counting, `${Z}/zone`, { verify: false })).toEqual({ files: 0 });
    expect(listings).toEqual(['checksums after -']);
    // files and companions fill one page exactly: the walk asks once more, after its last entry
    const rels = Array.from({ length: LIST_PAGE / 2 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    for (const rel of rels) {
      await put(`${Z}/zone/${rel}`, rel);
      await put(`${Z}/zone/${rel}.md5`, `${createHash('md5').update(rel).digest('hex')}  ${rel}\n`);
    }
    listings.length = 0;
    expect(await checkLandingZone(counting, `${Z}/zone`, { verify: true })).toEqual({ files: LIST_PAGE / 2 });
    const last = `${rels.at(-1)}.md5`;
    expect(listings).toEqual(['checksums after -', `paths after ${last}`, 'checksums after -', `checksums after ${last}`]);
    await w.store.removeObject(`${Z}/zone/${rels[3]}.md5`);
    listings.length = 0;
    const err = await checkLandingZone(counting, `${Z}/zone`, { verify: false }).catch((e: unknown) => e);
    expect((err as ZoneValidationError).paths).toEqual([rels[3]]);
    expect(listings).toEqual(['checksums after -']);
  });

  it('names at most 20 missing files and counts the rest', async () => {
    await w.store.createCollection(`${Z}/zone`);
    for (let i = 0; i < 25; i++) await put(`${Z}/zone/f${String(i).padStart(2, '0')}`, 'x');
    const err = await checkLandingZone(w.store, `${Z}/zone`, { verify: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZoneValidationError);
    expect((err as ZoneValidationError).paths).toHaveLength(25);
    expect((err as Error).message).toContain('missing .md5 file for 25 file(s): f00, f01');
    expect((err as Error).message).toContain('and 5 more');
  });
});
