/**
 * Storage resources of the embedded store (`src/store/embedded/resources.ts`):
 * a made resource's vault folder, objects placed on it by their vault id,
 * an object replaced through the store keeping its resource, removal only
 * when empty, and fsck seeing the resources' files.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, InvalidPathError, NotAllowedError, NotFoundError } from '../../src/store/errors.js';
import { DEFAULT_RESOURCE, resourceOfVaultId } from '../../src/store/embedded/resources.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { storePerTest, type TempStore } from '../support/store-helpers.js';

const Z = '/testZone';
let t: TempStore;
let store: EmbeddedStore;
storePerTest((s) => {
  t = s;
  store = s.store;
});

/** Puts `text` at `path` as an object on `resource`, as the protocol server places a new object there. */
async function putOn(path: string, text: string, resource: string) {
  const staged = await store.vault.stage(Readable.from([Buffer.from(text)]), { resource, inline: false });
  return store.commitObjects([{ path, staged, owner: 'rods' }]);
}
const vaultIdOf = (path: string) => store.protocolCore().row(path)!.vault_id!;

describe('storage resources', () => {
  it('a made resource has its own vault folder in the data folder; its objects are files there, named by their vault id', async () => {
    store.addResource('ufs', 'localhost', '');
    expect(store.listResources().map((r) => r.name)).toEqual(['ufs']);
    expect(store.resourceExists('ufs') && store.resourceExists(DEFAULT_RESOURCE)).toBe(true);
    await putOn(`${Z}/home/a.txt`, 'on ufs', 'ufs');
    const id = vaultIdOf(`${Z}/home/a.txt`);
    expect(resourceOfVaultId(id)).toBe('ufs');
    const hex = id.slice('ufs/'.length);
    expect(readdirSync(join(t.dataDir, 'resources', 'ufs', hex.slice(0, 2)))).toEqual([hex]);
    expect(store.vault.filePath(id)).toBe(join(t.dataDir, 'resources', 'ufs', hex.slice(0, 2), hex));
    // read back, checksummed and replaced through the store's own calls: it stays on ufs
    expect(await store.checksum(`${Z}/home/a.txt`, { verify: true })).toMatch(/^[0-9a-f]{32}$/);
    await store.putObject(`${Z}/home/a.txt`, Readable.from([Buffer.from('new bytes')]), { overwrite: true });
    expect(resourceOfVaultId(vaultIdOf(`${Z}/home/a.txt`))).toBe('ufs');
    expect(existsSync(store.vault.filePath(id))).toBe(false);
    await store.move(`${Z}/home/a.txt`, `${Z}/home/b.txt`);
    expect(resourceOfVaultId(vaultIdOf(`${Z}/home/b.txt`))).toBe('ufs');
    expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    const dump = await store.dump();
    expect(dump).toContain('{"t":"resource","name":"ufs","host":"localhost","context":""}');
    expect(dump.find((l) => l.startsWith('{"t":"object","path":"/testZone/home/b.txt"'))).toContain('"resource":"ufs"');
  });

  it('refuses bad and taken names, removing the store vault, an unknown resource and one holding objects', async () => {
    expect(() => store.addResource('../x', 'localhost', '')).toThrow(InvalidPathError);
    expect(() => store.addResource('a b', 'localhost', '')).toThrow(InvalidPathError);
    expect(() => store.addResource(DEFAULT_RESOURCE, 'localhost', '')).toThrow(AlreadyExistsError);
    store.addResource('ufs', 'localhost', '');
    expect(() => store.addResource('ufs', 'localhost', '')).toThrow(AlreadyExistsError);
    expect(() => store.removeResource(DEFAULT_RESOURCE)).toThrow(NotAllowedError);
    expect(() => store.removeResource('nosuch')).toThrow(NotFoundError);
    await putOn(`${Z}/home/a.txt`, 'x', 'ufs');
    expect(() => store.removeResource('ufs', true)).toThrow(NotAllowedError);
    expect(() => store.removeResource('ufs')).toThrow(NotAllowedError);
    // a resource whose name sorts right after is not counted as holding ufs's objects
    store.addResource('ufs-2', 'localhost', '');
    store.removeResource('ufs-2');
    await store.removeObject(`${Z}/home/a.txt`);
    store.removeResource('ufs', true);
    expect(store.resourceExists('ufs')).toBe(true);
    store.removeResource('ufs');
    expect(store.resourceExists('ufs')).toBe(false);
    expect(existsSync(join(t.dataDir, 'resources', 'ufs'))).toBe(false);
  });

  it('bytes staged for a resource removed before the commit are not committed, and leave nothing', async () => {
    store.addResource('ufs', 'localhost', '');
    const staged = await store.vault.stage(Readable.from([Buffer.from('late')]), { resource: 'ufs', inline: false });
    store.removeResource('ufs');
    expect(() => store.commitObjects([{ path: `${Z}/home/late.txt`, staged, owner: 'rods' }])).toThrow(NotFoundError);
    expect(await store.stat(`${Z}/home/late.txt`)).toBeNull();
    expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it("fsck reports a file in a resource's folder that no object names, and a missing one", async () => {
    store.addResource('ufs', 'localhost', '');
    await putOn(`${Z}/home/a.txt`, 'x', 'ufs');
    const stray = join(t.dataDir, 'resources', 'ufs', 'ab', 'ab'.repeat(16));
    writeFileSync(join(t.dataDir, 'resources', 'ufs', 'loose'), 'x');
    mkdirSync(join(t.dataDir, 'resources', 'ufs', 'ab'), { recursive: true });
    writeFileSync(stray, 'x');
    const report = await store.fsck();
    expect(report.orphanFiles).toEqual([join(t.dataDir, 'resources', 'ufs', 'ab', 'ab'.repeat(16)), join(t.dataDir, 'resources', 'ufs', 'loose')].sort());
    expect(report.missingFiles).toEqual([]);
    rmSync(store.vault.filePath(vaultIdOf(`${Z}/home/a.txt`)));
    expect((await store.fsck()).missingFiles).toEqual([`${Z}/home/a.txt`]);
  });
});
