/**
 * Small objects over the protocol: a write open whose bytes stay small ends
 * in the catalog (no temp file, no vault file at any point), reads, copies,
 * truncates and non-truncating opens start from those bytes, and a
 * rewrite that grows past the bound (or shrinks below it) moves the object
 * between the catalog and a vault file, all or nothing.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import type { TempStore } from '../support/store-helpers.js';
import { irodsError, type TestContext } from './support/handler-context.js';
import { O, ObjectsClient, usersPerTest } from './support/objects-context.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

let t: TempStore;
let s: EmbeddedStore;
let alice: ObjectsClient;
let bob: ObjectsClient;
let client: (name: string) => Promise<ObjectsClient>;
let contexts: TestContext[];
usersPerTest((u) => {
  ({ t, store: s, alice, bob, client, contexts } = u);
});

/** Files of the vault: object files and temp files. */
function files(): { objects: string[]; temps: string[] } {
  const vault = join(t.dataDir, 'vault');
  const shards = readdirSync(vault).filter((d) => d !== 'tmp');
  return { objects: shards.flatMap((d) => readdirSync(join(vault, d))), temps: readdirSync(join(vault, 'tmp')) };
}
const none = { objects: [], temps: [] };

function inCatalog(path: string): boolean {
  const core = s.protocolCore();
  return core.sourceOf(core.row(path)!).bytes !== undefined;
}

