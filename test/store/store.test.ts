import { INITIAL_SPECIFIC_QUERIES } from '../../src/store/embedded/specific-queries.js';
import { ALIASES_4_2_12 } from '../support/icat-specific-queries.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  AlreadyExistsError,
  InvalidPathError,
  NotAllowedError,
  NotEmptyError,
  NotFoundError,
  openStore,
  StoreError,
} from '../../src/store/index.js';
import { LATEST_MODIFIED } from '../../src/store/embedded/collections.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { byteStream, caught, readAll, storePerTest, type TempStore } from '../support/store-helpers.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const Z = '/testZone';

let t: TempStore;
let s: EmbeddedStore;
storePerTest((opened) => {
  t = opened;
  s = opened.store;
});

describe('a new store', () => {
  it("has the root /, the zone, home and trash collections, the homes and trash homes of rods and public, rods and public, and iRODS's initial specific queries", async () => {
    const queries = INITIAL_SPECIFIC_QUERIES.map((q) => JSON.stringify({ t: 'specific query', alias: q.alias, sql: q.sql }));
    expect(await s.dump()).toEqual([
      ...queries,
      '{"t":"acl","path":"/","name":"rods","level":"own"}',
      '{"t":"collection","path":"/","owner":"rods","inherit":false}',
      '{"t":"acl","path":"/testZone","name":"rods","level":"own"}',
      '{"t":"acl","path":"/testZone/home","name":"rods","level":"own"}',
      '{"t":"acl","path":"/testZone/trash","name":"rods","level":"own"}',
      '{"t":"acl","path":"/testZone/trash/home","name":"rods","level":"own"}',
      '{"t":"acl","path":"/testZone/home/public","name":"public","level":"own"}',
      '{"t":"acl","path":"/testZone/trash/home/public","name":"public","level":"own"}',
      '{"t":"acl","path":"/testZone/home/rods","name":"rods","level":"own"}',
      '{"t":"acl","path":"/testZone/trash/home/rods","name":"rods","level":"own"}',
      '{"t":"collection","path":"/testZone","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/home","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/trash","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/trash/home","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/home/public","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/trash/home/public","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/home/rods","owner":"rods","inherit":false}',
      '{"t":"collection","path":"/testZone/trash/home/rods","owner":"rods","inherit":false}',
      '{"t":"group","name":"public"}',
      '{"t":"user","name":"rods","type":"rodsadmin"}',
    ].sort());
    // those of a fresh iRODS 4.2.12 zone, in the order it registers them
    expect(INITIAL_SPECIFIC_QUERIES.map((q) => q.alias)).toEqual(ALIASES_4_2_12);
    expect(existsSync(join(t.dataDir, 'catalog.sqlite'))).toBe(true);
    expect(existsSync(join(t.dataDir, 'vault'))).toBe(true);
  });

  it("/ is its own parent and the zone collection's; the store's calls take no path outside the zone, so none reaches /", async () => {
    const core = s.protocolCore();
    const root = core.row('/')!;
    expect(root).toMatchObject({ kind: 'c', owner: 'rods', parent_id: root.id, inherit: 0 });
    expect(core.row(Z)!.parent_id).toBe(root.id);
    for (const call of [
      () => s.stat('/'),
      () => s.list('/'),
      () => s.createCollection('/', { parents: true }),
      () => s.removeCollection('/', { recursive: true }),
      () => s.move('/', `${Z}/x`),
      () => s.setAccess('/', 'public', 'read'),
      () => s.setInheritance('/', true),
      () => s.modifyMetadata('/', 'add', { attribute: 'a', value: 'v', unit: '' }),
    ]) {
      expect(await caught(call)).toBeInstanceOf(InvalidPathError);
    }
    expect(await caught(() => s.removeCollection(Z, { recursive: true }))).toBeInstanceOf(NotAllowedError);
    expect(core.row('/')).toEqual(root);
  });

  it('a catalog made before / was kept gets it at its next open, its own ids unchanged', async () => {
    const ids = (store: EmbeddedStore) => Object.fromEntries([Z, `${Z}/home`, `${Z}/trash`].map((p) => [p, store.protocolCore().row(p)!.id]));
    const before = ids(s);
    s.protocolCore().write(() => {
      const db = s.protocolCore().db;
      const id = s.protocolCore().row('/')!.id;
      db.prepare('DELETE FROM acl WHERE entry_id = ?').run(id);
      db.prepare('DELETE FROM entries WHERE id = ?').run(id);
      db.prepare('UPDATE entries SET parent_id = NULL WHERE path = ?').run(Z);
    });
    const dump = (await s.dump()).filter((l) => !l.includes('"path":"/"'));
    expect(dump).toHaveLength(31);
    await s.close();
    const again = EmbeddedStore.open({ dataDir: t.dataDir, zone: 'testZone', hashWorkers: 2 });
    try {
      expect(ids(again)).toEqual(before);
      const root = again.protocolCore().row('/')!;
      expect(root.parent_id).toBe(root.id);
      expect(again.protocolCore().row(Z)!.parent_id).toBe(root.id);
      expect(await again.dump()).toEqual(
        [...dump, '{"t":"acl","path":"/","name":"rods","level":"own"}', '{"t":"collection","path":"/","owner":"rods","inherit":false}'].sort(),
      );
    } finally {
      await again.close();
    }
  });

  it('a catalog made before the homes of rods and public were kept gets them at its next open, the other ids unchanged', async () => {
    const homes = [`${Z}/trash/home`, `${Z}/home/public`, `${Z}/trash/home/public`, `${Z}/home/rods`, `${Z}/trash/home/rods`];
    const full = await s.dump();
    const ids = (store: EmbeddedStore) => Object.fromEntries(['/', Z, `${Z}/home`, `${Z}/trash`].map((p) => [p, store.protocolCore().row(p)!.id]));
    const before = ids(s);
    s.protocolCore().write(() => {
      const db = s.protocolCore().db;
      for (const path of [...homes].reverse()) {
        const id = s.protocolCore().row(path)!.id;
        db.prepare('DELETE FROM acl WHERE entry_id = ?').run(id);
        db.prepare('DELETE FROM entries WHERE id = ?').run(id);
      }
    });
    expect(await s.dump()).toHaveLength(full.length - 2 * homes.length);
    await s.close();
    const again = EmbeddedStore.open({ dataDir: t.dataDir, zone: 'testZone', hashWorkers: 2 });
    try {
      expect(ids(again)).toEqual(before);
      expect(await again.dump()).toEqual(full);
      expect(again.protocolCore().row(`${Z}/trash/home/rods`)!.parent_id).toBe(again.protocolCore().row(`${Z}/trash/home`)!.id);
    } finally {
      await again.close();
    }
  });

  it("a catalog made with only iRODS's first three queries gets the others at its next open, after its own; taken aliases and removed queries stay as they are", async () => {
    const core = s.protocolCore();
    const listed = (store: EmbeddedStore) =>
      store.protocolCore().read(() => store.protocolCore().db.prepare('SELECT alias, sql, created FROM specific_queries ORDER BY id').all() as Array<{ alias: string | null; sql: string; created: string }>);
    const [ls, lsl, showCollAcls, ...later] = INITIAL_SPECIFIC_QUERIES;
    // as such a catalog was: the first three, then what its administrator did
    core.write(() => {
      core.db.exec('DROP TABLE specific_queries_given');
      core.db.prepare(`DELETE FROM specific_queries WHERE alias NOT IN ('ls', 'lsl', 'ShowCollAcls')`).run();
    });
    s.addSpecificQuery('select DATA_NAME from R_DATA_MAIN', 'findQueryByAlias');
    s.addSpecificQuery('select COLL_NAME from R_COLL_MAIN', '');
    s.addSpecificQuery('select USER_NAME from R_USER_MAIN', 'users');
    expect(s.removeSpecificQuery('ShowCollAcls')).toBe(1);
    const own = [
      { alias: 'findQueryByAlias', sql: 'select DATA_NAME from R_DATA_MAIN' },
      { alias: null, sql: 'select COLL_NAME from R_COLL_MAIN' },
      { alias: 'users', sql: 'select USER_NAME from R_USER_MAIN' },
    ];
    const before = listed(s);
    expect(before.map(({ alias, sql }) => ({ alias, sql }))).toEqual([ls, lsl, ...own].map(({ alias, sql }) => ({ alias, sql })));
    await s.close();

    const again = EmbeddedStore.open({ dataDir: t.dataDir, zone: 'testZone', hashWorkers: 2 });
    try {
      const after = listed(again);
      // its own unchanged and first; the later ones after them, with iRODS's times; ShowCollAcls, removed, not back
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.slice(before.length)).toEqual(later.filter((q) => q.alias !== 'findQueryByAlias').map(({ alias, sql, created }) => ({ alias, sql, created })));
      expect(after.map((q) => q.alias)).not.toContain(showCollAcls!.alias);
      expect(again.findSpecificQuery('findQueryByAlias')).toBe('select DATA_NAME from R_DATA_MAIN');
      // given once: one removed now stays removed at the next open
      expect(again.removeSpecificQuery('ilsLADataObjects')).toBe(1);
    } finally {
      await again.close();
    }
    const third = EmbeddedStore.open({ dataDir: t.dataDir, zone: 'testZone', hashWorkers: 2 });
    try {
      const aliases = listed(third).map((q) => q.alias);
      expect(aliases).not.toContain('ilsLADataObjects');
      expect(aliases).not.toContain('ShowCollAcls');
      expect(aliases).toHaveLength(before.length + later.length - 2);
    } finally {
      await third.close();
    }
  });

  it('openStore uses TASKFLOW_DATA_DIR and TASKFLOW_IRODS_ZONE, default omicsZone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-open-'));
    try {
      const a = await openStore(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'a') }));
      expect(a.zone).toBe('omicsZone');
      expect((await a.stat('/omicsZone/home'))?.type === 'collection').toBe(true);
      await a.close();
      const b = await openStore(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'b'), TASKFLOW_IRODS_ZONE: 'otherZone' }));
      expect((await b.stat('/otherZone/trash'))?.type === 'collection').toBe(true);
      await b.close();
      // Reopening keeps what was there.
      const c = await openStore(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'b'), TASKFLOW_IRODS_ZONE: 'otherZone' }));
      await c.createCollection('/otherZone/x');
      await c.close();
      const d = await openStore(loadConfig({ TASKFLOW_DATA_DIR: join(dir, 'b'), TASKFLOW_IRODS_ZONE: 'otherZone' }));
      expect((await d.stat('/otherZone/x'))?.type === 'collection').toBe(true);
      await d.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works with TASKFLOW_STORE_SYNC off and several hash workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-nosync-'));
    try {
      const config = loadConfig({ TASKFLOW_DATA_DIR: dir, TASKFLOW_STORE_SYNC: 'false', TASKFLOW_HASH_WORKERS: '3' });
      expect(config.storeSync).toBe(false);
      const store = await openStore(config);
      await store.putObject('/omicsZone/home/f', Readable.from(['unsynced']));
      expect(await store.checksum('/omicsZone/home/f', { verify: true })).toBe(md5('unsynced'));
      expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses calls after close', async () => {
    await s.close();
    for (const call of [() => s.createCollection(`${Z}/a`), () => s.stat(Z), () => s.getPrincipal('rods'), () => s.listPrincipals('group')]) {
      expect((await caught(call)).code).toBe('STORE_UNAVAILABLE');
    }
    await s.close();
  });
});

