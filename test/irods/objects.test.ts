import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_OPEN_PER_CONNECTION } from '../../src/irods/objects/descriptors.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { readAll, type TempStore } from '../support/store-helpers.js';
import { call, handlerContext, irodsError } from './support/handler-context.js';
import { API, dataObjInp, O, ObjectsClient, openedInp, usersPerTest, type UsersOfTest } from './support/objects-context.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

let t: TempStore;
let s: EmbeddedStore;
let client: UsersOfTest['client'];
let alice: ObjectsClient;
let bob: ObjectsClient;
let rods: ObjectsClient;

usersPerTest((u) => {
  ({ t, store: s, client, alice, bob, rods } = u);
});

/** The vault's temp files (staged writes in progress). */
function tempFiles(): string[] {
  return readdirSync(join(t.dataDir, 'vault', 'tmp'));
}

describe('write and read through descriptors', () => {
  it('create, write, close: the object appears at close, owned by the user, with its MD5 in the catalog', async () => {
    const fd = await alice.open(`${HOME}/a.txt`, O.WRONLY | O.CREAT | O.TRUNC);
    expect(fd).toBe(3);
    expect(await alice.write(fd, 'hello ')).toBe(6);
    expect(await alice.write(fd, 'world')).toBe(5);
    expect(await s.stat(`${HOME}/a.txt`)).toBeNull();
    // a small new object stays in memory until the close: no temp file yet
    expect(tempFiles()).toEqual([]);
    await alice.close(fd);
    const entry = await s.stat(`${HOME}/a.txt`);
    expect(entry).toMatchObject({ type: 'object', owner: 'alice', size: 11, checksum: md5('hello world') });
    expect(await s.getAcl(`${HOME}/a.txt`)).toEqual([{ name: 'alice', kind: 'user', level: 'own' }]);
    expect(await alice.get(`${HOME}/a.txt`)).toEqual(Buffer.from('hello world'));
    expect(await s.checksum(`${HOME}/a.txt`, { verify: true })).toBe(md5('hello world'));
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('create (601) then close makes an empty object; a second create overwrites it, as iRODS 4.3 does', async () => {
    const fd = await alice.create(`${HOME}/e`);
    await alice.close(fd);
    expect(await s.stat(`${HOME}/e`)).toMatchObject({ size: 0, checksum: md5('') });
    const fd2 = await alice.create(`${HOME}/e`);
    await alice.write(fd2, 'x');
    await alice.seek(fd2, 0, 0);
    expect((await alice.read(fd2, 10)).toString()).toBe('x');
    await alice.close(fd2);
    expect(await s.stat(`${HOME}/e`)).toMatchObject({ size: 1, checksum: md5('x') });
  });

  it('a seek back and a write over the middle, as file_test.py does: bytes and checksum right', async () => {
    await alice.put(`${HOME}/f`, 'blah');
    const fd = await alice.open(`${HOME}/f`, O.RDWR | O.CREAT | O.TRUNC);
    await alice.write(fd, '0123456789');
    expect(await alice.seek(fd, -6, 2)).toBe(4);
    await alice.write(fd, 'INTERRUPT');
    expect(await alice.seek(fd, 0, 0)).toBe(0);
    expect((await alice.read(fd, 1024)).toString()).toBe('0123INTERRUPT');
    await alice.close(fd);
    expect(await s.stat(`${HOME}/f`)).toMatchObject({ size: 13, checksum: md5('0123INTERRUPT') });
    expect((await readAll(await s.getObject(`${HOME}/f`))).toString()).toBe('0123INTERRUPT');
  });

  it('a write past the end leaves a hole of zeros, and the checksum covers it', async () => {
    const fd = await alice.open(`${HOME}/h`, O.WRONLY | O.CREAT);
    await alice.seek(fd, 3, 0);
    await alice.write(fd, 'x');
    await alice.close(fd);
    const want = Buffer.from([0, 0, 0, 'x'.charCodeAt(0)]);
    expect(await alice.get(`${HOME}/h`)).toEqual(want);
    expect((await s.stat(`${HOME}/h`))?.checksum).toBe(md5(want));
  });

  it('O_TRUNC replaces the bytes; without it a write starts from the old bytes; a close without writes changes nothing', async () => {
    await alice.put(`${HOME}/g`, 'abcdef');
    const before = s.protocolCore().row(`${HOME}/g`)!;

    const untouched = await alice.open(`${HOME}/g`, O.RDWR);
    await alice.close(untouched);
    expect(s.protocolCore().row(`${HOME}/g`)).toEqual(before);

    const fd = await alice.open(`${HOME}/g`, O.WRONLY);
    await alice.write(fd, 'XY');
    await alice.close(fd);
    expect((await alice.get(`${HOME}/g`)).toString()).toBe('XYcdef');
    expect((await s.stat(`${HOME}/g`))?.checksum).toBe(md5('XYcdef'));

    const fd2 = await alice.open(`${HOME}/g`, O.WRONLY | O.TRUNC);
    await alice.write(fd2, 'z');
    await alice.close(fd2);
    expect((await alice.get(`${HOME}/g`)).toString()).toBe('z');

    const app = await alice.open(`${HOME}/g`, O.WRONLY | O.APPEND);
    await alice.write(app, '12');
    await alice.write(app, '3');
    await alice.close(app);
    expect((await alice.get(`${HOME}/g`)).toString()).toBe('z123');
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('a reader keeps the bytes it opened while a writer replaces the object', async () => {
    await alice.put(`${HOME}/r`, 'old bytes');
    const reader = await alice.open(`${HOME}/r`, O.RDONLY);
    await alice.put(`${HOME}/r`, 'new');
    expect((await alice.read(reader, 100)).toString()).toBe('old bytes');
    await alice.close(reader);
    expect((await alice.get(`${HOME}/r`)).toString()).toBe('new');
  });

  it('streams a large object in 8 MiB writes with flat memory; reads give it back', async () => {
    const chunk = Buffer.alloc(8 << 20);
    const chunks = 16; // 128 MiB
    const hash = createHash('md5');
    const fd = await alice.open(`${HOME}/big`, O.WRONLY | O.CREAT | O.TRUNC);
    global.gc?.();
    const base = process.memoryUsage();
    let peak = 0;
    for (let i = 0; i < chunks; i++) {
      chunk.fill(i);
      hash.update(chunk);
      await alice.write(fd, chunk);
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - base.arrayBuffers, m.heapUsed - base.heapUsed);
    }
    await alice.close(fd);
    expect(peak).toBeLessThan(64 << 20);
    expect((await s.stat(`${HOME}/big`))?.checksum).toBe(hash.digest('hex'));
    const back = createHash('md5');
    const rfd = await alice.open(`${HOME}/big`, O.RDONLY);
    let total = 0;
    for (;;) {
      const b = await alice.read(rfd, 8 << 20);
      if (b.length === 0) break;
      back.update(b);
      total += b.length;
    }
    await alice.close(rfd);
    expect(total).toBe(chunks * chunk.length);
    expect(back.digest('hex')).toBe((await s.stat(`${HOME}/big`))?.checksum);
  });

  it('a read asking for more than the read bound gets a short read', async () => {
    await alice.put(`${HOME}/s`, 'short');
    const fd = await alice.open(`${HOME}/s`, O.RDONLY);
    expect((await alice.read(fd, 1 << 30)).toString()).toBe('short');
    expect((await alice.read(fd, 10)).length).toBe(0);
    await alice.close(fd);
  });
});

describe('descriptors', () => {
  it('numbers from 3, reuses the lowest free one, refuses more than the bound per connection', async () => {
    await alice.put(`${HOME}/d`, 'd');
    const a = await alice.open(`${HOME}/d`, O.RDONLY);
    const b = await alice.open(`${HOME}/d`, O.RDONLY);
    expect([a, b]).toEqual([3, 4]);
    await alice.close(a);
    expect(await alice.open(`${HOME}/d`, O.RDONLY)).toBe(3);
    const other = await client('alice');
    expect(await other.open(`${HOME}/d`, O.RDONLY)).toBe(3);
    while ((await (async () => alice.open(`${HOME}/d`, O.RDONLY))()) < MAX_OPEN_PER_CONNECTION + 2);
    expect(await irodsError(alice.open(`${HOME}/d`, O.RDONLY))).toBe('SYS_OUT_OF_FILE_DESC');
    expect(await irodsError(alice.open(`${HOME}/new`, O.WRONLY | O.CREAT))).toBe('SYS_OUT_OF_FILE_DESC');
    expect(tempFiles()).toEqual([]);
  });

  it('answers a descriptor out of range or not open, and a write to a read-only one, as iRODS does', async () => {
    await alice.put(`${HOME}/d`, 'd');
    expect(await irodsError(alice.read(2, 10))).toBe('SYS_FILE_DESC_OUT_OF_RANGE');
    expect(await irodsError(alice.read(1026, 10))).toBe('SYS_FILE_DESC_OUT_OF_RANGE');
    expect(await irodsError(alice.read(3, 10))).toBe('BAD_INPUT_DESC_INDEX');
    expect(await irodsError(alice.close(7))).toBe('BAD_INPUT_DESC_INDEX');
    const fd = await alice.open(`${HOME}/d`, O.RDONLY);
    expect(await irodsError(alice.write(fd, 'x'))).toBe('UNIX_FILE_WRITE_ERR');
    expect(await irodsError(alice.seek(fd, -5, 0))).toBe('UNIX_FILE_LSEEK_ERR');
    await alice.close(fd);
    const w = await alice.open(`${HOME}/d`, O.WRONLY);
    expect(await irodsError(alice.read(w, 1))).toBe('UNIX_FILE_READ_ERR');
    await alice.close(w);
    expect(await irodsError(alice.close(fd))).toBe('BAD_INPUT_DESC_INDEX');
  });

  it('descriptors belong to their connection', async () => {
    await alice.put(`${HOME}/d`, 'd');
    const fd = await alice.open(`${HOME}/d`, O.RDONLY);
    const other = await client('alice');
    expect(await irodsError(other.read(fd, 1))).toBe('BAD_INPUT_DESC_INDEX');
  });
});

describe('a connection that ends before the close', () => {
  it('leaves no object and no vault file; fsck is clean, also while the write is open', async () => {
    const ctx = await handlerContext(s, 'alice');
    const c = new ObjectsClient(ctx);
    await alice.put(`${HOME}/kept`, 'kept');
    const fd = await c.open(`${HOME}/half`, O.WRONLY | O.CREAT | O.TRUNC);
    await c.write(fd, Buffer.alloc(1 << 20, 7));
    const over = await c.open(`${HOME}/kept`, O.WRONLY | O.TRUNC);
    await c.write(over, 'overwritten?');
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    // the 1 MiB write went to a temp file; the small truncating overwrite is in memory
    expect(tempFiles()).toHaveLength(1);
    await ctx.end();
    expect(await s.stat(`${HOME}/half`)).toBeNull();
    expect((await alice.get(`${HOME}/kept`)).toString()).toBe('kept');
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });
});

describe('checksums at close', () => {
  it('verifyChksum with the client checksum: a mismatch stores nothing; a match (MD5 or sha2) stores the object', async () => {
    const fd = await alice.open(`${HOME}/v`, O.WRONLY | O.CREAT | O.TRUNC, { verifyChksum: '', chksum: md5('other') });
    await alice.write(fd, 'data');
    expect(await irodsError(alice.close(fd))).toBe('USER_CHKSUM_MISMATCH');
    expect(await s.stat(`${HOME}/v`)).toBeNull();
    expect(tempFiles()).toEqual([]);
    await alice.put(`${HOME}/v`, 'data', { verifyChksum: '', chksum: md5('data') });
    const sha2 = `sha2:${createHash('sha256').update('data').digest('base64')}`;
    await alice.put(`${HOME}/w`, 'data', { verifyChksum: '', chksum: sha2 });
    expect((await s.stat(`${HOME}/w`))?.checksum).toBe(md5('data'));
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });
});

describe('stat (633)', () => {
  it('answers RodsObjStat_PI in the packing order of iRODS 4.3, with the object type as status', async () => {
    await alice.put(`${HOME}/st`, 'abc');
    const reply = await alice.stat(`${HOME}/st`);
    const row = s.protocolCore().row(`${HOME}/st`)!;
    expect(reply.status).toBe(1);
    expect(reply.body!.name).toBe('RodsObjStat_PI');
    expect(Object.keys(reply.body!.fields)).toEqual(['objSize', 'objType', 'dataMode', 'dataId', 'chksum', 'ownerName', 'ownerZone', 'createTime', 'modifyTime']);
    expect(reply.body!.fields).toMatchObject({ objSize: 3, objType: 1, dataId: String(row.id), chksum: md5('abc'), ownerName: 'alice', ownerZone: 'testZone' });
    expect(reply.body!.fields.modifyTime).toBe(String(Math.floor(Date.parse(row.modified) / 1000)).padStart(11, '0'));
    const coll = await alice.stat(HOME);
    expect(coll.status).toBe(2);
    expect(coll.body!.fields).toMatchObject({ objSize: 0, objType: 2, ownerName: 'alice' });
  });

  it('answers USER_FILE_DOES_NOT_EXIST for what is absent and for what the user may not read', async () => {
    await alice.put(`${HOME}/st`, 'abc');
    expect(await irodsError(alice.stat(`${HOME}/none`))).toBe('USER_FILE_DOES_NOT_EXIST');
    expect(await irodsError(bob.stat(`${HOME}/st`))).toBe('USER_FILE_DOES_NOT_EXIST');
    expect(await irodsError(bob.stat(HOME))).toBe('USER_FILE_DOES_NOT_EXIST');
    await s.setAccess(`${HOME}/st`, 'public', 'read');
    expect((await bob.stat(`${HOME}/st`)).status).toBe(1);
    expect((await rods.stat(HOME)).status).toBe(2);
  });
});

describe('the root collection /', () => {
  it('a rodsadmin stats / as a collection owned by rods; to anyone else it is absent, whatever they may read', async () => {
    const reply = await rods.stat('/');
    expect(reply.status).toBe(2);
    expect(reply.body!.fields).toMatchObject({ objSize: 0, objType: 2, dataId: String(s.protocolCore().row('/')!.id), chksum: '', ownerName: 'rods', ownerZone: 'testZone' });
    await s.setAccess(Z, 'public', 'read');
    expect((await alice.stat(Z)).status).toBe(2);
    expect(await irodsError(alice.stat('/'))).toBe('USER_FILE_DOES_NOT_EXIST');
  });

  it('only a stat takes /: opening, creating, renaming, copying onto and removing it are refused, to a rodsadmin too', async () => {
    expect((await rods.stat('/')).status).toBe(2);
    await rods.put(`${Z}/home/rods-file`, 'r');
    const dump = await s.dump();
    for (const who of [rods, alice]) {
      expect(await irodsError(who.open('/', O.RDONLY))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.create('/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.unlink('/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.checksum('/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.truncate('/', 0))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.copy(`${Z}/home/rods-file`, '/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rename('/', `${Z}/moved`, 12))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rename(`${Z}/home`, '/', 12))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.mkdir('/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.mkdir('/', { recursiveOpr: '' }))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rmdir('/'))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rmdir('/', { recursiveOpr: '' }))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rmdir('/', { recursiveOpr: '', forceFlag: '' }))).toBe('USER_INPUT_PATH_ERR');
      expect(await irodsError(who.rmdir(Z, { recursiveOpr: '', forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    }
    expect(await s.dump()).toEqual(dump);
  });
});

describe('permissions', () => {
  beforeEach(async () => {
    await alice.put(`${HOME}/p`, 'private');
  });

  it('reading needs read', async () => {
    expect(await irodsError(bob.open(`${HOME}/p`, O.RDONLY))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.checksum(`${HOME}/p`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.copy(`${HOME}/p`, `${Z}/home/bob/p`))).toBe('CAT_NO_ACCESS_PERMISSION');
    await s.setAccess(`${HOME}/p`, 'bob', 'read');
    expect((await bob.get(`${HOME}/p`)).toString()).toBe('private');
    expect(await bob.checksum(`${HOME}/p`)).toBe(md5('private'));
  });

  it('a group grants what it holds', async () => {
    await s.createPrincipal('team', 'rodsgroup');
    await s.addGroupMember('team', 'bob');
    await s.setAccess(`${HOME}/p`, 'team', 'write');
    await bob.put(`${HOME}/p`, 'by bob');
    expect((await alice.get(`${HOME}/p`)).toString()).toBe('by bob');
    expect((await s.stat(`${HOME}/p`))?.owner).toBe('alice');
  });

  it('writing an object needs write on it; creating one needs write on its collection', async () => {
    await s.setAccess(`${HOME}/p`, 'bob', 'read');
    expect(await irodsError(bob.open(`${HOME}/p`, O.WRONLY))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.open(`${HOME}/p`, O.RDWR | O.CREAT | O.TRUNC))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.create(`${HOME}/p`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.open(`${HOME}/new`, O.WRONLY | O.CREAT))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.truncate(`${HOME}/p`, 1))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(tempFiles()).toEqual([]);
    await s.setAccess(HOME, 'bob', 'write');
    await bob.put(`${HOME}/new`, 'bob was here');
    expect(await s.stat(`${HOME}/new`)).toMatchObject({ owner: 'bob' });
    await s.setAccess(`${HOME}/p`, 'bob', 'write');
    await bob.truncate(`${HOME}/p`, 4);
    expect((await alice.get(`${HOME}/p`)).toString()).toBe('priv');
  });

  it('the close checks again: access taken away while the bytes arrive stores nothing', async () => {
    await s.setAccess(HOME, 'bob', 'write');
    const fd = await bob.open(`${HOME}/late`, O.WRONLY | O.CREAT | O.TRUNC);
    await bob.write(fd, 'late');
    await s.setAccess(HOME, 'bob', 'read');
    expect(await irodsError(bob.close(fd))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.stat(`${HOME}/late`)).toBeNull();
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('the close checks the object itself and its collection as they are then, not as the open found them', async () => {
    // write on the object, taken away while the bytes arrive: the old bytes stay
    await alice.put(`${HOME}/kept`, 'old');
    await s.setAccess(`${HOME}/kept`, 'bob', 'write');
    let fd = await bob.open(`${HOME}/kept`, O.WRONLY | O.TRUNC);
    await bob.write(fd, 'new');
    await s.setAccess(`${HOME}/kept`, 'bob', 'read');
    expect(await irodsError(bob.close(fd))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect((await alice.get(`${HOME}/kept`)).toString()).toBe('old');
    // a new object whose collection is gone by the close
    await s.createCollection(`${HOME}/going`);
    await s.setAccess(`${HOME}/going`, 'bob', 'write');
    fd = await bob.open(`${HOME}/going/x`, O.WRONLY | O.CREAT | O.TRUNC);
    await bob.write(fd, 'x');
    await s.removeCollection(`${HOME}/going`, { recursive: true });
    expect(await irodsError(bob.close(fd))).toBe('CAT_UNKNOWN_COLLECTION');
    // a collection made at the new object's path by the close
    await s.setAccess(HOME, 'bob', 'write');
    fd = await bob.open(`${HOME}/taken`, O.WRONLY | O.CREAT | O.TRUNC);
    await bob.write(fd, 'x');
    await s.createCollection(`${HOME}/taken`);
    expect(await irodsError(bob.close(fd))).toBe('CAT_NAME_EXISTS_AS_COLLECTION');
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('a create below an object is refused at the open; a close after its user was removed (with their access) stores nothing', async () => {
    await alice.put(`${HOME}/obj`, 'x');
    expect(await irodsError(alice.open(`${HOME}/obj/below`, O.WRONLY | O.CREAT | O.TRUNC))).toBe('CAT_UNKNOWN_COLLECTION');
    await s.setAccess(HOME, 'bob', 'write');
    const fd = await bob.open(`${HOME}/orphan`, O.WRONLY | O.CREAT | O.TRUNC);
    await bob.write(fd, 'x');
    await s.removePrincipal('bob', 'user');
    expect(await irodsError(bob.close(fd))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.stat(`${HOME}/orphan`)).toBeNull();
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('unlink and rename need own (iRODS delete_object lies above write); write is not enough', async () => {
    await s.setAccess(`${HOME}/p`, 'bob', 'write');
    expect(await irodsError(bob.unlink(`${HOME}/p`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.unlink(`${HOME}/p`, { forceFlag: '' }))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await irodsError(bob.rename(`${HOME}/p`, `${HOME}/q`, 11))).toBe('CAT_NO_ACCESS_PERMISSION');
    await s.setAccess(`${HOME}/p`, 'bob', 'own');
    await bob.rename(`${HOME}/p`, `${HOME}/q`, 11);
    await s.createCollection(`${HOME}/sub`, { owner: 'alice' });
    expect(await irodsError(bob.rename(`${HOME}/q`, `${HOME}/sub/q`, 11))).toBe('CAT_NO_ACCESS_PERMISSION');
    await s.setAccess(`${HOME}/sub`, 'bob', 'write');
    await bob.rename(`${HOME}/q`, `${HOME}/sub/r`, 11);
    await bob.unlink(`${HOME}/sub/r`, { forceFlag: '' });
    expect(await s.stat(`${HOME}/sub/r`)).toBeNull();
  });

  it('a rodsadmin may do everything; admin mode is refused to others', async () => {
    expect((await rods.get(`${HOME}/p`)).toString()).toBe('private');
    await rods.put(`${HOME}/p`, 'admin');
    await rods.rename(`${HOME}/p`, `${HOME}/p2`, 11);
    await rods.unlink(`${HOME}/p2`, { forceFlag: '', irodsAdmin: '' });
    expect(await s.stat(`${HOME}/p2`)).toBeNull();
    await alice.put(`${HOME}/x`, 'x');
    expect(await irodsError(alice.unlink(`${HOME}/x`, { irodsAdmin: '' }))).toBe('CAT_INSUFFICIENT_PRIVILEGE_LEVEL');
  });

  it('a new object in an inheriting collection gets the collection ACL', async () => {
    await s.createCollection(`${HOME}/shared`, { owner: 'alice' });
    await s.setAccess(`${HOME}/shared`, 'bob', 'read');
    await s.setInheritance(`${HOME}/shared`, true);
    await alice.put(`${HOME}/shared/f`, 'f');
    expect(await s.getAcl(`${HOME}/shared/f`)).toEqual([
      { name: 'alice', kind: 'user', level: 'own' },
      { name: 'bob', kind: 'user', level: 'read' },
    ]);
    expect((await bob.get(`${HOME}/shared/f`)).toString()).toBe('f');
  });
});

describe('paths', () => {
  it('answers bad paths as iRODS does', async () => {
    expect(await irodsError(alice.open('home/alice/x', O.RDONLY))).toBe('USER_INPUT_PATH_ERR');
    // a create of a relative path finds no collection to go into (iRODS 4.2.9 to 4.2.x)
    expect(await irodsError(alice.create('t'))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(alice.open('home/alice/x', O.WRONLY | O.CREAT))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(alice.open(`${HOME}/../bob/x`, O.WRONLY | O.CREAT))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(alice.open(`${HOME}/./x`, O.WRONLY | O.CREAT))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(alice.open(`/otherZone/home/alice/x`, O.RDONLY))).toBe('SYS_INVALID_ZONE_NAME');
    expect(await irodsError(alice.open(`/otherZone/../testZone/home/alice/x`, O.WRONLY | O.CREAT))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(alice.stat(''))).toBe('USER__NULL_INPUT_ERR');
    expect(await irodsError(alice.open(`${HOME}/missing`, O.RDONLY))).toBe('CAT_NO_ROWS_FOUND');
    expect(await irodsError(alice.open(`${HOME}/no/such/dir`, O.WRONLY | O.CREAT))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(alice.open(HOME, O.RDONLY))).toBe('CAT_NO_ROWS_FOUND');
    expect(await irodsError(alice.open(HOME, O.WRONLY | O.CREAT))).toBe('CAT_NAME_EXISTS_AS_COLLECTION');
  });

  it('refuses a body of the wrong structure', async () => {
    expect(await irodsError(call(API.open, alice.ctx, 'CollInpNew_PI', { collName: HOME }))).toBe('USER_PACKSTRUCT_INPUT_ERR');
    expect(await irodsError(call(API.open, alice.ctx, null, null))).toBe('USER__NULL_INPUT_ERR');
    expect(await irodsError(call(API.read, alice.ctx, 'OpenedDataObjInp_PI', { ...openedInp(3), len: 'many' }))).toBe('USER_PACKSTRUCT_INPUT_ERR');
  });
});

describe('unlink (615)', () => {
  it("goes to the user's trash, as iRODS puts it, and a forced one is gone with its bytes", async () => {
    await s.createCollection(`${HOME}/sub`, { owner: 'alice' });
    await alice.put(`${HOME}/sub/t`, 'trash me');
    await alice.unlink(`${HOME}/sub/t`);
    expect(await s.stat(`${HOME}/sub/t`)).toBeNull();
    const trashed = `${Z}/trash/home/alice/sub/t`;
    expect(await s.stat(trashed)).toMatchObject({ type: 'object', checksum: md5('trash me') });
    expect(await s.stat(`${Z}/trash/home/alice`)).toMatchObject({ owner: 'alice' });
    expect(await s.stat(`${Z}/trash/home`)).toMatchObject({ owner: 'rods' });
    expect((await alice.get(trashed)).toString()).toBe('trash me');

    await alice.put(`${HOME}/sub/t`, 'again');
    await alice.unlink(`${HOME}/sub/t`);
    expect(await s.stat(`${trashed}.1`)).toMatchObject({ checksum: md5('again') });

    await alice.put(`${HOME}/gone`, 'gone');
    const vaultFiles = () => s.protocolCore().db.prepare('SELECT count(*) AS n FROM entries WHERE vault_id IS NOT NULL').get() as { n: number };
    const before = vaultFiles().n;
    await alice.unlink(`${HOME}/gone`, { forceFlag: '' });
    expect(await s.stat(`${HOME}/gone`)).toBeNull();
    expect(vaultFiles().n).toBe(before - 1);
    expect((await s.list(`${Z}/trash`, { recursive: true })).filter((e) => e.path.endsWith('/gone'))).toEqual([]);

    // removing from the trash empties it
    await alice.unlink(trashed);
    expect(await s.stat(trashed)).toBeNull();
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('an object outside the home goes to the trash under its zone path', async () => {
    await s.createCollection(`${Z}/projects/p1`, { parents: true });
    await s.setAccess(`${Z}/projects/p1`, 'alice', 'own');
    await alice.put(`${Z}/projects/p1/o`, 'o');
    await alice.unlink(`${Z}/projects/p1/o`);
    expect(await s.stat(`${Z}/trash/home/alice/projects/p1/o`)).toMatchObject({ type: 'object' });
  });

  it('answers a missing object and refuses a user unregistering (test/irods/registration.test.ts has the rest)', async () => {
    expect(await irodsError(alice.unlink(`${HOME}/none`))).toBe('CAT_NO_ROWS_FOUND');
    await alice.put(`${HOME}/u`, 'u');
    expect(await irodsError(call(API.unlink, alice.ctx, 'DataObjInp_PI', dataObjInp(`${HOME}/u`, { oprType: 26 })))).toBe('CANT_UNREG_IN_VAULT_FILE');
    expect(await s.stat(`${HOME}/u`)).not.toBeNull();
  });
});

describe('rename (627)', () => {
  it('renames and moves objects and collections, keeping their ids', async () => {
    await alice.put(`${HOME}/a`, 'a');
    await s.createCollection(`${HOME}/c1/deep`, { parents: true, owner: 'alice' });
    await alice.put(`${HOME}/c1/deep/x`, 'x');
    const objId = s.protocolCore().row(`${HOME}/a`)!.id;
    const collId = s.protocolCore().row(`${HOME}/c1`)!.id;
    await alice.rename(`${HOME}/a`, `${HOME}/b`, 11);
    expect(s.protocolCore().row(`${HOME}/b`)!.id).toBe(objId);
    await alice.rename(`${HOME}/b`, `${HOME}/c1/b`, 11);
    await alice.rename(`${HOME}/c1`, `${HOME}/c2`, 12);
    expect(s.protocolCore().row(`${HOME}/c2`)!.id).toBe(collId);
    expect((await alice.get(`${HOME}/c2/deep/x`)).toString()).toBe('x');
    expect((await alice.get(`${HOME}/c2/b`)).toString()).toBe('a');
  });

  it('answers collisions, a move into itself, the same path and a wrong kind as iRODS does', async () => {
    await alice.put(`${HOME}/a`, 'a');
    await alice.put(`${HOME}/b`, 'b');
    await s.createCollection(`${HOME}/c`, { owner: 'alice' });
    expect(await irodsError(alice.rename(`${HOME}/a`, `${HOME}/b`, 11))).toBe('CAT_NAME_EXISTS_AS_DATAOBJ');
    expect(await irodsError(alice.rename(`${HOME}/a`, `${HOME}/c`, 11))).toBe('CAT_NAME_EXISTS_AS_COLLECTION');
    expect(await irodsError(alice.rename(`${HOME}/c`, `${HOME}/c/d`, 12))).toBe('CAT_RECURSIVE_MOVE');
    expect(await irodsError(alice.rename(`${HOME}/a`, `${HOME}/a`, 11))).toBe('SAME_SRC_DEST_PATHS_ERR');
    expect(await irodsError(alice.rename(`${HOME}/c`, `${HOME}/e`, 11))).toBe('CAT_NO_ROWS_FOUND');
    expect(await irodsError(alice.rename(`${HOME}/a`, `${HOME}/e`, 12))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(alice.rename(`${HOME}/a`, `${HOME}/no/e`, 11))).toBe('CAT_UNKNOWN_COLLECTION');
    expect(await irodsError(rods.rename(`${Z}/home`, `${Z}/home2`, 12))).toBe('CAT_NO_ACCESS_PERMISSION');
  });
});

describe('checksum (629)', () => {
  // a small object's bytes are in the catalog, a large one's in its vault file: both rot where they are
  it.each([
    ['kept in the catalog', 'checked'],
    ['in a vault file', 'checked'.repeat(10_000)],
  ])('answers the catalog MD5, verifies the bytes, and forceChksum stores what the bytes hash to (%s)', async (_, content) => {
    await alice.put(`${HOME}/c`, content);
    expect(await alice.checksum(`${HOME}/c`)).toBe(md5(content));
    expect(await alice.checksum(`${HOME}/c`, { verifyChksum: '' })).toBe(md5(content));
    const row = s.protocolCore().row(`${HOME}/c`)!;
    const inCatalog = s.protocolCore().sourceOf(row).bytes !== undefined;
    expect(inCatalog).toBe(content.length <= s.vault.inlineMax);
    if (inCatalog) s.protocolCore().db.prepare('UPDATE object_bytes SET bytes = ? WHERE entry_id = ?').run(Buffer.from('rotted!'), row.id);
    else writeFileSync(s.vault.filePath(row.vault_id!), 'rotted!');
    expect(await irodsError(alice.checksum(`${HOME}/c`, { verifyChksum: '' }))).toBe('USER_CHKSUM_MISMATCH');
    expect(await alice.checksum(`${HOME}/c`, { forceChksum: '' })).toBe(md5('rotted!'));
    expect((await s.stat(`${HOME}/c`))?.checksum).toBe(md5('rotted!'));
    expect(await irodsError(alice.checksum(`${HOME}/none`))).toBe('CAT_NO_ROWS_FOUND');
  });
});

describe('copy (696) and truncate (652)', () => {
  it('copies bytes and checksum to a new object owned by the copier; overwriting needs forceFlag', async () => {
    await alice.put(`${HOME}/src`, 'source bytes');
    await s.setAccess(`${HOME}/src`, 'bob', 'read');
    const reply = await bob.copy(`${HOME}/src`, `${Z}/home/bob/dst`, { verifyChksum: '' });
    expect(reply.body).toEqual({ name: 'TransferStat_PI', fields: { numThreads: 0, flags: 0, bytesWritten: 12 } });
    expect(await s.stat(`${Z}/home/bob/dst`)).toMatchObject({ owner: 'bob', checksum: md5('source bytes') });
    expect(await irodsError(bob.copy(`${HOME}/src`, `${Z}/home/bob/dst`))).toBe('OVERWRITE_WITHOUT_FORCE_FLAG');
    await alice.put(`${HOME}/src`, 'changed');
    await bob.copy(`${HOME}/src`, `${Z}/home/bob/dst`, { forceFlag: '' });
    expect((await bob.get(`${Z}/home/bob/dst`)).toString()).toBe('changed');
    expect(await irodsError(bob.copy(`${HOME}`, `${Z}/home/bob/x`))).toBe('USER_INPUT_PATH_ERR');
    expect(await irodsError(bob.copy(`${HOME}/src`, `${HOME}/x`))).toBe('CAT_NO_ACCESS_PERMISSION');
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('answers USER_INPUT_PATH_ERR first for a source that is not a data object it can find, or a relative destination, as iRODS 4.2.12 does (irods/irods#4796)', async () => {
    await alice.put(`${HOME}/src`, 'source bytes');
    const dump = await s.dump();
    for (const [from, to] of [
      ['/this_zone_absent/non_existing.src', '/this_zone_absent/non_existing.dst'],
      ['non_existing.src', 'non_existing.dst'],
      [`${HOME}/src`, 'this_zone_absent/src'],
      [`${HOME}/missing`, '/otherZone/x'],
      [`${HOME}/src/..`, `${HOME}/x`],
      [HOME, `${HOME}/x`],
    ]) {
      expect([from, to, await irodsError(alice.copy(from, to))]).toEqual([from, to, 'USER_INPUT_PATH_ERR']);
    }
    // a source that is there and a destination in a zone this server does not know: the zone's own code
    expect(await irodsError(alice.copy(`${HOME}/src`, '/otherZone/x'))).toBe('SYS_INVALID_ZONE_NAME');
    expect(await s.dump()).toEqual(dump);
  });

  it('truncates or extends with zeros, checksum following', async () => {
    await alice.put(`${HOME}/t`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890');
    await alice.truncate(`${HOME}/t`, 26);
    expect((await alice.get(`${HOME}/t`)).toString()).toBe('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect((await s.stat(`${HOME}/t`))?.checksum).toBe(md5('ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
    await alice.truncate(`${HOME}/t`, 28);
    expect(await alice.get(`${HOME}/t`)).toEqual(Buffer.concat([Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), Buffer.alloc(2)]));
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });
});

describe('objects the store put', () => {
  it('read back over the protocol like any other', async () => {
    await s.putObject(`${HOME}/stored`, Readable.from(['from the store']), { owner: 'alice' });
    expect((await alice.get(`${HOME}/stored`, 4)).toString()).toBe('from the store');
  });
});