describe('small objects over the protocol', () => {
  it('a small put makes no file at any point; reads, seeks and stat answer from the catalog bytes', async () => {
    const fd = await alice.open(`${HOME}/a`, O.WRONLY | O.CREAT | O.TRUNC);
    await alice.write(fd, 'hello ');
    await alice.write(fd, 'world');
    expect(files()).toEqual(none);
    await alice.close(fd);
    expect(files()).toEqual(none);
    expect(inCatalog(`${HOME}/a`)).toBe(true);
    expect(await s.stat(`${HOME}/a`)).toMatchObject({ size: 11, checksum: md5('hello world'), owner: 'alice' });

    const rd = await alice.open(`${HOME}/a`, O.RDONLY);
    expect((await alice.read(rd, 5)).toString()).toBe('hello');
    expect(await alice.seek(rd, -5, 2)).toBe(6);
    expect((await alice.read(rd, 100)).toString()).toBe('world');
    expect((await alice.read(rd, 100)).length).toBe(0);
    expect(await irodsError(alice.write(rd, 'x'))).toBe('UNIX_FILE_WRITE_ERR');
    await alice.close(rd);
    expect((await alice.stat(`${HOME}/a`)).body!.fields).toMatchObject({ objSize: 11, chksum: md5('hello world') });
    expect(await alice.checksum(`${HOME}/a`, { verifyChksum: '' })).toBe(md5('hello world'));
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('an open without truncating starts from the catalog bytes; an append keeps the MD5 running; a close without writes changes nothing', async () => {
    await alice.put(`${HOME}/a`, 'abc');
    const before = s.protocolCore().row(`${HOME}/a`)!;
    const same = await alice.open(`${HOME}/a`, O.RDWR);
    expect((await alice.read(same, 10)).toString()).toBe('abc');
    await alice.close(same);
    expect(s.protocolCore().row(`${HOME}/a`)).toEqual(before);

    const app = await alice.open(`${HOME}/a`, O.WRONLY | O.APPEND);
    await alice.write(app, 'def');
    await alice.close(app);
    const mid = await alice.open(`${HOME}/a`, O.RDWR);
    await alice.seek(mid, 1, 0);
    await alice.write(mid, 'X');
    await alice.close(mid);
    expect((await alice.get(`${HOME}/a`)).toString()).toBe('aXcdef');
    expect(await s.checksum(`${HOME}/a`, { verify: true })).toBe(md5('aXcdef'));
    expect(inCatalog(`${HOME}/a`)).toBe(true);
    expect(files()).toEqual(none);
  });

  it('a rewrite growing past the bound moves the object to a vault file; one shrinking below it moves it back; no old bytes stay', async () => {
    const limit = s.vault.inlineMax;
    await alice.put(`${HOME}/f`, 'small');
    // grown in place, without truncating: the catalog bytes are the start
    const grow = await alice.open(`${HOME}/f`, O.WRONLY);
    await alice.seek(grow, 0, 2);
    await alice.write(grow, Buffer.alloc(limit, 1));
    await alice.close(grow);
    const grown = Buffer.concat([Buffer.from('small'), Buffer.alloc(limit, 1)]);
    expect(inCatalog(`${HOME}/f`)).toBe(false);
    expect(files().objects).toHaveLength(1);
    expect((await alice.get(`${HOME}/f`)).equals(grown)).toBe(true);
    expect(await s.checksum(`${HOME}/f`, { verify: true })).toBe(md5(grown));

    await alice.put(`${HOME}/f`, 'small again');
    expect(inCatalog(`${HOME}/f`)).toBe(true);
    expect(files()).toEqual(none);
    expect((await alice.get(`${HOME}/f`)).toString()).toBe('small again');

    // a large object cut below the bound stays a file: its bytes were never in memory
    await alice.put(`${HOME}/g`, Buffer.alloc(limit + 1, 2));
    await alice.truncate(`${HOME}/g`, 3);
    expect((await alice.get(`${HOME}/g`)).equals(Buffer.alloc(3, 2))).toBe(true);
    expect(files().objects).toHaveLength(1);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('a rewrite that fails at its close, or whose connection ends before it, leaves the old bytes', async () => {
    await alice.put(`${HOME}/f`, 'old');
    const fd = await alice.open(`${HOME}/f`, O.WRONLY | O.TRUNC);
    await alice.write(fd, 'new');
    // the client's checksum does not match what arrived: nothing is stored
    expect(await irodsError(alice.close(fd, { verifyChksum: '', chksum: md5('other') }))).toBe('USER_CHKSUM_MISMATCH');
    expect((await alice.get(`${HOME}/f`)).toString()).toBe('old');

    const carol = await client('alice');
    const gone = await carol.open(`${HOME}/f`, O.WRONLY | O.TRUNC);
    await carol.write(gone, 'half');
    const fresh = await carol.open(`${HOME}/new`, O.WRONLY | O.CREAT);
    await carol.write(fresh, 'never closed');
    await contexts[contexts.length - 1]!.end();
    expect((await alice.get(`${HOME}/f`)).toString()).toBe('old');
    expect(await s.stat(`${HOME}/new`)).toBeNull();
    expect(files()).toEqual(none);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('copies and truncates of a small object stay in the catalog, with their MD5 checked', async () => {
    await alice.put(`${HOME}/src`, 'source bytes');
    await s.setAccess(`${HOME}/src`, 'bob', 'read');
    await bob.copy(`${HOME}/src`, `${Z}/home/bob/dst`, { verifyChksum: '' });
    expect(inCatalog(`${Z}/home/bob/dst`)).toBe(true);
    expect((await bob.get(`${Z}/home/bob/dst`)).toString()).toBe('source bytes');
    await alice.truncate(`${HOME}/src`, 6);
    await alice.truncate(`${HOME}/src`, 8);
    expect((await alice.get(`${HOME}/src`)).toString()).toBe('source\0\0');
    expect(await s.checksum(`${HOME}/src`, { verify: true })).toBe(md5('source\0\0'));
    expect(inCatalog(`${HOME}/src`)).toBe(true);
    expect(files()).toEqual(none);
  });

  it('a client checksum in sha2 form is checked against the bytes in memory', async () => {
    const sha = `sha2:${createHash('sha256').update('hashed').digest('base64')}`;
    await alice.put(`${HOME}/h`, 'hashed', { verifyChksum: '', chksum: sha });
    expect(await s.stat(`${HOME}/h`)).toMatchObject({ checksum: md5('hashed') });
    const bad = `sha2:${createHash('sha256').update('other').digest('base64')}`;
    expect(await irodsError(alice.put(`${HOME}/h2`, 'hashed', { verifyChksum: '', chksum: bad }))).toBe('USER_CHKSUM_MISMATCH');
    expect(await s.stat(`${HOME}/h2`)).toBeNull();
  });
});
