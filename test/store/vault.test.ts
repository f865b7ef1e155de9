import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlreadyExistsError, ChecksumMismatchError, InvalidPathError, NotFoundError } from '../../src/store/index.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { caught, readAll, storePerTest, type TempStore } from '../support/store-helpers.js';

const Z = '/testZone';
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
let t: TempStore;
let s: EmbeddedStore;
// every object a vault file, whatever its size: these tests are about those files
storePerTest(
  (opened) => {
    t = opened;
    s = opened.store;
  },
  { inlineMaxBytes: 0 },
);

function vaultFiles(): string[] {
  const vault = join(t.dataDir, 'vault');
  return readdirSync(vault)
    .filter((d) => d !== 'tmp')
    .flatMap((d) => readdirSync(join(vault, d)).map((f) => join(vault, d, f)));
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('fsck', () => {
  it('reports objects whose vault file is gone; they fail to read and verify', async () => {
    await s.putObject(`${Z}/a`, Readable.from(['a']));
    await s.putObject(`${Z}/b`, Readable.from(['b']));
    const [file] = vaultFiles();
    rmSync(file);
    const report = await s.fsck({ repair: true });
    expect(report.orphanFiles).toEqual([]);
    expect(report.repaired).toBe(0);
    expect(report.missingFiles).toHaveLength(1);
    const lost = report.missingFiles[0];
    expect([`${Z}/a`, `${Z}/b`]).toContain(lost);
    expect(await caught(() => s.getObject(lost))).toBeInstanceOf(NotFoundError);
    const err = await caught(() => s.checksum(lost, { verify: true }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).path).toBe(lost);
  });

  it('reports orphan files and dead writers’ temp files, and repair removes them', async () => {
    await s.putObject(`${Z}/a`, Readable.from(['a']));
    const shard = join(t.dataDir, 'vault', 'ff');
    mkdirSync(shard, { recursive: true });
    writeFileSync(join(shard, 'ff00orphan'), 'x');
    const deadTemp = join(t.dataDir, 'vault', 'tmp', `${deadPid()}-abc.part`);
    writeFileSync(deadTemp, 'half');
    // A live writer's temp file (another running process) is not a leftover.
    const liveTemp = join(t.dataDir, 'vault', 'tmp', `${process.ppid}-def.part`);
    writeFileSync(liveTemp, 'in progress');
    const report = await s.fsck();
    expect(report).toEqual({ missingFiles: [], orphanFiles: [join(shard, 'ff00orphan'), deadTemp].sort(), repaired: 0 });
    const repaired = await s.fsck({ repair: true });
    expect(repaired.repaired).toBe(2);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(readdirSync(join(t.dataDir, 'vault', 'tmp'))).toEqual([`${process.ppid}-def.part`]);
    expect((await readAll(await s.getObject(`${Z}/a`))).toString()).toBe('a');
  });
});

describe('checksum verify', () => {
  it('detects bytes changed behind the catalog', async () => {
    await s.putObject(`${Z}/a`, Readable.from(['original']));
    await s.putObject(`${Z}/b`, Readable.from(['other']));
    const files = vaultFiles();
    // Corrupt exactly a's bytes: the vault file holding "original".
    const fileA = files.find((f) => readFileSync(f, 'utf8') === 'original')!;
    writeFileSync(fileA, 'tampered');
    const err = await caught(() => s.checksum(`${Z}/a`, { verify: true }));
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as ChecksumMismatchError).path).toBe(`${Z}/a`);
    expect((err as ChecksumMismatchError).actual).toBe(md5('tampered'));
    expect(await s.checksum(`${Z}/a`)).toBe(md5('original'));
    expect(await s.computeChecksums([`${Z}/b`, `${Z}/a`])).toEqual([md5('other'), md5('tampered')]);
  });
});

