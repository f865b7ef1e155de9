/**
 * Small objects keep their bytes in the catalog (`object_bytes`, written in
 * the transaction that commits the object) instead of a vault file: every
 * reader, mover, remover and checker of object bytes handles them, and an
 * overwrite moves an object between the two kinds all or nothing.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { STORE_DEFAULTS } from '../../src/config.js';
import { AlreadyExistsError, ChecksumMismatchError, NotAllowedError } from '../../src/store/index.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { caught, readAll, storePerTest, type TempStore } from '../support/store-helpers.js';

const Z = '/testZone';
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
const LIMIT = STORE_DEFAULTS.inlineMaxBytes;
let t: TempStore;
let s: EmbeddedStore;
storePerTest((opened) => {
  t = opened;
  s = opened.store;
});

/** The object files of the vault (temp files excluded). */
function vaultFiles(): string[] {
  const vault = join(t.dataDir, 'vault');
  return readdirSync(vault)
    .filter((d) => d !== 'tmp')
    .flatMap((d) => readdirSync(join(vault, d)));
}

/** The number of catalog-kept byte rows. */
const byteRows = (): number => s.protocolCore().db.prepare('SELECT count(*) FROM object_bytes').pluck().get() as number;

/** Whether the object at `path` keeps its bytes in the catalog. */
function inCatalog(path: string): boolean {
  const core = s.protocolCore();
  return core.sourceOf(core.row(path)!).bytes !== undefined;
}

const put = (path: string, bytes: string | Buffer, overwrite = false) => s.putObject(path, Readable.from([Buffer.from(bytes)]), { overwrite });
const get = async (path: string) => (await readAll(await s.getObject(path))).toString();
const clean = { missingFiles: [], orphanFiles: [], repaired: 0 };

