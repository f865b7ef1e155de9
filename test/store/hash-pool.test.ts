/**
 * The hash pool's bulk work: MD5s and file heads in input order over many
 * batches, copies that hash on the way, and the file at fault named when
 * one cannot be read. All of it through the workers' SIMD kernel and through
 * their scalar fallback (machines without WebAssembly SIMD).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashError, HashPool } from '../../src/store/embedded/hash-pool.js';
import { mulberry32 } from '../support/prng.js';

let dir: string;
let pool: HashPool;

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');

/** Bytes that differ from any block's neighbours, so a block hashed twice or out of order shows. */
function noise(n: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) out.writeUInt32LE(next(), i);
  return out;
}

describe.each([
  ['the SIMD kernel', true],
  ['the scalar fallback', false],
])('hash pool on %s', (_name, simd) => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskflow-pool-'));
    pool = new HashPool(2, { simd });
  });
  afterEach(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hashes and reads heads of many files in input order, across batches and sizes', async () => {
    const contents = Array.from({ length: 1100 }, (_, i) => `file ${i} `.repeat(i % 7 === 0 ? 200_000 : i % 5));
    const files = contents.map((c, i) => {
      const f = join(dir, `f${i}`);
      writeFileSync(f, c);
      return f;
    });
    const md5s = contents.map((c) => createHash('md5').update(c).digest('hex'));
    expect(await pool.hashFiles(files)).toEqual(md5s);
    expect(await pool.hashFiles(files, true)).toEqual(md5s);
    expect(await pool.readHeads(files, 40)).toEqual(contents.map((c) => Buffer.from(c).subarray(0, 40).toString('utf8')));
  });

  it('names the file it cannot read', async () => {
    const ok = join(dir, 'ok');
    writeFileSync(ok, 'x');
    const err = await pool.readHeads([ok, join(dir, 'gone')], 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashError);
    expect((err as HashError).code).toBe('ENOENT');
    expect((err as HashError).file).toBe(join(dir, 'gone'));
    await expect(pool.readHeads([ok], 2 ** 21)).rejects.toThrow(RangeError);
  });

  it('names the file it cannot hash, also when the others in its lanes can be', async () => {
    const files = Array.from({ length: 20 }, (_, i) => join(dir, `h${i}`));
    files.forEach((f, i) => i !== 13 && writeFileSync(f, `bytes ${i}`));
    for (const direct of [false, true]) {
      const err = await pool.hashFiles(files, direct).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HashError);
      expect((err as HashError).file).toBe(files[13]);
      expect((err as HashError).code).toBe('ENOENT');
    }
  });

  it('copies while hashing: each item alone fails or lands whole, around the 256 KiB lane chunk', async () => {
    const KiB = 1024;
    const sizes = [0, 1, 100 * KiB, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 3 * 256 * KiB + 7, 4096];
    const items = sizes.map((n, i) => {
      const src = join(dir, `src${i}`);
      writeFileSync(src, Buffer.alloc(n, i + 1));
      return { src, dest: join(dir, `dest${i}`) };
    });
    items[2].src = join(dir, 'no such file');
    writeFileSync(items[5].dest, 'already here');
    for (const mode of [{ sync: true, direct: true }, { sync: false, direct: false }]) {
      const results = await pool.copyFiles(items, mode);
      results.forEach((r, i) => {
        if (i === 2) expect(r).toMatchObject({ code: 'ENOENT' });
        else if (i === 5) expect(r).toMatchObject({ code: 'EEXIST' });
        else {
          const bytes = Buffer.alloc(sizes[i], i + 1);
          expect(r).toEqual({ size: sizes[i], md5: createHash('md5').update(bytes).digest('hex') });
          expect(readFileSync(items[i].dest).equals(bytes)).toBe(true);
        }
      });
      expect(existsSync(items[2].dest)).toBe(false);
      expect(readFileSync(items[5].dest, 'utf8')).toBe('already here');
      items.forEach((it, i) => i !== 5 && rmSync(it.dest, { force: true }));
    }
  });

  it('answers a small call while a huge file hashes: the huge one pauses for it', async () => {
    await pool.close();
    pool = new HashPool(1, { simd });
    // sparse: no disk, but every byte hashed (seconds, with the only worker)
    const huge = join(dir, 'huge');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 4 * 1024 ** 3);
    closeSync(fd);
    const small = join(dir, 'small');
    const bytes = noise(3 * 1024 * 1024, 1);
    writeFileSync(small, bytes);
    const done: string[] = [];
    const hugeEnd = pool.hashFiles([huge], true).then(
      () => done.push('huge'),
      (err: Error) => err.message,
    );
    expect(await pool.hashFiles([small], true)).toEqual([md5(bytes)]);
    expect(done).toEqual([]);
    expect(pool.pauses).toBeGreaterThan(0);
    await pool.close();
    expect(await hugeEnd).toBe('hash pool closed');
  });

  it('hashes, copies and reads heads right when every job pauses at every chance', async () => {
    await pool.close();
    pool = new HashPool(1, { simd, sliceMs: 0 });
    const KiB = 1024;
    const sizes = [0, 1, 300 * KiB, 2 * 1024 * KiB + 5, 64, 700 * KiB, 256 * KiB, 1500 * KiB, 3, 900 * KiB, 4096, 1024 * KiB];
    const contents = sizes.map((n, i) => noise(n, 10 + i));
    const files = contents.map((c, i) => {
      const f = join(dir, `p${i}`);
      writeFileSync(f, c);
      return f;
    });
    const lone = join(dir, 'lone');
    const loneBytes = noise(5 * 1024 * KiB + 17, 3);
    writeFileSync(lone, loneBytes);
    const items = [0, 1, 2].map((i) => ({ src: files[i * 3 + 2], dest: join(dir, `copy${i}`) }));
    const [batch, alone, alone2, copies, heads] = await Promise.all([
      pool.hashFiles(files, true),
      pool.hashFiles([lone]),
      pool.hashFiles([files[3]]),
      pool.copyFiles(items, { sync: false, direct: true }),
      pool.readHeads(files, 5),
    ]);
    expect(batch).toEqual(contents.map(md5));
    expect([alone, alone2]).toEqual([[md5(loneBytes)], [md5(contents[3])]]);
    expect(copies).toEqual([2, 5, 8].map((i) => ({ size: sizes[i], md5: md5(contents[i]) })));
    for (const it of items) expect(readFileSync(it.dest).equals(readFileSync(it.src))).toBe(true);
    expect(heads).toEqual(contents.map((c) => c.subarray(0, 5).toString('utf8')));
    expect(pool.pauses).toBeGreaterThan(10);
  });

  // Kernels before 6.6 refuse O_DIRECT on tmpfs (the workers then fall back to
  // the page cache); newer ones take it. Either way the bytes must come out right.
  it('hashes and copies in direct mode on tmpfs too', async () => {
    const shm = mkdtempSync(join('/dev/shm', 'taskflow-pool-'));
    try {
      const items = [0, 5000, 300_000].map((n, i) => {
        const src = join(shm, `src${i}`);
        writeFileSync(src, Buffer.alloc(n, i + 7));
        return { src, dest: join(shm, `dest${i}`), md5: createHash('md5').update(Buffer.alloc(n, i + 7)).digest('hex') };
      });
      expect(await pool.hashFiles(items.map((it) => it.src), true)).toEqual(items.map((it) => it.md5));
      const results = await pool.copyFiles(items, { sync: true, direct: true });
      expect(results.map((r) => ('md5' in r ? r.md5 : r))).toEqual(items.map((it) => it.md5));
      for (const it of items) expect(readFileSync(it.dest).equals(readFileSync(it.src))).toBe(true);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });
});