describe('checkpoints', () => {
  it('a busy handle checkpoints the catalog in a worker thread, its own connection only as a backstop', async () => {
    const { CHECKPOINT_WORKER_AFTER_COMMITS, WAL_BACKSTOP_PAGES } = await import('../../src/engine/checkpointer.js');
    const core = s.protocolCore();
    const autocheckpoint = () => core.db.pragma('wal_autocheckpoint', { simple: true });
    for (let i = 1; i < CHECKPOINT_WORKER_AFTER_COMMITS; i++) await s.createCollection(`${Z}/c${i}`);
    expect(await core.checkpointInWorker()).toBeUndefined();
    expect(autocheckpoint()).toBe(1000);
    await s.createCollection(`${Z}/last`);
    expect(autocheckpoint()).toBe(WAL_BACKSTOP_PAGES);
    await s.createCollection(`${Z}/after`);
    const reply = await core.checkpointInWorker();
    expect(reply).toMatchObject({ busy: false });
    const { walFrames, checkpointedFrames } = reply as { walFrames: number; checkpointedFrames: number };
    expect(walFrames).toBeGreaterThan(0);
    expect(checkpointedFrames).toBe(walFrames);
    await s.close();
    expect(await core.checkpointInWorker()).toBeUndefined();
  });
});

