/**
 * Large writes through the transfer slots (src/irods/objects/open-objects.ts):
 * answered once queued, written with O_DIRECT where the vault allows it,
 * hashed on the MD5 worker. The bytes and MD5 of what the client wrote in
 * every shape (pieces across slot and part boundaries, an unaligned tail, a
 * seek back, a write bigger than all slots), reads after queued writes, a
 * queued write that fails (the close stores nothing), and a connection that
 * ends with writes in flight (nothing left behind). Large reads into read
 * slots: every offset and length, and a slot's bytes kept until the reply
 * is sent. Small new objects kept in memory until the close: seeks, gaps
 * and reads there, growing out of memory, the process's budget.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEMORY_BUDGET_BYTES, MEMORY_OBJECT_BYTES } from '../../src/irods/objects/open-objects.js';
import { SLOT_BYTES, SLOT_COUNT } from '../../src/irods/objects/transfer-slots.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { tempStore, type TempStore } from '../support/store-helpers.js';
import { handlerContext, irodsError, type TestContext } from './support/handler-context.js';
import { API, O, ObjectsClient, openedInp } from './support/objects-context.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let t: TempStore;
let s: EmbeddedStore;
const contexts: TestContext[] = [];
async function client(store: EmbeddedStore): Promise<ObjectsClient> {
  const ctx = await handlerContext(store, 'alice');
  contexts.push(ctx);
  return new ObjectsClient(ctx);
}
let alice: ObjectsClient;

beforeEach(async () => {
  t = tempStore();
  s = t.store;
  await s.createPrincipal('alice', 'rodsuser');
  await s.createCollection(HOME, { parents: true, owner: 'alice' });
  alice = await client(s);
});
afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.end();
  await t.cleanup();
});

/** `n` bytes that differ from piece to piece (so a misplaced piece shows). */
function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(Math.imul(i + seed, 2654435761) >>> 0, i > n - 4 ? n - 4 : i);
  return b;
}

/** A write whose data arrives as `parts` (as the connection hands over a message's chunks). */
async function writeParts(c: ObjectsClient, fd: number, parts: Buffer[]): Promise<number> {
  const route = (await import('../../src/irods/api/index.js')).apiTable().get(API.write)!;
  const len = parts.reduce((n, p) => n + p.length, 0);
  const reply = await route.handle({ api: API.write, bodyName: 'OpenedDataObjInp_PI', body: openedInp(fd, { len }), bs: Buffer.concat(parts), bsParts: parts }, c.ctx);
  return reply.status!;
}

function tempFiles(dataDir = t.dataDir): string[] {
  return readdirSync(join(dataDir, 'vault', 'tmp'));
}

