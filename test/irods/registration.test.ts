/**
 * Registration of server files (PHY_PATH_REG_AN 630) and unregistering
 * (unlink 615 and collection removal 679 with oprType 26), through the
 * handlers with bodies as python-irodsclient 0.8.1 sends them
 * (`data_objects.register`, `collections.register`, `unregister`): bytes
 * copied into the vault with their MD5, the server file never touched, all
 * or nothing, rodsadmins only, and nothing read from the store's data
 * folder or the kernel's pseudo file systems.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { tempStore, type TempStore } from '../support/store-helpers.js';
import { call, handlerContext, irodsError, type TestContext } from './support/handler-context.js';
import { collInp, dataObjInp, ObjectsClient } from './support/objects-context.js';

const Z = '/testZone';
const COLL = `${Z}/home/rods/reg`;
const PHY_PATH_REG_AN = 630;

let t: TempStore;
let s: EmbeddedStore;
let files: string;
let rods: TestContext;
let alice: TestContext;
const contexts: TestContext[] = [];
const clean = { missingFiles: [], orphanFiles: [], repaired: 0 };

beforeEach(async () => {
  t = tempStore();
  s = t.store;
  files = mkdtempSync(join(tmpdir(), 'taskflow-register-'));
  await s.createPrincipal('alice', 'rodsuser');
  await s.createCollection(`${Z}/home/alice`, { parents: true, owner: 'alice' });
  await s.createCollection(COLL, { parents: true });
  contexts.push((rods = await handlerContext(s, 'rods')), (alice = await handlerContext(s, 'alice')));
});
afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.end();
  await t.cleanup();
  rmSync(files, { recursive: true, force: true });
});

// python-irodsclient 0.8.1 data_object_manager.register / collection_manager.register
function register(ctx: TestContext, filePath: string, objPath: string, kv: Record<string, string> = {}) {
  return call(PHY_PATH_REG_AN, ctx, 'DataObjInp_PI', dataObjInp(objPath, { dataSize: 0, kv: { ...kv, filePath } }));
}
function registerFolder(ctx: TestContext, dirPath: string, collPath: string, kv: Record<string, string> = {}) {
  return register(ctx, dirPath, collPath, { ...kv, collection: '' });
}
// unregister: oprType 26 in the request and as a keyword; a collection recursively, as remove() defaults to
function unregister(ctx: TestContext, path: string) {
  return call(615, ctx, 'DataObjInp_PI', dataObjInp(path, { oprType: 26, kv: { oprType: '26' } }));
}
function unregisterCollection(ctx: TestContext, path: string) {
  return call(679, ctx, 'CollInpNew_PI', { ...collInp(path, { oprType: '26', recursiveOpr: '' }), oprType: '26' });
}

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
function writeFile(name: string, content: Buffer | string): string {
  const path = join(files, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}
const tempFilesLeft = () => readdirSync(s.vault.tempDir);

describe('registering a server file (PHY_PATH_REG_AN 630)', () => {
  it('copies the bytes into the vault as a new object with its MD5, owned by the rodsadmin; the file stays as it was', async () => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const file = writeFile('register_test_file', bytes);
    expect(await register(rods, file, `${COLL}/register_test_file`)).toEqual({ status: 0 });
    expect(await s.stat(`${COLL}/register_test_file`)).toMatchObject({ type: 'object', size: 4096, checksum: md5(bytes), owner: 'rods' });
    expect(await new ObjectsClient(rods).get(`${COLL}/register_test_file`)).toEqual(bytes);
    expect(readFileSync(file)).toEqual(bytes);
    expect(await s.fsck()).toEqual(clean);
  });

  it('takes names with XML special characters and quotes, on both sides', async () => {
    const name = `aaa'"<&test&>"'_file`;
    const file = writeFile(name, 'special');
    await register(rods, file, `${COLL}/${name}`);
    expect(await s.stat(`${COLL}/${name}`)).toMatchObject({ size: 7, checksum: md5('special') });
    await unregister(rods, `${COLL}/${name}`);
    expect(await s.stat(`${COLL}/${name}`)).toBeNull();
    expect(readFileSync(file, 'utf8')).toBe('special');
  });

  it('unregistering removes the object and its vault copy, never the server file', async () => {
    const file = writeFile('f', 'keep me');
    await register(rods, file, `${COLL}/f`);
    expect(await unregister(rods, `${COLL}/f`)).toEqual({ status: 0 });
    expect(await s.stat(`${COLL}/f`)).toBeNull();
    expect(await s.fsck()).toEqual(clean);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    // not into the trash either
    expect(await s.list(`${Z}/trash`, { recursive: true })).not.toContainEqual(expect.objectContaining({ type: 'object' }));
  });

  it('refuses users who are not rodsadmins, and their unregistering, changing nothing', async () => {
    const file = writeFile('f', 'x');
    expect(await irodsError(register(alice, file, `${Z}/home/alice/f`))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    expect(await s.stat(`${Z}/home/alice/f`)).toBeNull();
    await new ObjectsClient(alice).put(`${Z}/home/alice/mine`, 'mine');
    expect(await irodsError(unregister(alice, `${Z}/home/alice/mine`))).toBe('CANT_UNREG_IN_VAULT_FILE');
    expect(await s.stat(`${Z}/home/alice/mine`)).not.toBeNull();
    expect(await irodsError(unregister(alice, `${Z}/home/alice/none`))).toBe('CAT_NO_ROWS_FOUND');
    // without the access an unlink needs, that is the answer, as iRODS checks it first
    await register(rods, file, `${COLL}/f`);
    expect(await irodsError(unregister(alice, `${COLL}/f`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.stat(`${COLL}/f`)).not.toBeNull();
  });

  it('answers as iRODS for bad physical paths, missing files, folders and what is in the way', async () => {
    const file = writeFile('f', 'x');
    mkdirSync(join(files, 'dir'));
    expect(await irodsError(call(PHY_PATH_REG_AN, rods, 'DataObjInp_PI', dataObjInp(`${COLL}/f`)))).toBe('SYS_INVALID_FILE_PATH');
    expect(await irodsError(register(rods, 'relative/f', `${COLL}/f`))).toBe('SYS_INVALID_FILE_PATH');
    expect(await irodsError(register(rods, `${files}/dir/../f`, `${COLL}/f`))).toBe('SYS_INVALID_FILE_PATH');
    expect(await irodsError(register(rods, `${files}/missing`, `${COLL}/f`))).toBe('UNIX_FILE_STAT_ERR');
    expect(await irodsError(register(rods, join(files, 'dir'), `${COLL}/f`))).toBe('SYS_PATH_IS_NOT_A_FILE');
    expect(await irodsError(registerFolder(rods, file, `${COLL}/d`))).toBe('UNIX_FILE_OPENDIR_ERR');
    expect(await irodsError(register(rods, file, `${COLL}/none/f`))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(register(rods, file, COLL))).toBe('CAT_NAME_EXISTS_AS_COLLECTION');
    expect(await irodsError(register(rods, file, 'reg/f'))).toBe('USER_INPUT_PATH_ERR');
    await register(rods, file, `${COLL}/f`);
    expect(await irodsError(register(rods, file, `${COLL}/f`))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    for (const kw of ['regRepl', 'collectionType', 'excludeFile', 'registerAsIntermediate']) {
      expect(await irodsError(register(rods, file, `${COLL}/g`, { [kw]: 'x' }))).toBe('SYS_NOT_SUPPORTED');
    }
    expect(await s.list(COLL)).toHaveLength(1);
    expect(tempFilesLeft()).toEqual([]);
  });

  it("never reads the store's data folder or the kernel's pseudo file systems, through links either", async () => {
    writeFileSync(join(t.dataDir, 'secret'), 'the service secret');
    symlinkSync(join(t.dataDir, 'secret'), join(files, 'innocent'));
    symlinkSync(t.dataDir, join(files, 'data-link'));
    for (const path of [
      join(t.dataDir, 'catalog.sqlite'),
      join(t.dataDir, 'secret'),
      join(files, 'innocent'),
      join(files, 'data-link', 'catalog.sqlite'),
      '/proc/self/environ',
      '/dev/null',
    ]) {
      expect(await irodsError(register(rods, path, `${COLL}/stolen`)), path).toBe('SYS_INVALID_FILE_PATH');
    }
    for (const dir of [t.dataDir, join(t.dataDir, 'vault'), join(files, 'data-link'), t.dir, '/proc/self', '/']) {
      expect(await irodsError(registerFolder(rods, dir, `${COLL}/stolen`)), dir).toBe('SYS_INVALID_FILE_PATH');
    }
    expect(await s.stat(`${COLL}/stolen`)).toBeNull();
    expect(tempFilesLeft()).toEqual([]);
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    execFileSync('mkfifo', [join(files, 'fifo')]);
    expect(await irodsError(register(rods, join(files, 'fifo'), `${COLL}/fifo`))).toBe('SYS_PATH_IS_NOT_A_FILE');
  });
});

describe('registering a server folder (PHY_PATH_REG_AN 630 with collection)', () => {
  function makeFolder(): string {
    for (let i = 0; i < 10; i++) writeFile(`register_test_dir/test_${String(i).padStart(2, '0')}.txt`, `file ${i}`);
    writeFile('register_test_dir/sub/deeper/x.bin', Buffer.alloc(70_000, 1));
    mkdirSync(join(files, 'register_test_dir', 'empty'));
    return join(files, 'register_test_dir');
  }

  it('adds the collection, its subcollections and objects, owned by the rodsadmin; unregistering removes them all and leaves the folder', async () => {
    const dir = makeFolder();
    execFileSync('mkfifo', [join(dir, 'a-fifo')]);
    expect(await registerFolder(rods, dir, `${COLL}/register_test_dir`)).toEqual({ status: 0 });
    const listed = await s.list(`${COLL}/register_test_dir`, { recursive: true });
    const objects = listed.filter((e) => e.type === 'object');
    expect(objects).toHaveLength(11);
    expect(listed.filter((e) => e.type === 'collection').map((e) => e.path)).toEqual(
      ['empty', 'sub', 'sub/deeper'].map((p) => `${COLL}/register_test_dir/${p}`),
    );
    expect(await s.stat(`${COLL}/register_test_dir/test_03.txt`)).toMatchObject({ size: 6, checksum: md5('file 3'), owner: 'rods' });
    expect(await s.stat(`${COLL}/register_test_dir/sub/deeper/x.bin`)).toMatchObject({ size: 70_000, checksum: md5(Buffer.alloc(70_000, 1)) });
    expect(await s.stat(`${COLL}/register_test_dir`)).toMatchObject({ type: 'collection', owner: 'rods' });

    expect(await unregisterCollection(rods, `${COLL}/register_test_dir`)).toMatchObject({ status: 0 });
    expect(await s.stat(`${COLL}/register_test_dir`)).toBeNull();
    expect(await s.fsck()).toEqual(clean);
    expect(readdirSync(dir).sort()).toEqual(['a-fifo', 'empty', 'sub', ...Array.from({ length: 10 }, (_, i) => `test_${String(i).padStart(2, '0')}.txt`)].sort());
  });

  it('is all or nothing: one object in the way registers nothing and leaves no copies; forceFlag leaves it and registers the rest', async () => {
    const dir = makeFolder();
    await s.createCollection(`${COLL}/register_test_dir`);
    await new ObjectsClient(rods).put(`${COLL}/register_test_dir/test_05.txt`, 'already here');
    expect(await irodsError(registerFolder(rods, dir, `${COLL}/register_test_dir`))).toBe('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME');
    expect((await s.list(`${COLL}/register_test_dir`, { recursive: true })).map((e) => e.path)).toEqual([`${COLL}/register_test_dir/test_05.txt`]);
    expect(tempFilesLeft()).toEqual([]);
    expect(await s.fsck()).toEqual(clean);

    await registerFolder(rods, dir, `${COLL}/register_test_dir`, { forceFlag: '' });
    expect(await s.list(`${COLL}/register_test_dir`, { recursive: true })).toHaveLength(14);
    expect(await s.stat(`${COLL}/register_test_dir/test_05.txt`)).toMatchObject({ checksum: md5('already here') });
    expect(tempFilesLeft()).toEqual([]);
    expect(await s.fsck()).toEqual(clean);
  });

  it('refuses a folder with a link into the data folder or back up into itself as a whole', async () => {
    const dir = makeFolder();
    symlinkSync(join(t.dataDir, 'catalog.sqlite'), join(dir, 'zz-catalog'));
    expect(await irodsError(registerFolder(rods, dir, `${COLL}/d`))).toBe('SYS_INVALID_FILE_PATH');
    rmSync(join(dir, 'zz-catalog'));
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    expect(await irodsError(registerFolder(rods, dir, `${COLL}/d`))).toBe('SYS_INVALID_FILE_PATH');
    expect(await s.stat(`${COLL}/d`)).toBeNull();
    expect(tempFilesLeft()).toEqual([]);
  });

  it('refuses users who are not rodsadmins; their unregistering of a collection holding objects, but not of an empty one', async () => {
    const dir = makeFolder();
    expect(await irodsError(registerFolder(alice, dir, `${Z}/home/alice/d`))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
    const a = new ObjectsClient(alice);
    await a.mkdir(`${Z}/home/alice/c/sub`, { recursiveOpr: '' });
    await a.put(`${Z}/home/alice/c/sub/o`, 'o');
    expect(await irodsError(unregisterCollection(alice, `${Z}/home/alice/c`))).toBe('CANT_UNREG_IN_VAULT_FILE');
    expect(await s.stat(`${Z}/home/alice/c/sub/o`)).not.toBeNull();
    await a.mkdir(`${Z}/home/alice/e/sub`, { recursiveOpr: '' });
    await unregisterCollection(alice, `${Z}/home/alice/e`);
    expect(await s.stat(`${Z}/home/alice/e`)).toBeNull();
  });
});