describe('collections', () => {
  it('creates with parents and returns exactly what it created', async () => {
    expect(await s.createCollection(`${Z}/a/b/c`, { parents: true })).toEqual([`${Z}/a`, `${Z}/a/b`, `${Z}/a/b/c`]);
    expect(await s.createCollection(`${Z}/a/b/c`, { parents: true })).toEqual([]);
    expect(await s.createCollection(`${Z}/a/b/d/`)).toEqual([`${Z}/a/b/d`]);
    expect((await s.stat(`${Z}/a/b`))?.type === 'collection').toBe(true);
    expect((await s.stat(`${Z}/a/b`))?.type === 'object').toBe(false);
    const e = await s.stat(`${Z}/a`);
    expect(e).toMatchObject({ path: `${Z}/a`, type: 'collection', owner: 'rods', size: 0, checksum: null, inherit: false });
    expect(await s.getAcl(`${Z}/a`)).toEqual([{ name: 'rods', kind: 'user', level: 'own' }]);
  });

  it('needs the parent unless asked for parents, and names it', async () => {
    const err = await caught(() => s.createCollection(`${Z}/x/y`));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/x`);
    expect(await s.stat(`${Z}/x`)).toBeNull();
  });

  it('refuses a collection where an object is, or below one', async () => {
    await s.putObject(`${Z}/f`, Readable.from([Buffer.from('x')]));
    expect(await caught(() => s.createCollection(`${Z}/f`))).toBeInstanceOf(AlreadyExistsError);
    const err = await caught(() => s.createCollection(`${Z}/f/g`, { parents: true }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/f`);
  });

  it('sets the owner, who must be a user, and gives the owner own', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createCollection(`${Z}/a`, { owner: 'alice' });
    expect((await s.stat(`${Z}/a`))!.owner).toBe('alice');
    expect(await s.getAcl(`${Z}/a`)).toEqual([{ name: 'alice', kind: 'user', level: 'own' }]);
    expect(await caught(() => s.createCollection(`${Z}/b`, { owner: 'nobody' }))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.createCollection(`${Z}/b`, { owner: 'public' }))).toBeInstanceOf(NotFoundError);
  });

  it('lists children sorted, recursively, and object paths', async () => {
    await s.createCollection(`${Z}/p/b`, { parents: true });
    await s.createCollection(`${Z}/p/a-1`);
    await s.putObject(`${Z}/p/b/z.txt`, Readable.from([Buffer.from('z')]));
    await s.putObject(`${Z}/p/a.txt`, Readable.from([Buffer.from('a')]));
    await s.createCollection(`${Z}/pp`);
    await s.putObject(`${Z}/pp/other`, Readable.from([Buffer.from('o')]));
    expect((await s.list(`${Z}/p`)).map((e) => e.path)).toEqual([`${Z}/p/a-1`, `${Z}/p/a.txt`, `${Z}/p/b`]);
    expect((await s.list(`${Z}/p`, { recursive: true })).map((e) => [e.path, e.type])).toEqual([
      [`${Z}/p/a-1`, 'collection'],
      [`${Z}/p/a.txt`, 'object'],
      [`${Z}/p/b`, 'collection'],
      [`${Z}/p/b/z.txt`, 'object'],
    ]);
    expect(await s.listObjectPaths(`${Z}/p`)).toEqual([`${Z}/p/a.txt`, `${Z}/p/b/z.txt`]);
    expect(await caught(() => s.list(`${Z}/p/a.txt`))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.list(`${Z}/nope`))).toBeInstanceOf(NotFoundError);
  });

  it('removes empty collections, non-empty only recursively, with their bytes', async () => {
    await s.createCollection(`${Z}/a/b`, { parents: true });
    await s.putObject(`${Z}/a/b/f`, byteStream(3, 1000));
    await s.modifyMetadata(`${Z}/a/b/f`, 'add', { attribute: 'k', value: 'v', unit: '' });
    const err = await caught(() => s.removeCollection(`${Z}/a`));
    expect(err).toBeInstanceOf(NotEmptyError);
    expect(err.path).toBe(`${Z}/a`);
    const before = await s.dump();
    await s.createCollection(`${Z}/a/empty`);
    await s.removeCollection(`${Z}/a/empty`);
    expect(await s.dump()).toEqual(before);
    await s.removeCollection(`${Z}/a`, { recursive: true });
    expect(await s.stat(`${Z}/a`)).toBeNull();
    expect(await s.stat(`${Z}/a/b/f`)).toBeNull();
    expect((await s.dump()).some((l) => l.includes('/a'))).toBe(false);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(countVaultFiles(t.dataDir)).toBe(0);
  });

  it('setModified sets the modify time of a collection or an object and nothing else; refuses a missing path and a time past the year 9999', async () => {
    await s.createCollection(`${Z}/c`);
    await s.putObject(`${Z}/c/o`, Readable.from([Buffer.from('bytes')]));
    const others = (await s.dump()).filter((l) => !l.includes(`${Z}/c`));
    const when = new Date('1988-07-11T00:00:00.000Z');
    await s.setModified(`${Z}/c`, when);
    await s.setModified(`${Z}/c/o/`, LATEST_MODIFIED);
    expect(await s.stat(`${Z}/c`)).toMatchObject({ type: 'collection', modified: when.toISOString() });
    expect(await s.stat(`${Z}/c/o`)).toMatchObject({ type: 'object', size: 5, checksum: md5('bytes'), modified: LATEST_MODIFIED.toISOString() });
    expect((await s.dump()).filter((l) => !l.includes(`${Z}/c`))).toEqual(others);
    expect(await caught(() => s.setModified(`${Z}/c/none`, when))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.setModified(`${Z}/c`, new Date(LATEST_MODIFIED.getTime() + 1)))).toBeInstanceOf(RangeError);
    expect(await caught(() => s.setModified(`${Z}/c`, new Date(Number.NaN)))).toBeInstanceOf(RangeError);
    expect((await s.stat(`${Z}/c`))!.modified).toBe(when.toISOString());
  });

  it('refuses to remove, move or trash the zone collections', async () => {
    for (const p of [Z, `${Z}/home`, `${Z}/trash`]) {
      expect(await caught(() => s.removeCollection(p, { recursive: true }))).toBeInstanceOf(NotAllowedError);
      expect(await caught(() => s.move(p, `${Z}/home/x`))).toBeInstanceOf(NotAllowedError);
      expect(await caught(() => s.trash(p))).toBeInstanceOf(NotAllowedError);
    }
    expect(await caught(() => s.removeObject(`${Z}/home`))).toBeInstanceOf(NotFoundError);
  });
});