/** Bytes of `file` in the page cache, from util-linux `fincore`. */
function cachedBytes(file: string): number {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fincore (util-linux) is needed: ${r.stderr || r.error}`);
  return Number(r.stdout.trim());
}

async function vaultFileOf(store: EmbeddedStore, path: string): Promise<string> {
  const core = store.protocolCore();
  return core.vault.filePath(core.row(path)!.vault_id!);
}

describe('large writes', () => {
  it('pieces across slot and part boundaries with an unaligned tail: the exact bytes, size and MD5, past the page cache', async () => {
    const data = pattern(2 * SLOT_BYTES + 12_345);
    const fd = await alice.open(`${HOME}/big`, O.WRONLY | O.CREAT | O.TRUNC);
    // one write of two slots and a bit, in parts of odd sizes; then a small write at the unaligned end
    const first = data.subarray(0, 2 * SLOT_BYTES + 10_000);
    const cuts = [0, 1, 65_536, 3 * MiB + 7, SLOT_BYTES, SLOT_BYTES + 1, first.length];
    const parts = cuts.slice(1).map((end, i) => first.subarray(cuts[i], end));
    expect(await writeParts(alice, fd, parts)).toBe(first.length);
    expect(await alice.write(fd, data.subarray(first.length))).toBe(2345);
    await alice.close(fd);
    const entry = await s.stat(`${HOME}/big`);
    expect(entry).toMatchObject({ size: data.length, checksum: md5(data) });
    // written with O_DIRECT: the bytes never filled the page cache (the small unaligned write did, a block or two)
    expect(cachedBytes(await vaultFileOf(s, `${HOME}/big`))).toBeLessThan(1 * MiB);
    expect((await alice.get(`${HOME}/big`)).equals(data)).toBe(true);
    expect(tempFiles()).toEqual([]);
  });

  it('a write larger than all slots together waits for slots and stores every byte', async () => {
    const data = pattern((SLOT_COUNT + 1) * SLOT_BYTES + 4096, 7);
    const fd = await alice.open(`${HOME}/huge`, O.WRONLY | O.CREAT | O.TRUNC);
    expect(await alice.write(fd, data)).toBe(data.length);
    await alice.close(fd);
    expect(await s.stat(`${HOME}/huge`)).toMatchObject({ size: data.length, checksum: md5(data) });
  });

  it('a seek back over queued bytes: the object holds the overwrite, and its MD5 is the finished file', async () => {
    const data = pattern(3 * SLOT_BYTES);
    const fd = await alice.open(`${HOME}/seek`, O.WRONLY | O.CREAT | O.TRUNC);
    await alice.write(fd, data);
    expect(await alice.seek(fd, 100, 0)).toBe(100);
    const patch = pattern(2 * MiB, 99);
    await alice.write(fd, patch);
    // and past the end, leaving a gap of zeros
    expect(await alice.seek(fd, data.length + 5000, 0)).toBe(data.length + 5000);
    await alice.write(fd, Buffer.from('tail'));
    await alice.close(fd);
    const want = Buffer.concat([data, Buffer.alloc(5000), Buffer.from('tail')]);
    patch.copy(want, 100);
    expect(await s.stat(`${HOME}/seek`)).toMatchObject({ size: want.length, checksum: md5(want) });
    expect((await alice.get(`${HOME}/seek`)).equals(want)).toBe(true);
  });

  it('a read of an O_RDWR open sees the queued writes; a truncate after them cuts them', async () => {
    const data = pattern(SLOT_BYTES + 3000);
    const fd = await alice.open(`${HOME}/rw`, O.RDWR | O.CREAT | O.TRUNC);
    await alice.write(fd, data);
    await alice.seek(fd, SLOT_BYTES - 10, 0);
    expect((await alice.read(fd, 20)).equals(data.subarray(SLOT_BYTES - 10, SLOT_BYTES + 10))).toBe(true);
    await alice.close(fd);
    expect(await s.stat(`${HOME}/rw`)).toMatchObject({ size: data.length, checksum: md5(data) });
  });

  it('an untruncated open of an object keeps its bytes past a large write in the middle', async () => {
    const old = pattern(3 * SLOT_BYTES + 100, 3);
    await alice.put(`${HOME}/mid`, old);
    const fd = await alice.open(`${HOME}/mid`, O.WRONLY);
    await alice.seek(fd, SLOT_BYTES, 0);
    // an aligned start and an unaligned length inside the object: nothing after it may be padded over
    const patch = pattern(MiB + 1, 5);
    await alice.write(fd, patch);
    await alice.close(fd);
    const want = Buffer.from(old);
    patch.copy(want, SLOT_BYTES);
    expect(await s.stat(`${HOME}/mid`)).toMatchObject({ size: want.length, checksum: md5(want) });
    expect((await alice.get(`${HOME}/mid`)).equals(want)).toBe(true);
  });

  it('with direct writes off, the same bytes go through the page cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-store-'));
    const store = EmbeddedStore.open({ dataDir: join(dir, 'data'), zone: 'testZone', hashWorkers: 1, directWrites: false });
    try {
      await store.createPrincipal('alice', 'rodsuser');
      await store.createCollection(HOME, { parents: true, owner: 'alice' });
      const c = await client(store);
      const data = pattern(SLOT_BYTES + 999);
      await c.put(`${HOME}/buffered`, data);
      expect(await store.stat(`${HOME}/buffered`)).toMatchObject({ size: data.length, checksum: md5(data) });
      expect(cachedBytes(await vaultFileOf(store, `${HOME}/buffered`))).toBeGreaterThan(SLOT_BYTES / 2);
    } finally {
      for (const ctx of contexts.splice(1)) await ctx.end();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failures after a write was answered', () => {
  it('a queued write the disk refuses fails the calls after it, and the close stores nothing', async () => {
    // files of this process may grow to 12 MiB (Node ignores SIGXFSZ: the write fails with EFBIG)
    const limit = (v: string) => {
      const r = spawnSync('prlimit', ['--pid', String(process.pid), `--fsize=${v}:`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`prlimit (util-linux) is needed: ${r.stderr || r.error}`);
    };
    const refusedAfterAnswer = async (flags: number, settle: (fd: number) => Promise<unknown>): Promise<string[]> => {
      const path = `${HOME}/refused`;
      const fd = await alice.open(path, flags);
      limit(String(12 * MiB));
      try {
        expect(await alice.write(fd, pattern(SLOT_BYTES))).toBe(SLOT_BYTES);
        // answered before the disk refuses it
        expect(await alice.write(fd, pattern(SLOT_BYTES))).toBe(SLOT_BYTES);
        return [await irodsError(settle(fd)), await irodsError(alice.write(fd, Buffer.from('x'))), await irodsError(alice.close(fd))];
      } finally {
        limit('unlimited');
      }
    };
    // a read waits for the queued writes and finds the failure; so does every call after it
    expect(await refusedAfterAnswer(O.RDWR | O.CREAT | O.TRUNC, (fd) => alice.read(fd, 1))).toEqual(['UNIX_FILE_WRITE_ERR', 'UNIX_FILE_WRITE_ERR', 'UNIX_FILE_WRITE_ERR']);
    // a close right after the writes waits for them too
    const fd = await alice.open(`${HOME}/refused`, O.WRONLY | O.CREAT | O.TRUNC);
    limit(String(12 * MiB));
    let code: string;
    try {
      await alice.write(fd, pattern(SLOT_BYTES));
      await alice.write(fd, pattern(SLOT_BYTES));
      code = await irodsError(alice.close(fd));
    } finally {
      limit('unlimited');
    }
    expect(code).toBe('UNIX_FILE_WRITE_ERR');
    expect(await s.stat(`${HOME}/refused`)).toBeNull();
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    // and the next put works
    const data = pattern(SLOT_BYTES + 1);
    await alice.put(`${HOME}/after`, data);
    expect(await s.stat(`${HOME}/after`)).toMatchObject({ checksum: md5(data) });
  });

  it('a connection that ends with writes in flight leaves no object and no temp file', async () => {
    const ctx = await handlerContext(s, 'alice');
    const c = new ObjectsClient(ctx);
    const fd = await c.open(`${HOME}/gone`, O.WRONLY | O.CREAT | O.TRUNC);
    for (let i = 0; i < 3; i++) await c.write(fd, pattern(SLOT_BYTES, i));
    await ctx.end();
    expect(await s.stat(`${HOME}/gone`)).toBeNull();
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    // the slots came back: a put as large as all of them goes through
    const data = pattern(SLOT_COUNT * SLOT_BYTES, 9);
    await alice.put(`${HOME}/next`, data);
    expect(await s.stat(`${HOME}/next`)).toMatchObject({ checksum: md5(data) });
  });
});

describe('large reads', () => {
  /** A read through the route itself: the reply as the connection gets it, `sent` not yet called. */
  async function rawRead(c: ObjectsClient, fd: number, len: number) {
    const route = (await import('../../src/irods/api/index.js')).apiTable().get(API.read)!;
    return route.handle({ api: API.read, bodyName: 'OpenedDataObjInp_PI', body: openedInp(fd, { len }), bs: Buffer.alloc(0) }, c.ctx);
  }

  it('aligned and unaligned offsets, lengths and file ends give the bytes of the object, past the page cache', async () => {
    const data = pattern(3 * SLOT_BYTES + 777, 11);
    await alice.put(`${HOME}/r`, data);
    expect(cachedBytes(await vaultFileOf(s, `${HOME}/r`))).toBeLessThan(MiB);
    const fd = await alice.open(`${HOME}/r`, O.RDONLY);
    const cases: Array<[number, number]> = [
      [0, SLOT_BYTES],
      [SLOT_BYTES, 2 * MiB + 1],
      [4096, 3 * MiB],
      [12_345, 5 * MiB],
      [2 * SLOT_BYTES + 4096, SLOT_BYTES],
      [3 * SLOT_BYTES - 4096, SLOT_BYTES],
      [data.length - MiB, 2 * MiB],
    ];
    for (const [pos, len] of cases) {
      await alice.seek(fd, pos, 0);
      const got = await alice.read(fd, len);
      expect({ pos, len, equal: got.equals(data.subarray(pos, pos + len)) }).toEqual({ pos, len, equal: true });
    }
    await alice.close(fd);
    // aligned reads went around the page cache
    expect(cachedBytes(await vaultFileOf(s, `${HOME}/r`))).toBeLessThan(SLOT_BYTES);
  });

  it("a reply's bytes stay as read until it is sent, however many reads come meanwhile", async () => {
    const data = pattern(12 * SLOT_BYTES / 4, 13);
    await alice.put(`${HOME}/k`, data);
    const fd = await alice.open(`${HOME}/k`, O.RDONLY);
    const replies = [];
    // more reads than read slots, none sent yet
    for (let i = 0; i < 6; i++) replies.push(await rawRead(alice, fd, 2 * MiB));
    replies.forEach((r, i) => expect(r.bs!.equals(data.subarray(i * 2 * MiB, (i + 1) * 2 * MiB))).toBe(true));
    for (const r of replies) r.sent?.();
    expect(replies.filter((r) => r.sent).length).toBeGreaterThan(0);
    // once sent, the slots serve the next reads
    await alice.seek(fd, 0, 0);
    const again = await rawRead(alice, fd, 2 * MiB);
    expect(again.sent).toBeDefined();
    expect(again.bs!.equals(data.subarray(0, 2 * MiB))).toBe(true);
    again.sent!();
    await alice.close(fd);
  });
});

describe('small objects in memory', () => {
  it('seeks, gaps and reads of an O_RDWR open never touch the disk before the close', async () => {
    const fd = await alice.open(`${HOME}/m`, O.RDWR | O.CREAT | O.TRUNC);
    await alice.write(fd, 'hello world');
    await alice.seek(fd, 20, 0);
    await alice.write(fd, 'after a gap');
    await alice.seek(fd, 6, 0);
    expect((await alice.read(fd, 100)).toString('latin1')).toBe(`world${'\0'.repeat(9)}after a gap`);
    expect(tempFiles()).toEqual([]);
    await alice.close(fd);
    const want = Buffer.concat([Buffer.from('hello world'), Buffer.alloc(9), Buffer.from('after a gap')]);
    expect(await s.stat(`${HOME}/m`)).toMatchObject({ size: want.length, checksum: md5(want) });
    expect(await alice.get(`${HOME}/m`)).toEqual(want);
  });

  it('small writes that outgrow the memory bound move to a temp file and keep every byte', async () => {
    const data = pattern(MEMORY_OBJECT_BYTES + 300_000, 21);
    const fd = await alice.open(`${HOME}/grown`, O.WRONLY | O.CREAT | O.TRUNC);
    const piece = 100_000;
    for (let off = 0; off < data.length; off += piece) {
      await alice.write(fd, data.subarray(off, off + piece));
      // nothing on disk while it fits
      if (off + piece <= MEMORY_OBJECT_BYTES) expect(tempFiles()).toEqual([]);
    }
    expect(tempFiles()).toHaveLength(1);
    await alice.close(fd);
    expect(await s.stat(`${HOME}/grown`)).toMatchObject({ size: data.length, checksum: md5(data) });
  });

  it('objects past the process budget go to temp files; every one is stored whole', async () => {
    const size = MEMORY_OBJECT_BYTES - 10;
    const count = MEMORY_BUDGET_BYTES / MEMORY_OBJECT_BYTES + 8;
    const open: Array<{ c: ObjectsClient; fd: number; i: number }> = [];
    for (let i = 0; i < count; i++) {
      const c = i % 16 === 0 ? await client(s) : open[open.length - 1].c;
      const fd = await c.open(`${HOME}/b${i}`, O.WRONLY | O.CREAT | O.TRUNC);
      // in pieces below the slot-write size, so each stays a small write
      for (let off = 0; off < size; off += 500_000) await c.write(fd, pattern(Math.min(500_000, size - off), i * 7 + off));
      open.push({ c, fd, i });
    }
    // the budget holds the first ones; the rest went to files
    expect(tempFiles().length).toBeGreaterThanOrEqual(count - MEMORY_BUDGET_BYTES / MEMORY_OBJECT_BYTES);
    expect(tempFiles().length).toBeLessThan(count);
    for (const { c, fd } of open) await c.close(fd);
    for (const { i } of open) {
      const want = Buffer.concat(Array.from({ length: Math.ceil(size / 500_000) }, (_, k) => pattern(Math.min(500_000, size - k * 500_000), i * 7 + k * 500_000)));
      expect((await s.stat(`${HOME}/b${i}`))?.checksum).toBe(md5(want));
    }
    expect(tempFiles()).toEqual([]);
    // the memory came back: a new small object stays in memory again
    const fd = await alice.open(`${HOME}/again`, O.WRONLY | O.CREAT | O.TRUNC);
    await alice.write(fd, 'x');
    expect(tempFiles()).toEqual([]);
    await alice.close(fd);
  });

  it('a connection that ends before the close leaves nothing, not even a temp file', async () => {
    const ctx = await handlerContext(s, 'alice');
    const c = new ObjectsClient(ctx);
    const fd = await c.open(`${HOME}/never`, O.WRONLY | O.CREAT | O.TRUNC);
    await c.write(fd, 'small');
    await ctx.end();
    expect(await s.stat(`${HOME}/never`)).toBeNull();
    expect(tempFiles()).toEqual([]);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });
});