describe('small objects in the catalog', () => {
  it('up to the bound an object has no vault file; one byte more has one; the bound 0 keeps every object in a file', async () => {
    await put(`${Z}/at`, Buffer.alloc(LIMIT, 1));
    await put(`${Z}/over`, Buffer.alloc(LIMIT + 1, 2));
    await put(`${Z}/empty`, '');
    expect([inCatalog(`${Z}/at`), inCatalog(`${Z}/over`), inCatalog(`${Z}/empty`)]).toEqual([true, false, true]);
    expect(vaultFiles()).toHaveLength(1);
    expect(byteRows()).toBe(2);
    expect(await get(`${Z}/empty`)).toBe('');
    expect((await readAll(await s.getObject(`${Z}/at`))).equals(Buffer.alloc(LIMIT, 1))).toBe(true);
    expect(await s.fsck()).toEqual(clean);

    const { tempStore } = await import('../support/store-helpers.js');
    const off = tempStore('testZone', { inlineMaxBytes: 0 });
    try {
      await off.store.putObject(`${Z}/tiny`, Readable.from([Buffer.from('x')]));
      await off.store.putObject(`${Z}/none`, Readable.from([]));
      const core = off.store.protocolCore();
      expect(core.db.prepare('SELECT count(*) FROM object_bytes').pluck().get()).toBe(0);
      expect(await off.store.fsck()).toEqual(clean);
      expect((await readAll(await off.store.getObject(`${Z}/none`))).length).toBe(0);
    } finally {
      await off.cleanup();
    }
  });

  it('reads, checksums, heads, moves, trash and restore, as a vault file object', async () => {
    await s.createCollection(`${Z}/c`);
    await put(`${Z}/c/a.md5`, 'abc  a\n');
    expect(inCatalog(`${Z}/c/a.md5`)).toBe(true);
    expect(await get(`${Z}/c/a.md5`)).toBe('abc  a\n');
    expect(await s.checksum(`${Z}/c/a.md5`, { verify: true })).toBe(md5('abc  a\n'));
    await put(`${Z}/c/big`, Buffer.alloc(LIMIT + 10, 3));
    // in input order, whichever kind each is
    expect(await s.computeChecksums([`${Z}/c/big`, `${Z}/c/a.md5`])).toEqual([md5(Buffer.alloc(LIMIT + 10, 3)), md5('abc  a\n')]);
    expect(await s.readObjectHeads([`${Z}/c/a.md5`, `${Z}/c/big`], 4)).toEqual(['abc ', '\x03\x03\x03\x03']);

    await s.move(`${Z}/c/a.md5`, `${Z}/a.md5`);
    await s.moveMany([{ src: `${Z}/a.md5`, dst: `${Z}/c/b.md5` }]);
    await s.move(`${Z}/c`, `${Z}/d`);
    expect(await get(`${Z}/d/b.md5`)).toBe('abc  a\n');
    const trashed = await s.trash(`${Z}/d`);
    expect(await get(`${trashed}/b.md5`)).toBe('abc  a\n');
    await s.restore(trashed, `${Z}/d`);
    expect(await get(`${Z}/d/b.md5`)).toBe('abc  a\n');
    expect(await s.checksum(`${Z}/d/b.md5`, { verify: true })).toBe(md5('abc  a\n'));
    expect(byteRows()).toBe(1);
    expect(await s.fsck()).toEqual(clean);
  });

  it('removal takes the bytes with the object, one by one or with a collection', async () => {
    await s.createCollection(`${Z}/c`);
    await put(`${Z}/one`, 'one');
    await put(`${Z}/c/two`, 'two');
    await put(`${Z}/c/big`, Buffer.alloc(LIMIT + 1));
    await s.removeObject(`${Z}/one`);
    expect(byteRows()).toBe(1);
    await s.removeCollection(`${Z}/c`, { recursive: true });
    expect(byteRows()).toBe(0);
    expect(vaultFiles()).toEqual([]);
    expect(await s.fsck()).toEqual(clean);
  });

  it('an overwrite moves an object from the catalog to a vault file and back, leaving no old bytes', async () => {
    await put(`${Z}/f`, 'small');
    await s.modifyMetadata(`${Z}/f`, 'add', { attribute: 'a', value: '1', unit: '' });
    const big = Buffer.alloc(LIMIT * 2, 7);
    expect((await put(`${Z}/f`, big, true)).checksum).toBe(md5(big));
    expect(inCatalog(`${Z}/f`)).toBe(false);
    expect(byteRows()).toBe(0);
    expect(vaultFiles()).toHaveLength(1);
    expect((await readAll(await s.getObject(`${Z}/f`))).equals(big)).toBe(true);

    expect((await put(`${Z}/f`, 'small again', true)).checksum).toBe(md5('small again'));
    expect(inCatalog(`${Z}/f`)).toBe(true);
    expect(vaultFiles()).toEqual([]);
    expect(await get(`${Z}/f`)).toBe('small again');
    await put(`${Z}/f`, 'and again', true);
    expect(byteRows()).toBe(1);
    expect(await get(`${Z}/f`)).toBe('and again');
    expect(await s.getMetadata(`${Z}/f`)).toEqual([{ attribute: 'a', value: '1', unit: '' }]);
    expect(await s.fsck()).toEqual(clean);
  });

  it('a put that fails at its commit leaves the object as it was and nothing else', async () => {
    await put(`${Z}/f`, 'first');
    const staged = await s.vault.stage(Readable.from([Buffer.from('second')]));
    expect('bytes' in staged).toBe(true);
    expect(() => s.commitObjects([{ path: `${Z}/f`, staged }])).toThrow(AlreadyExistsError);
    expect(() =>
      s.commitObjects([{ path: `${Z}/f`, staged, overwrite: true }], [], () => {
        throw new NotAllowedError(`${Z}/f`, 'refused by the check');
      }),
    ).toThrow(NotAllowedError);
    expect(await get(`${Z}/f`)).toBe('first');
    expect(byteRows()).toBe(1);
    expect(await s.fsck()).toEqual(clean);
  });

  it("a commit's check gets what is at each path and the parent's key; the owner must be a user", async () => {
    await s.createCollection(`${Z}/c`);
    await put(`${Z}/c/old`, 'old');
    const core = s.protocolCore();
    const stage = (text: string) => s.vault.stage(Readable.from([Buffer.from(text)]));
    const oldRow = core.row(`${Z}/c/old`);
    const seen: unknown[] = [];
    s.commitObjects(
      [
        { path: `${Z}/c/new`, staged: await stage('new') },
        { path: `${Z}/c/old`, staged: await stage('newer'), overwrite: true },
      ],
      [],
      (found) => seen.push(...found),
    );
    const parent = { id: core.keyOf(`${Z}/c`)!.id, kind: 'c', inherit: 0 };
    expect(seen).toMatchObject([
      { existing: undefined, parent },
      { existing: oldRow, parent },
    ]);
    expect([await get(`${Z}/c/new`), await get(`${Z}/c/old`)]).toEqual(['new', 'newer']);
    // an owner that is no user (none, or a group) fails the commit, with or without a check
    for (const owner of ['nobody', 'public']) {
      const staged = await stage('x');
      const err = await caught(async () => s.commitObjects([{ path: `${Z}/c/by-${owner}`, staged, owner }], [], () => {}));
      expect(err).toMatchObject({ code: 'NOT_FOUND', path: owner, what: 'user' });
      const err2 = await caught(() => s.putObject(`${Z}/c/by-${owner}`, Readable.from(['x']), { owner }));
      expect(err2).toMatchObject({ code: 'NOT_FOUND', path: owner, what: 'user' });
    }
    expect(await s.stat(`${Z}/c/by-nobody`)).toBeNull();
    expect(await s.fsck()).toEqual(clean);
  });

  it('verification finds bytes changed behind the catalog', async () => {
    await put(`${Z}/f`, 'original');
    const core = s.protocolCore();
    core.db.prepare('UPDATE object_bytes SET bytes = ?').run(Buffer.from('tampered'));
    const err = await caught(() => s.checksum(`${Z}/f`, { verify: true }));
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(await s.computeChecksums([`${Z}/f`])).toEqual([md5('tampered')]);
    // the catalog bytes are all there is: nothing is missing for fsck
    expect(await s.fsck()).toEqual(clean);
  });

  it('fsck reports and repairs catalog bytes no object owns', async () => {
    await put(`${Z}/f`, 'kept');
    const core = s.protocolCore();
    const collId = core.row(Z)!.id;
    core.db.prepare("INSERT INTO object_bytes (entry_id, vault_id, bytes) VALUES (999999, 'ab', x'00'), (?, 'cd', x'01')").run(collId);
    const report = await s.fsck();
    expect(report.missingFiles).toEqual([]);
    expect(report.orphanFiles).toEqual([`${core.db.name}#object_bytes/${collId}`, `${core.db.name}#object_bytes/999999`]);
    expect((await s.fsck({ repair: true })).repaired).toBe(2);
    expect(await s.fsck()).toEqual(clean);
    expect(await get(`${Z}/f`)).toBe('kept');
  });

  it('an object in the catalog stays on its resource, which it keeps from being removed', async () => {
    s.addResource('ufs', 'localhost', '');
    const staged = await s.vault.stage(Readable.from([Buffer.from('on ufs')]), { resource: 'ufs' });
    s.commitObjects([{ path: `${Z}/r`, staged }]);
    expect(inCatalog(`${Z}/r`)).toBe(true);
    expect(await s.dump()).toContain(JSON.stringify({ t: 'object', path: `${Z}/r`, owner: 'rods', size: 6, checksum: md5('on ufs'), resource: 'ufs' }));
    expect(() => s.removeResource('ufs')).toThrow(NotAllowedError);
    await put(`${Z}/r`, Buffer.alloc(LIMIT + 1), true);
    expect(s.protocolCore().row(`${Z}/r`)!.vault_id!.startsWith('ufs/')).toBe(true);
    await s.removeObject(`${Z}/r`);
    s.removeResource('ufs');
    expect(await s.fsck()).toEqual(clean);
  });
});