function countVaultFiles(dataDir: string): number {
  let n = 0;
  const vault = join(dataDir, 'vault');
  for (const d of readdirSync(vault)) n += readdirSync(join(vault, d)).length;
  return n;
}

describe('objects', () => {
  it('puts from a stream, computing size and MD5, and reads back', async () => {
    const e = await s.putObject(`${Z}/f.bin`, byteStream(40, 64 * 1024));
    const expected = await readAll(byteStream(40, 64 * 1024));
    expect(e).toMatchObject({ path: `${Z}/f.bin`, type: 'object', owner: 'rods', size: expected.length, checksum: md5(expected) });
    expect((await readAll(await s.getObject(`${Z}/f.bin`))).equals(expected)).toBe(true);
    expect(await s.checksum(`${Z}/f.bin`)).toBe(md5(expected));
    expect(await s.checksum(`${Z}/f.bin`, { verify: true })).toBe(md5(expected));
    expect((await s.stat(`${Z}/f.bin`))?.type === 'object').toBe(true);
    expect(await s.getAcl(`${Z}/f.bin`)).toEqual([{ name: 'rods', kind: 'user', level: 'own' }]);
  });

  it('puts from a local file, an empty one too, and reports progress', async () => {
    const local = join(t.dir, 'local.txt');
    writeFileSync(local, 'hello world');
    const seen: number[] = [];
    const e = await s.putObject(`${Z}/h.txt`, local, { onProgress: (b) => seen.push(b) });
    expect(e.checksum).toBe(md5('hello world'));
    expect(seen.at(-1)).toBe(11);
    writeFileSync(join(t.dir, 'empty'), '');
    expect((await s.putObject(`${Z}/empty`, join(t.dir, 'empty'))).checksum).toBe(md5(''));
    const err = await caught(() => s.putObject(`${Z}/m`, join(t.dir, 'missing')));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(join(t.dir, 'missing'));
    expect((await s.fsck()).orphanFiles).toEqual([]);
  });

  it('takes an owner for new objects', async () => {
    await s.createPrincipal('bob', 'rodsuser');
    const e = await s.putObject(`${Z}/o`, Readable.from(['x']), { owner: 'bob' });
    expect(e.owner).toBe('bob');
    expect(await s.getAcl(`${Z}/o`)).toEqual([{ name: 'bob', kind: 'user', level: 'own' }]);
  });

  it('refuses a second put unless overwriting; overwrite keeps metadata and ACL', async () => {
    await s.putObject(`${Z}/f`, Readable.from(['one']));
    await s.modifyMetadata(`${Z}/f`, 'add', { attribute: 'a', value: '1', unit: '' });
    await s.setAccess(`${Z}/f`, 'public', 'read');
    const err = await caught(() => s.putObject(`${Z}/f`, Readable.from(['two'])));
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect(err.path).toBe(`${Z}/f`);
    const e = await s.putObject(`${Z}/f`, Readable.from(['two']), { overwrite: true });
    expect(e.checksum).toBe(md5('two'));
    expect((await readAll(await s.getObject(`${Z}/f`))).toString()).toBe('two');
    expect(await s.getMetadata(`${Z}/f`)).toEqual([{ attribute: 'a', value: '1', unit: '' }]);
    expect((await s.getAccessMany([`${Z}/f`], 'public'))[0]).toBe('read');
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    // a small object's bytes are in the catalog: no vault file, old or new
    expect(countVaultFiles(t.dataDir)).toBe(0);
  });

  it('refuses puts onto a collection, into a missing collection, below an object', async () => {
    await s.createCollection(`${Z}/c`);
    await s.putObject(`${Z}/f`, Readable.from(['x']));
    expect(await caught(() => s.putObject(`${Z}/c`, Readable.from(['x']), { overwrite: true }))).toBeInstanceOf(AlreadyExistsError);
    const e1 = await caught(() => s.putObject(`${Z}/none/f`, Readable.from(['x'])));
    expect(e1).toBeInstanceOf(NotFoundError);
    expect(e1.path).toBe(`${Z}/none`);
    expect(await caught(() => s.putObject(`${Z}/f/g`, Readable.from(['x'])))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.putObject(Z, Readable.from(['x'])))).toBeInstanceOf(StoreError);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('leaves nothing behind when the source stream fails midway', async () => {
    let n = 0;
    const failing = new Readable({
      read() {
        if (n++ < 3) this.push(Buffer.alloc(1000, 1));
        else this.destroy(new Error('network gone'));
      },
    });
    await expect(s.putObject(`${Z}/broken`, failing)).rejects.toThrow('network gone');
    expect(await s.stat(`${Z}/broken`)).toBeNull();
    expect(readdirSync(join(t.dataDir, 'vault', 'tmp'))).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('removes objects with their bytes and metadata', async () => {
    const before = await s.dump();
    await s.putObject(`${Z}/f`, Readable.from(['x']));
    await s.modifyMetadata(`${Z}/f`, 'add', { attribute: 'a', value: '1', unit: 'u' });
    await s.removeObject(`${Z}/f`);
    expect(await s.stat(`${Z}/f`)).toBeNull();
    expect(await s.dump()).toEqual(before);
    expect(countVaultFiles(t.dataDir)).toBe(0);
    const err = await caught(() => s.removeObject(`${Z}/f`));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain(`${Z}/f`);
    expect(await caught(() => s.getObject(`${Z}/f`))).toBeInstanceOf(NotFoundError);
  });

  it('validates every path argument', async () => {
    const bad = [`${Z}/../x`, `${Z}//x`, '/otherZone/x', 'relative', `${Z}/a\0b`, `${Z}/a\nb`, `${Z}/${'x'.repeat(300)}`];
    for (const p of bad) {
      for (const call of [
        () => s.stat(p),
        () => s.createCollection(p),
        () => s.putObject(p, Readable.from(['x'])),
        () => s.move(`${Z}/home`, p),
        () => s.setAccess(p, 'rods', 'read'),
        () => s.modifyMetadata(p, 'add', { attribute: 'a', value: 'b', unit: '' }),
        () => s.trash(p),
        () => s.computeChecksums([p]),
      ]) {
        const err = await caught(call);
        expect(err).toBeInstanceOf(InvalidPathError);
        expect(err.path).toBe(p);
      }
    }
  });
});

describe('moves', () => {
  beforeEach(async () => {
    await s.createCollection(`${Z}/a/sub`, { parents: true });
    await s.createCollection(`${Z}/ab`);
    await s.createCollection(`${Z}/a-b`);
    await s.putObject(`${Z}/a/sub/f`, Readable.from(['f']));
    await s.putObject(`${Z}/a/g`, Readable.from(['g']));
    await s.putObject(`${Z}/ab/h`, Readable.from(['h']));
    await s.putObject(`${Z}/a-b/i`, Readable.from(['i']));
    await s.modifyMetadata(`${Z}/a/sub/f`, 'add', { attribute: 'k', value: 'v', unit: '' });
    await s.setAccess(`${Z}/a/sub`, 'public', 'read', { recursive: true });
  });

  it('renames an object, keeping bytes, checksum, metadata and ACL', async () => {
    await s.move(`${Z}/a/sub/f`, `${Z}/ab/f2`);
    expect(await s.stat(`${Z}/a/sub/f`)).toBeNull();
    expect((await readAll(await s.getObject(`${Z}/ab/f2`))).toString()).toBe('f');
    expect(await s.checksum(`${Z}/ab/f2`, { verify: true })).toBe(md5('f'));
    expect(await s.getMetadata(`${Z}/ab/f2`)).toEqual([{ attribute: 'k', value: 'v', unit: '' }]);
    expect((await s.getAccessMany([`${Z}/ab/f2`], 'public'))[0]).toBe('read');
    expect((await s.list(`${Z}/ab`)).map((e) => e.path)).toEqual([`${Z}/ab/f2`, `${Z}/ab/h`]);
  });

  it('moves a collection with its subtree and nothing else', async () => {
    const dumpBefore = await s.dump();
    await s.move(`${Z}/a`, `${Z}/home/moved`);
    expect((await s.list(`${Z}/home/moved`, { recursive: true })).map((e) => e.path)).toEqual([
      `${Z}/home/moved/g`,
      `${Z}/home/moved/sub`,
      `${Z}/home/moved/sub/f`,
    ]);
    expect((await s.list(`${Z}/home/moved/sub`)).map((e) => e.path)).toEqual([`${Z}/home/moved/sub/f`]);
    expect(await s.stat(`${Z}/a`)).toBeNull();
    expect(await s.stat(`${Z}/a/sub/f`)).toBeNull();
    expect(await s.listObjectPaths(`${Z}/ab`)).toEqual([`${Z}/ab/h`]);
    expect(await s.listObjectPaths(`${Z}/a-b`)).toEqual([`${Z}/a-b/i`]);
    expect(await s.getMetadata(`${Z}/home/moved/sub/f`)).toEqual([{ attribute: 'k', value: 'v', unit: '' }]);
    // Moving back gives the very same catalog.
    await s.move(`${Z}/home/moved`, `${Z}/a`);
    expect(await s.dump()).toEqual(dumpBefore);
  });

  it('refuses bad moves, naming the path', async () => {
    let err = await caught(() => s.move(`${Z}/a/g`, `${Z}/ab/h`));
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect(err.path).toBe(`${Z}/ab/h`);
    err = await caught(() => s.move(`${Z}/a`, `${Z}/a/sub/inner`));
    expect(err).toBeInstanceOf(NotAllowedError);
    err = await caught(() => s.move(`${Z}/nope`, `${Z}/x`));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/nope`);
    err = await caught(() => s.move(`${Z}/a/g`, `${Z}/missing/g`));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.path).toBe(`${Z}/missing`);
    err = await caught(() => s.move(`${Z}/a/g`, `${Z}/ab/h/g`));
    expect(err).toBeInstanceOf(NotFoundError);
  });

  it('moveChecked with overwrite replaces a data object for good, its vault file removed after the commit; never a collection, nor by one', async () => {
    const big = Buffer.alloc(s.vault.inlineMax + 1, 'b');
    await s.putObject(`${Z}/ab/big`, Readable.from([big]));
    await s.modifyMetadata(`${Z}/ab/big`, 'add', { attribute: 'gone', value: 'with it', unit: '' });
    const bigFile = s.vault.filePath(s.protocolCore().row(`${Z}/ab/big`)!.vault_id!);
    expect(existsSync(bigFile)).toBe(true);
    const before = await s.dump();
    const refusals: Array<[string, string, boolean, string]> = [
      [`${Z}/a/sub/f`, `${Z}/ab/big`, false, 'path'],
      [`${Z}/a/sub/f`, `${Z}/a-b`, true, 'collection'],
      [`${Z}/a/sub`, `${Z}/ab/big`, true, 'object'],
    ];
    for (const [src, dst, overwrite, what] of refusals) {
      const err = await caught(() => s.moveChecked(src, dst, { overwrite }));
      expect(err, `${src} onto ${dst}`).toBeInstanceOf(AlreadyExistsError);
      expect((err as AlreadyExistsError).what).toBe(what);
      expect(await s.dump()).toEqual(before);
      expect(existsSync(bigFile)).toBe(true);
    }

    const id = s.protocolCore().row(`${Z}/a/sub/f`)!.id;
    await s.moveChecked(`${Z}/a/sub/f`, `${Z}/ab/big`, { overwrite: true });
    expect(s.protocolCore().row(`${Z}/ab/big`)!.id).toBe(id);
    expect((await readAll(await s.getObject(`${Z}/ab/big`))).toString()).toBe('f');
    expect(await s.getMetadata(`${Z}/ab/big`)).toEqual([{ attribute: 'k', value: 'v', unit: '' }]);
    expect((await s.getAccessMany([`${Z}/ab/big`], 'public'))[0]).toBe('read');
    expect(await s.stat(`${Z}/a/sub/f`)).toBeNull();
    expect(existsSync(bigFile)).toBe(false);
    // nothing went to the trash: it holds only the trash homes a catalog is made with
    expect((await s.list(`${Z}/trash`, { recursive: true })).map((e) => e.path)).toEqual([`${Z}/trash/home`, `${Z}/trash/home/public`, `${Z}/trash/home/rods`]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it("moveChecked runs its check in the move's transaction on both rows; what it throws changes nothing", async () => {
    const before = await s.dump();
    const seen: Array<[string | undefined, string | undefined]> = [];
    const err = await caught(() =>
      s.moveChecked(`${Z}/a/g`, `${Z}/ab/h`, {
        overwrite: true,
        check: ({ source, target }) => {
          seen.push([source?.path, target?.path]);
          throw new NotAllowedError(`${Z}/ab/h`, 'refused by the check');
        },
      }),
    );
    expect(err).toBeInstanceOf(NotAllowedError);
    expect(seen).toEqual([[`${Z}/a/g`, `${Z}/ab/h`]]);
    expect(await s.dump()).toEqual(before);
    expect((await readAll(await s.getObject(`${Z}/ab/h`))).toString()).toBe('h');
    await s.moveChecked(`${Z}/a/g`, `${Z}/ab/g`, { check: ({ target }) => expect(target).toBeUndefined() });
    expect((await readAll(await s.getObject(`${Z}/ab/g`))).toString()).toBe('g');
  });

  it('moveMany is all or nothing', async () => {
    const before = await s.dump();
    const err = await caught(() =>
      s.moveMany([
        { src: `${Z}/a/g`, dst: `${Z}/ab/g` },
        { src: `${Z}/a/sub/f`, dst: `${Z}/ab/h` },
      ]),
    );
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect(await s.dump()).toEqual(before);
    await s.moveMany([
      { src: `${Z}/a/g`, dst: `${Z}/ab/g` },
      { src: `${Z}/a/sub`, dst: `${Z}/ab/sub` },
      { src: `${Z}/ab/sub/f`, dst: `${Z}/a/f` },
    ]);
    expect(await s.listObjectPaths(Z)).toEqual([`${Z}/a-b/i`, `${Z}/a/f`, `${Z}/ab/g`, `${Z}/ab/h`]);
  });

  it('moveMany of objects: same errors and all or nothing as one by one, parents and ACLs right', async () => {
    await s.createCollection(`${Z}/dst/in`, { parents: true });
    for (const n of ['o1', 'o2', 'o3']) await s.putObject(`${Z}/a/${n}`, Readable.from([n]));
    await s.createPrincipal('carol', 'rodsuser');
    await s.setAccess(`${Z}/a/o1`, 'carol', 'write');
    await s.modifyMetadata(`${Z}/a/o1`, 'add', { attribute: 'k', value: 'v', unit: '' });
    await s.putObject(`${Z}/dst/taken`, Readable.from(['t']));
    const before = await s.dump();
    const tries: Array<[Array<{ src: string; dst: string }>, unknown, string]> = [
      [[{ src: `${Z}/a/o1`, dst: `${Z}/dst/o1` }, { src: `${Z}/a/none`, dst: `${Z}/dst/none` }], NotFoundError, `${Z}/a/none`],
      [[{ src: `${Z}/a/o1`, dst: `${Z}/dst/o1` }, { src: `${Z}/a/o2`, dst: `${Z}/dst/taken` }], AlreadyExistsError, `${Z}/dst/taken`],
      [[{ src: `${Z}/a/o1`, dst: `${Z}/nowhere/o1` }], NotFoundError, `${Z}/nowhere`],
      // one by one, o1 finds o2 still there
      [[{ src: `${Z}/a/o1`, dst: `${Z}/a/o2` }, { src: `${Z}/a/o2`, dst: `${Z}/dst/o2` }], AlreadyExistsError, `${Z}/a/o2`],
      [[{ src: `${Z}/a/o1`, dst: `${Z}/dst/x` }, { src: `${Z}/a/o2`, dst: `${Z}/dst/x` }], AlreadyExistsError, `${Z}/dst/x`],
    ];
    for (const [moves, type, path] of tries) {
      const err = await caught(() => s.moveMany(moves));
      expect(err).toBeInstanceOf(type);
      expect(err.path).toBe(path);
      expect(await s.dump()).toEqual(before);
    }
    await s.moveMany([
      { src: `${Z}/a/o1`, dst: `${Z}/dst/in/o1` },
      { src: `${Z}/a/o2`, dst: `${Z}/dst/o2` },
    ]);
    expect((await s.list(`${Z}/dst/in`)).map((e) => e.path)).toEqual([`${Z}/dst/in/o1`]);
    expect((await s.list(`${Z}/dst`)).map((e) => e.path)).toEqual([`${Z}/dst/in`, `${Z}/dst/o2`, `${Z}/dst/taken`]);
    expect((await s.getAccessMany([`${Z}/dst/in/o1`], 'carol'))[0]).toBe('write');
    expect(await s.getMetadata(`${Z}/dst/in/o1`)).toEqual([{ attribute: 'k', value: 'v', unit: '' }]);
    expect(await s.stat(`${Z}/a/o1`)).toBeNull();
    await s.removeCollection(`${Z}/dst/in`, { recursive: true });
    expect((await s.stat(`${Z}/dst/in/o1`))?.type === 'object').toBe(false);
  });

  it('moves thousands of objects in one call', async () => {
    await s.createCollection(`${Z}/many`);
    await s.createCollection(`${Z}/dest`);
    const local = join(t.dir, 'many');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(local);
    for (let i = 0; i < 2000; i++) writeFileSync(join(local, `f${i}`), `content ${i}`);
    await s.putTree(local, `${Z}/many`);
    const paths = await s.listObjectPaths(`${Z}/many`);
    expect(paths).toHaveLength(2000);
    await s.moveMany(paths.map((p) => ({ src: p, dst: p.replace('/many/', '/dest/') })));
    expect(await s.listObjectPaths(`${Z}/many`)).toEqual([]);
    const moved = await s.listObjectPaths(`${Z}/dest`);
    expect(moved).toHaveLength(2000);
    const sums = await s.computeChecksums(moved);
    const byName = new Map(moved.map((p, i) => [p, sums[i]]));
    expect(byName.get(`${Z}/dest/f1234`)).toBe(md5('content 1234'));
  });
});

describe('metadata', () => {
  it('adds, lists sorted, sets (replacing) and removes AVUs', async () => {
    await s.createCollection(`${Z}/c`);
    const c = `${Z}/c`;
    await s.modifyMetadata(c, 'add', { attribute: 'title', value: 'B', unit: '' });
    await s.modifyMetadata(c, 'add', { attribute: 'title', value: 'A', unit: '' });
    await s.modifyMetadata(c, 'add', { attribute: 'desc', value: 'x', unit: 'u' });
    expect(await s.getMetadata(c)).toEqual([
      { attribute: 'desc', value: 'x', unit: 'u' },
      { attribute: 'title', value: 'A', unit: '' },
      { attribute: 'title', value: 'B', unit: '' },
    ]);
    const dup = await caught(() => s.modifyMetadata(c, 'add', { attribute: 'title', value: 'A', unit: '' }));
    expect(dup).toBeInstanceOf(AlreadyExistsError);
    expect(dup.path).toBe(c);
    await s.modifyMetadata(c, 'set', { attribute: 'title', value: 'C', unit: '' });
    expect(await s.getMetadata(c)).toEqual([
      { attribute: 'desc', value: 'x', unit: 'u' },
      { attribute: 'title', value: 'C', unit: '' },
    ]);
    await s.modifyMetadata(c, 'rm', { attribute: 'desc', value: 'x', unit: 'u' });
    expect(await caught(() => s.modifyMetadata(c, 'rm', { attribute: 'desc', value: 'x', unit: 'u' }))).toBeInstanceOf(NotFoundError);
    expect(await s.getMetadata(c)).toEqual([{ attribute: 'title', value: 'C', unit: '' }]);
    expect(await caught(() => s.getMetadata(`${Z}/none`))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.modifyMetadata(c, 'add', { attribute: '', value: 'x', unit: '' }))).toBeInstanceOf(InvalidPathError);
  });
});

describe('users and groups', () => {
  it('creates, lists and removes users and groups', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('admin2', 'rodsadmin');
    await s.createPrincipal('omics_project_1', 'rodsgroup');
    expect(await s.getPrincipal('alice')).toEqual({ name: 'alice', kind: 'user', userType: 'rodsuser' });
    expect((await s.getPrincipal('omics_project_1'))?.kind).not.toBe('user');
    expect(await s.getPrincipal('omics_project_1')).toEqual({ name: 'omics_project_1', kind: 'group' });
    expect((await s.listPrincipals('user')).map((u) => u.name)).toEqual(['admin2', 'alice', 'rods']);
    expect((await s.listPrincipals('group')).map((g) => g.name)).toEqual(['omics_project_1', 'public']);
    expect(await caught(() => s.createPrincipal('alice', 'rodsuser'))).toBeInstanceOf(AlreadyExistsError);
    expect(await caught(() => s.createPrincipal('alice', 'rodsgroup'))).toBeInstanceOf(AlreadyExistsError);
    expect(await caught(() => s.createPrincipal('public', 'rodsuser'))).toBeInstanceOf(AlreadyExistsError);
    expect(await caught(() => s.createPrincipal('a/b', 'rodsuser'))).toBeInstanceOf(InvalidPathError);
    await s.removePrincipal('admin2', 'user');
    expect(await s.getPrincipal('admin2')).toBeNull();
    expect(await caught(() => s.removePrincipal('admin2', 'user'))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.removePrincipal('rods', 'user'))).toBeInstanceOf(NotAllowedError);
    expect(await caught(() => s.removePrincipal('public', 'group'))).toBeInstanceOf(NotAllowedError);
    expect(await caught(() => s.removePrincipal('alice', 'group'))).toBeInstanceOf(NotFoundError);
    await s.removePrincipal('omics_project_1', 'group');
    expect(await s.getPrincipal('omics_project_1')).toBeNull();
  });

  it('manages members; removing a user or group drops its memberships and ACLs', async () => {
    const before = await s.dump();
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('bob', 'rodsuser');
    await s.createPrincipal('g', 'rodsgroup');
    await s.addGroupMember('g', 'bob');
    await s.addGroupMember('g', 'alice');
    await s.addGroupMember('g', 'alice');
    expect(await s.groupMembers('g')).toEqual(['alice', 'bob']);
    expect(await caught(() => s.addGroupMember('g', 'carol'))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.addGroupMember('nog', 'alice'))).toBeInstanceOf(NotFoundError);
    expect(await caught(() => s.groupMembers('alice'))).toBeInstanceOf(NotFoundError);
    await s.removeGroupMember('g', 'bob');
    await s.removeGroupMember('g', 'bob');
    expect(await s.groupMembers('g')).toEqual(['alice']);
    await s.setAccess(`${Z}/home`, 'alice', 'write');
    await s.setAccess(`${Z}/home`, 'g', 'read');
    await s.removePrincipal('alice', 'user');
    expect(await s.groupMembers('g')).toEqual([]);
    expect(await s.getAcl(`${Z}/home`)).toEqual([
      { name: 'g', kind: 'group', level: 'read' },
      { name: 'rods', kind: 'user', level: 'own' },
    ]);
    await s.removePrincipal('g', 'group');
    await s.removePrincipal('bob', 'user');
    expect(await s.dump()).toEqual(before);
  });
});

describe('checksums', () => {
  it('computes many checksums in input order from the vault', async () => {
    await s.createCollection(`${Z}/c`);
    const paths: string[] = [];
    for (let i = 0; i < 150; i++) {
      paths.push(`${Z}/c/f${i}`);
      await s.putObject(`${Z}/c/f${i}`, Readable.from([`data-${i}`]));
    }
    const shuffled = [...paths].reverse();
    expect(await s.computeChecksums(shuffled)).toEqual(shuffled.map((p) => md5(`data-${p.slice(p.lastIndexOf('f') + 1)}`)));
    expect(await s.computeChecksums([])).toEqual([]);
    expect(await caught(() => s.computeChecksums([`${Z}/c`]))).toBeInstanceOf(NotFoundError);
  });
});

describe('dump', () => {
  it('holds every fact and no timestamps or ids', async () => {
    await s.createPrincipal('alice', 'rodsuser');
    await s.createPrincipal('g', 'rodsgroup');
    await s.addGroupMember('g', 'alice');
    await s.createCollection(`${Z}/c`);
    await s.setInheritance(`${Z}/c`, true);
    await s.putObject(`${Z}/c/f`, Readable.from(['abc']));
    await s.modifyMetadata(`${Z}/c/f`, 'add', { attribute: 'a', value: 'b', unit: 'c' });
    await s.setAccess(`${Z}/c/f`, 'g', 'write');
    const lines = await s.dump();
    expect(lines).toEqual([...lines].sort());
    expect(lines).toContain('{"t":"collection","path":"/testZone/c","owner":"rods","inherit":true}');
    expect(lines).toContain(`{"t":"object","path":"/testZone/c/f","owner":"rods","size":3,"checksum":"${md5('abc')}"}`);
    expect(lines).toContain('{"t":"meta","path":"/testZone/c/f","attribute":"a","value":"b","unit":"c"}');
    expect(lines).toContain('{"t":"acl","path":"/testZone/c/f","name":"g","level":"write"}');
    expect(lines).toContain('{"t":"member","group":"g","user":"alice"}');
    expect(lines).toContain('{"t":"user","name":"alice","type":"rodsuser"}');
    expect(lines.join('\n')).not.toMatch(/modified|"id"|vault|20\d\d-/);
  });
});
