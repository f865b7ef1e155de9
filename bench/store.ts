/**
 * `npm run bench -- store --files N --size BYTES [--no-sync] [--buffered] [--keep]`
 *
 * Creates N files of BYTES bytes in a temp folder, then times, against a
 * fresh embedded store: `md5sum` over the files (the yardstick), a put of the
 * folder, a move of all N objects to another collection (one moveMany), and a
 * checksum verify of all N from the vault. Last, a second yardstick: the
 * same number of bytes written to one new file (and synced, when the store
 * syncs) by one thread, what `dd` measures: the cost of storing the bytes
 * without hashing them or creating files, which on a virtual machine can
 * exceed the hashing (new page-cache pages are new host memory). Progress on
 * stderr; the last stdout line is one JSON object with every figure.
 *
 * Wall times mean little on a loaded machine, so the put's and `md5sum`'s CPU
 * seconds (user + system, every thread of the put, every process of
 * `md5sum`'s pipeline) and the load average come with them; their ratio,
 * `put_cpu_vs_md5sum_cpu`, compares runs made under different loads.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore } from '../src/store/embedded/store.js';

interface Args {
  files: number;
  size: number;
  sync: boolean;
  keep: boolean;
  concurrency?: number;
  hashWorkers?: number;
  direct: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { files: 1000, size: 100 * 1024, sync: true, keep: false, direct: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--files') args.files = Number(argv[++i]);
    else if (a === '--size') args.size = Number(argv[++i]);
    else if (a === '--no-sync') args.sync = false;
    else if (a === '--keep') args.keep = true;
    else if (a === '--buffered') args.direct = false;
    else if (a === '--concurrency') args.concurrency = Number(argv[++i]);
    else if (a === '--hash-workers') args.hashWorkers = Number(argv[++i]);
    else throw new Error(`unknown option ${a} (use --files N --size BYTES [--no-sync] [--buffered] [--concurrency JOBS] [--hash-workers N] [--keep])`);
  }
  if (!Number.isInteger(args.files) || args.files < 1) throw new Error('--files must be a positive integer');
  if (!Number.isInteger(args.size) || args.size < 0) throw new Error('--size must be a non-negative integer');
  return args;
}

const log = (msg: string) => process.stderr.write(`[bench store] ${msg}\n`);

/** Seconds taken by `fn`. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** User + system CPU seconds this process has used so far, all its threads. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * User + system CPU seconds of the child processes this process has waited
 * for, theirs and their own waited-for children's (Linux: /proc/self/stat
 * fields 16 and 17, in clock ticks of 1/100 s); undefined elsewhere.
 */
function childCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** Writes N distinct files, then syncs, so the timed phases start with no dirty pages. */
function makeFiles(dir: string, n: number, size: number): void {
  const buf = randomBytes(size);
  for (let i = 0; i < n; i++) {
    if (size >= 4) buf.writeUInt32LE(i, 0);
    writeFileSync(join(dir, `file_${String(i).padStart(7, '0')}.bin`), buf);
  }
  spawnSync('sync');
}

/**
 * Writes `total` bytes to one new file in 1 MiB chunks, syncing it when
 * asked: the bytes alone, with no hashing, no file creations and at most one
 * sync, on one thread (a put's parallel writers can beat it).
 */
function writeOnce(file: string, total: number, sync: boolean): void {
  const chunk = randomBytes(1 << 20);
  const fd = openSync(file, 'wx');
  try {
    for (let left = total; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
    if (sync) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  rmSync(file);
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const root = mkdtempSync(join(tmpdir(), 'taskflow-bench-store-'));
  const src = join(root, 'src');
  mkdirSync(src);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const store = EmbeddedStore.open({ dataDir: join(root, 'data'), zone: 'benchZone', sync: args.sync, hashWorkers: args.hashWorkers, directWrites: args.direct });
  try {
    log(`creating ${args.files} files of ${args.size} bytes in ${src}`);
    makeFiles(src, args.files, args.size);

    log('md5sum');
    const md5sumCpu0 = childCpuSeconds();
    const md5sumS = await timed(() => {
      const r = spawnSync('sh', ['-c', 'find . -type f -print0 | xargs -0 md5sum > /dev/null'], { cwd: src });
      if (r.status !== 0) throw new Error(`md5sum failed: ${r.stderr}`);
    });

    const md5sumCpu1 = childCpuSeconds();
    const md5sumCpuS = md5sumCpu0 === undefined || md5sumCpu1 === undefined ? undefined : md5sumCpu1 - md5sumCpu0;

    log('put');
    const rssBefore = process.memoryUsage().rss;
    peakRss = rssBefore;
    const load1 = loadavg()[0];
    const putCpu0 = cpuSeconds();
    const putS = await timed(() => store.putTree(src, '/benchZone/bench/src', { concurrency: args.concurrency }));
    const putCpuS = cpuSeconds() - putCpu0;
    const putPeakRss = Math.max(peakRss, process.memoryUsage().rss);
    const paths = await store.listObjectPaths('/benchZone/bench/src');
    if (paths.length !== args.files) throw new Error(`expected ${args.files} objects, found ${paths.length}`);

    log('move');
    await store.createCollection('/benchZone/bench/dst');
    const moves = paths.map((p) => ({ src: p, dst: p.replace('/bench/src/', '/bench/dst/') }));
    const moveS = await timed(() => store.moveMany(moves));

    log('verify');
    const moved = moves.map((m) => m.dst);
    const verifyS = await timed(async () => {
      const expected = (await store.list('/benchZone/bench/dst')).map((e) => e.checksum);
      const actual = await store.computeChecksums(moved);
      const bad = actual.filter((c, i) => c !== expected[i]).length;
      if (bad > 0) throw new Error(`${bad} checksums differ`);
    });

    // after the put: writing a gigabyte first could push the source files out of the page cache
    log('write yardstick');
    const writeS = await timed(() => writeOnce(join(root, 'yardstick.bin'), args.files * args.size, args.sync));

    const result = {
      bench: 'store',
      files: args.files,
      size: args.size,
      sync: args.sync,
      direct: args.direct,
      put_s: round(putS),
      move_s: round(moveS),
      verify_s: round(verifyS),
      md5sum_s: round(md5sumS),
      put_vs_md5sum: round(putS / md5sumS),
      put_cpu_s: round(putCpuS),
      md5sum_cpu_s: md5sumCpuS === undefined ? undefined : round(md5sumCpuS),
      put_cpu_vs_md5sum_cpu: md5sumCpuS === undefined || md5sumCpuS === 0 ? undefined : round(putCpuS / md5sumCpuS),
      load_avg_1m: round(load1),
      write_s: round(writeS),
      put_vs_write: round(putS / writeS),
      put_mb_s: round((args.files * args.size) / 1e6 / putS),
      rss_before_put_mb: round(rssBefore / 1e6),
      put_peak_rss_mb: round(putPeakRss / 1e6),
      peak_rss_mb: round(peakRss / 1e6),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(sampler);
    await store.close();
    if (!args.keep) rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