describe('putTree', () => {
  function makeTree(root: string): void {
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'top.txt'), 'top');
    writeFileSync(join(root, 'a', 'one.txt'), 'one');
    writeFileSync(join(root, 'a', 'b', 'two.txt'), 'two');
    writeFileSync(join(root, 'a', 'b', 'zero'), '');
    for (let i = 0; i < 20; i++) writeFileSync(join(root, 'a', `n${i}`), `n${i}`);
  }

  it('puts a folder tree in batches, creating collections', async () => {
    const local = join(t.dir, 'tree');
    makeTree(local);
    const progress: number[] = [];
    const res = await s.putTree(local, `${Z}/in/tree`, {
      batchSize: 3,
      stageBatch: 2,
      onProgress: ({ files }) => progress.push(files),
    });
    expect(res).toEqual({ files: 24, bytes: 3 + 3 + 3 + 0 + (2 * 10 + 3 * 10), collections: 5 });
    expect(progress.at(-1)).toBe(24);
    const entries = await s.list(`${Z}/in/tree`, { recursive: true });
    expect(entries.filter((e) => e.type === 'collection').map((e) => e.path)).toEqual([
      `${Z}/in/tree/a`,
      `${Z}/in/tree/a/b`,
      `${Z}/in/tree/empty`,
    ]);
    expect((await s.stat(`${Z}/in/tree/a/b/two.txt`))!.checksum).toBe(md5('two'));
    expect((await s.stat(`${Z}/in/tree/a/b/zero`))!.size).toBe(0);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    // Into an existing collection: merges; an existing object is refused unless overwriting.
    const err = await caught(() => s.putTree(local, `${Z}/in/tree`, { batchSize: 3 }));
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(readdirSync(join(t.dataDir, 'vault', 'tmp'))).toEqual([]);
    writeFileSync(join(local, 'top.txt'), 'new top');
    await s.putTree(local, `${Z}/in/tree`, { overwrite: true });
    expect((await s.stat(`${Z}/in/tree/top.txt`))!.checksum).toBe(md5('new top'));
    expect(vaultFiles()).toHaveLength(24);
  });

  it('writes past the page cache or not, synced or not: every size comes back byte for byte', async () => {
    // around the 4 KiB blocks and the 256 KiB lane chunks: padding, cut back, several chunks, one ending on a chunk edge
    const sizes = [0, 1, 4095, 4096, 4097, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 123];
    const local = join(t.dir, 'direct-src');
    mkdirSync(local);
    const content = new Map(sizes.map((n, i) => [`f${i}`, randomBytes(n)]));
    for (const [name, bytes] of content) writeFileSync(join(local, name), bytes);
    for (const [sync, directWrites] of [[true, true], [false, true], [true, false]]) {
      const dataDir = join(t.dir, `direct-${sync}-${directWrites}`);
      const direct = EmbeddedStore.open({ dataDir, zone: 'testZone', sync, directWrites });
      try {
        const res = await direct.putTree(local, `${Z}/d`);
        expect(res.files).toBe(sizes.length);
        const paths = [...content.keys()].map((name) => `${Z}/d/${name}`);
        expect(await direct.computeChecksums(paths)).toEqual([...content.values()].map((b) => md5(b)));
        for (const [name, bytes] of content) {
          expect((await direct.stat(`${Z}/d/${name}`))!.size).toBe(bytes.length);
          expect((await readAll(await direct.getObject(`${Z}/d/${name}`))).equals(bytes)).toBe(true);
        }
        expect(await direct.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
        expect(readdirSync(join(dataDir, 'vault', 'tmp'))).toEqual([]);
      } finally {
        await direct.close();
      }
    }
  });

  it('refuses file names that are not valid in the store, leaving no temp files', async () => {
    const local = join(t.dir, 'bad');
    mkdirSync(local);
    for (let i = 0; i < 10; i++) writeFileSync(join(local, `ok${i}`), 'ok');
    writeFileSync(join(local, 'p\nq'), 'bad');
    const err = await caught(() => s.putTree(local, `${Z}/bad`, { batchSize: 100 }));
    expect(err).toBeInstanceOf(InvalidPathError);
    expect(await s.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(readdirSync(join(t.dataDir, 'vault', 'tmp'))).toEqual([]);
  });

  it('needs a local folder', async () => {
    expect(await caught(() => s.putTree(join(t.dir, 'none'), `${Z}/x`))).toBeInstanceOf(NotFoundError);
  });
});

describe('object ids', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ids of bytes kept in the catalog sort in the order they were made, 32 hex digits as a file id', () => {
    const { vault } = s.protocolCore();
    vi.useFakeTimers({ toFake: ['Date'] });
    const ids: string[] = [];
    for (const ms of [1_000, 1_001, 5_000_000, Date.UTC(2026, 0, 1), Date.UTC(2100, 0, 1)]) {
      vi.setSystemTime(ms);
      ids.push(vault.stagedBytes(Buffer.from('x'), md5('x')).id);
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // within one millisecond they differ (the random part)
    expect(vault.stagedBytes(Buffer.from('x'), md5('x')).id).not.toBe(vault.stagedBytes(Buffer.from('x'), md5('x')).id);
    expect(vault.stagedBytes(Buffer.from('x'), md5('x'), 'fast').id).toMatch(/^fast\/[0-9a-f]{32}$/);
    expect(vault.newId()).toMatch(/^[0-9a-f]{32}$/);
  });
});
