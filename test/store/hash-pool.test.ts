/**
 * The hash pool's bulk reads: MD5s and file heads in input order over many
 * batches, and the file at fault named when one cannot be read.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashError, HashPool } from '../../src/store/embedded/hash-pool.js';

let dir: string;
let pool: HashPool;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taskflow-pool-'));
  pool = new HashPool(2);
});
afterEach(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hash pool', () => {
  it('hashes and reads heads of many files in input order, across batches and sizes', async () => {
    const contents = Array.from({ length: 1100 }, (_, i) => `file ${i} `.repeat(i % 7 === 0 ? 200_000 : i % 5));
    const files = contents.map((c, i) => {
      const f = join(dir, `f${i}`);
      writeFileSync(f, c);
      return f;
    });
    expect(await pool.hashFiles(files)).toEqual(contents.map((c) => createHash('md5').update(c).digest('hex')));
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
});
