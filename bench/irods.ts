/**
 * `npm run bench -- irods [--files N] [--size BYTES] [--big-size BYTES] [--no-sync] [--keep] [--plain-client] [--warmup N] [--warmup-sessions S] [--profile DIR] [--list L]`
 *
 * The store's iRODS protocol server against its reference client on
 * loopback: `taskflow store serve` (with the allocator setting bin/taskflow
 * gives node, as `npm start` and an installed `taskflow` run it) on a free
 * port over a fresh data folder
 * (the default settings, so synced writes unless `--no-sync`), and
 * python-irodsclient 0.8.1 (Debian's /usr/bin/python3) doing, one phase per
 * client process: a put of one big file (1 GiB; `--big-size 0` makes both
 * big phases trivial), a get of it into /dev/null (`get_discard_*`: the
 * transfer without the client's file writes, which bound a get where fresh
 * page-cache pages are dear), a get of it back into a local file, the same
 * get again after removing that file (`get_again_*`: into page cache the
 * first get freed, not memory a virtual machine's guest touches for the
 * first time), and a put
 * of N small files (1,000 × 10 KiB) into one collection, then listings of
 * two collections of L and L/10 objects (`--list L`, default 20,000; the
 * objects put beforehand by `taskflow store put` of a folder) as
 * python-irodsclient lists one (`collection.data_objects`: every column of
 * each object, page by page), whose server CPU per 1,000 objects should be
 * the same for both: a listing's cost linear in its length. Per phase: wall seconds
 * as the client measures them (login excluded), the client's CPU seconds
 * over the phase (its os.times), the server's CPU seconds (utime + stime of
 * /proc/<pid>/stat, all its threads) over the same span (`*_server_cpu_s`,
 * the driver waits at the phase's start and end while the bench reads them)
 * and over the whole client process (`*_server_session_cpu_s`: with the
 * login, the listing that counts the objects, the logout), and the server's
 * peak resident memory over the run. Progress on stderr; the last stdout line is one JSON object.
 *
 * Before the measured small files, `--warmup N` (default 1000) puts the same
 * files once more into another collection, uncounted, so the figures are
 * those of a running server rather than of a process still compiling its
 * hot code (V8's optimizing compiler runs on other threads while the code
 * warms up, and the main thread runs slower code meanwhile); `warmup_files`
 * in the JSON line says how many. `--warmup 0` measures a cold server. How
 * settled a server is depends on how many client sessions it has served more
 * than on how many files (docs/irods-performance.md, the nineteenth
 * session's machine): V8 throws code away at a session's end and start and
 * compiles it again in the next one. `--warmup-sessions S` (default 1)
 * puts the warm-up files S times, in a client session each
 * (`warmup_sessions` in the JSON line), which measures a server that has
 * served a few clients; `warmup_server_vs_client_cpu` gives each warm-up
 * session's ratio, so one run shows how the server settles.
 *
 * The issue's goals: put and get of 1 GiB at 300 MB/s or more each, and the
 * server using less CPU than the client on the small files.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tunablesFromBin } from '../test/support/taskflow-bin.js';

const PYTHON = '/usr/bin/python3';
/** The driver stays in the source tree (the build copies no Python); this file runs from dist/bench. */
const DRIVER = resolve(import.meta.dirname, '../../bench/irods_client.py');
const CLI = resolve(import.meta.dirname, '../src/cli/index.js');
/** The command as installed: a script that starts node on {@link CLI} with glibc's allocator settings. */
const BIN = resolve(import.meta.dirname, '../../bin/taskflow');

const ZONE = 'omicsZone';
const PASSWORD = 'bench-password';

interface Args {
  files: number;
  size: number;
  bigSize: number;
  sync: boolean;
  keep: boolean;
  /** Run the client with glibc's default allocator settings (see {@link TUNED_CLIENT_MALLOC}). */
  plainClient: boolean;
  /** Small files put (uncounted, in another collection) before the measured ones. */
  warmup: number;
  /** Client sessions that each put the {@link Args.warmup} files, one after another. */
  warmupSessions: number;
  /** Folder for the server's V8 CPU profile (node --cpu-prof), written when it stops. */
  profile?: string;
  /** Objects in the larger listed collection (the smaller holds a tenth); 0: no listings. */
  list: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { files: 1000, size: 10 * 1024, bigSize: 1024 ** 3, sync: true, keep: false, plainClient: false, warmup: 1000, warmupSessions: 1, list: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--files') args.files = Number(argv[++i]);
    else if (a === '--size') args.size = Number(argv[++i]);
    else if (a === '--big-size') args.bigSize = Number(argv[++i]);
    else if (a === '--no-sync') args.sync = false;
    else if (a === '--keep') args.keep = true;
    else if (a === '--plain-client') args.plainClient = true;
    else if (a === '--warmup') args.warmup = Number(argv[++i]);
    else if (a === '--warmup-sessions') args.warmupSessions = Number(argv[++i]);
    else if (a === '--profile') args.profile = resolve(argv[++i] ?? '.');
    else if (a === '--list') args.list = Number(argv[++i]);
    else throw new Error(
        `unknown option ${a} (use --files N --size BYTES --big-size BYTES [--no-sync] [--keep] [--plain-client] [--warmup N] [--warmup-sessions S] [--profile DIR] [--list L])`,
      );
  }
  if (!Number.isInteger(args.files) || args.files < 1) throw new Error('--files must be a positive integer');
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new Error('--warmup must be a non-negative integer');
  if (!Number.isInteger(args.warmupSessions) || args.warmupSessions < 1) throw new Error('--warmup-sessions must be a positive integer');
  if (!Number.isInteger(args.list) || args.list < 0) throw new Error('--list must be a non-negative integer');
  for (const [name, v] of [['--size', args.size], ['--big-size', args.bigSize]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  }
  return args;
}

/**
 * glibc allocator settings for the client process, unless --plain-client.
 * python-irodsclient 0.8.1 builds each 8 MiB write as a new bytes object
 * (`iRODSMessage.pack` concatenates header, body and bytes) after reading
 * the file into another; with glibc's defaults each such block is a fresh
 * mmap, so every page of it faults in and is zeroed, then unmapped. On this
 * project's virtual machines that costs the client about 9 CPU seconds per
 * GiB put (most of it system time), against about 0.6 s with these
 * settings, which keep freed blocks in the heap for the next one. The bench
 * is about the server, so by default the client does not drown it.
 */
const TUNED_CLIENT_MALLOC = { MALLOC_MMAP_THRESHOLD_: String(256 * 1024 ** 2), MALLOC_TRIM_THRESHOLD_: String(1024 ** 3) };

const log = (msg: string) => process.stderr.write(`[bench irods] ${msg}\n`);

/** utime + stime in seconds from a /proc stat line. */
function statCpu(stat: string): number {
  // fields after the command name, which is in parentheses and may hold spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime: fields 14 and 15 of proc(5)
}

/** CPU seconds (user + system, every thread) of process `pid` so far. */
function cpuSeconds(pid: number): number {
  return statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU seconds so far of the main thread of `pid` and of all its other
 * threads together (libuv's pool, which does the file writes and syncs, the
 * store's hash workers, V8's helpers; Node 20 names them all "node"): where
 * a server's CPU goes beyond what a profile of its main thread shows.
 */
function cpuByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const kind = tid === String(pid) ? 'main' : 'other';
      out.set(kind, (out.get(kind) ?? 0) + statCpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function threadDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = round(v - (before.get(k) ?? 0));
    if (d > 0) out[k] = d;
  }
  return out;
}

/** The peak resident memory of process `pid` so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024) : NaN;
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Runs a command with `input` on stdin; throws unless it exits 0. */
function run(cmd: string, args: string[], input: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res(stdout) : rej(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr}`))));
    p.stdin.end(input);
  });
}

/** `taskflow store serve` on a free port, under `node --cpu-prof` when `profileDir` is given. */
function startServer(env: Record<string, string>, tunables: string, profileDir?: string): { proc: ChildProcess; port: Promise<number>; stop(): Promise<void> } {
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const proc = spawn(process.execPath, [...flags, CLI, 'store', 'serve', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env, GLIBC_TUNABLES: tunables },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const port = new Promise<number>((res, rej) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /irods listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    void exited.then(() => rej(new Error(`taskflow store serve exited (${proc.exitCode ?? proc.signalCode}) before listening: ${out}`)));
  });
  return {
    proc,
    port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

interface PhaseResult {
  seconds: number;
  clientCpu: number;
  /** The client's system (kernel) part: its socket sends and receives, file reads and writes. */
  clientSys: number;
  /** The server's CPU seconds over the phase alone: the span the client's own figures cover. */
  serverCpu: number;
  /** The server's CPU seconds over the phase alone, by thread kind. */
  serverThreads: Record<string, number>;
  /** The server's CPU seconds over the whole client process: its login, the phase, the listing after it, the logout. */
  serverSessionCpu: number;
  stored: number | null;
}

/**
 * Runs one phase of the driver, measuring the server's CPU over the phase
 * (the driver stops at its start and its end until the bench has read the
 * server's figures, see irods_client.py) and over the whole client process.
 */
function phase(serverPid: number, port: number, clientEnv: Record<string, string>, fields: Record<string, unknown>): Promise<PhaseResult> {
  const input = JSON.stringify({ host: '127.0.0.1', port, user: 'rods', password: PASSWORD, zone: ZONE, marks: true, ...fields });
  return new Promise((res, rej) => {
    const session0 = cpuSeconds(serverPid);
    let cpu0 = NaN;
    let threads0 = new Map<string, number>();
    let serverCpu = NaN;
    let serverThreads: Record<string, number> = {};
    const p = spawn(PYTHON, [DRIVER], { env: { ...process.env, ...clientEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let seen = 0;
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split('\n');
      for (; seen < lines.length - 1; seen++) {
        if (lines[seen] === 'start') {
          threads0 = cpuByThread(serverPid);
          cpu0 = cpuSeconds(serverPid);
          p.stdin.write('\n');
        } else if (lines[seen] === 'end') {
          serverCpu = cpuSeconds(serverPid) - cpu0;
          serverThreads = threadDelta(threads0, cpuByThread(serverPid));
          p.stdin.end('\n');
        }
      }
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => {
      if (code !== 0 || Number.isNaN(serverCpu)) {
        rej(new Error(`${PYTHON} ${DRIVER} exited ${code}${Number.isNaN(serverCpu) ? ' without marking its phase' : ''}:\n${stderr}`));
        return;
      }
      const serverSessionCpu = cpuSeconds(serverPid) - session0;
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; user_seconds: number; system_seconds: number; stored: number | null };
      res({ seconds: r.seconds, clientCpu: r.user_seconds + r.system_seconds, clientSys: r.system_seconds, serverCpu, serverThreads, serverSessionCpu, stored: r.stored });
    });
    p.stdin.write(`${input}\n`);
  });
}

/** Writes `size` random bytes to `file` in 8 MiB pieces; returns their MD5. */
function writeRandomFile(file: string, size: number): string {
  const hash = createHash('md5');
  const fd = openSync(file, 'wx');
  try {
    for (let left = size; left > 0; ) {
      const piece = randomBytes(Math.min(left, 8 * 1024 * 1024));
      writeSync(fd, piece);
      hash.update(piece);
      left -= piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const root = mkdtempSync(join(tmpdir(), 'taskflow-bench-irods-'));
  const env = { TASKFLOW_DATA_DIR: join(root, 'data'), TASKFLOW_STORE_SYNC: String(args.sync), TASKFLOW_LOG_LEVEL: 'warn' };
  // every catalog is made with the admin's home, as an iRODS zone is
  const home = `/${ZONE}/home/rods`;
  await run(process.execPath, [CLI, 'store', 'user', 'passwd', 'rods'], `${PASSWORD}\n`, env);
  const listings = listingSizes(args.list);
  for (const n of listings) {
    log(`putting ${n} objects to list`);
    await run(process.execPath, [CLI, 'store', 'put', writeListingFolder(root, n), `${home}/listing${n}`], '', env);
  }
  // read from a run of the script, so the setting is written in one place; the server is node itself,
  // not started through the script, as NODE_OPTIONS refuses `--cpu-prof` (`--profile`)
  const serverTunables = tunablesFromBin(BIN, process.env);
  const server = startServer(env, serverTunables, args.profile);
  try {
    const port = await server.port;
    const pid = server.proc.pid!;
    const clientEnv = args.plainClient ? {} : TUNED_CLIENT_MALLOC;

    log(`writing a ${args.bigSize}-byte file and ${args.files} files of ${args.size} bytes`);
    const big = join(root, 'big.bin');
    const bigMd5 = writeRandomFile(big, args.bigSize);
    const small = join(root, 'small');
    mkdirSync(small);
    const piece = randomBytes(args.size);
    const locals: string[] = [];
    // the warm-up puts the first of them; a longer one gets files of its own
    for (let i = 0; i < Math.max(args.files, args.warmup); i++) {
      if (args.size >= 4) piece.writeUInt32LE(i, 0);
      const f = join(small, `file_${String(i).padStart(6, '0')}.bin`);
      writeFileSync(f, piece);
      locals.push(f);
    }
    // no dirty pages of ours left for a phase to pay for
    spawnSync('sync');

    log('put of the big file');
    const put = await phase(pid, port, clientEnv, { phase: 'put', local: big, path: `${home}/big.bin` });
    log(`  ${(args.bigSize / 1e6 / put.seconds).toFixed(1)} MB/s`);
    // the get without the client's file writes, which bound the get below on a slow disk or where fresh
    // page-cache pages are dear; first, so that no writeback of the fetched file runs beside it
    log('get of the big file into /dev/null');
    const discarded = await phase(pid, port, clientEnv, { phase: 'get', path: `${home}/big.bin`, local: '/dev/null' });
    log(`  ${(args.bigSize / 1e6 / discarded.seconds).toFixed(1)} MB/s`);
    const fetched = join(root, 'big.fetched');
    /** A get of the big file into `fetched`, checked against the file put, then removed. */
    const getIntoFile = async (what: string): Promise<PhaseResult> => {
      log(what);
      const r = await phase(pid, port, clientEnv, { phase: 'get', path: `${home}/big.bin`, local: fetched });
      log(`  ${(args.bigSize / 1e6 / r.seconds).toFixed(1)} MB/s`);
      if ((await md5File(fetched)) !== bigMd5) throw new Error('the fetched file differs from the one put');
      rmSync(fetched);
      return r;
    };
    const get = await getIntoFile('get of the big file');
    // the same get again, into the same path: its file's pages are those the first get's file had, freed by the
    // removal. On a virtual machine the first get may write into memory the guest never touched, which the
    // host then faults in page by page (a 1 GiB dd into a new file: 227 MB/s, into one just removed: 1.7 GB/s,
    // on the twentieth session's machine); this one measures what a client whose memory has been used writes into.
    const again = await getIntoFile('get of the big file again (page cache the first get freed)');
    // the server's CPU against the client's in each warm-up session: how a fresh server settles, session by session
    const warmupRatios: number[] = [];
    for (let k = 0; args.warmup > 0 && k < args.warmupSessions; k++) {
      log(`warm-up session ${k + 1} of ${args.warmupSessions}: put of ${args.warmup} small files, not counted`);
      const warm = await phase(pid, port, clientEnv, { phase: 'put_many', locals: locals.slice(0, args.warmup), coll: `${home}/warmup${k}` });
      log(`  ${(args.warmup / warm.seconds).toFixed(1)} files/s, server ${round(warm.serverCpu)} CPU s, client ${round(warm.clientCpu)}`);
      warmupRatios.push(round(warm.serverCpu / warm.clientCpu));
    }
    log(`put of ${args.files} small files`);
    const many = await phase(pid, port, clientEnv, { phase: 'put_many', locals: locals.slice(0, args.files), coll: `${home}/small` });
    log(`  ${(args.files / many.seconds).toFixed(1)} files/s`);
    if (many.stored !== args.files) throw new Error(`expected ${args.files} objects, the collection holds ${many.stored}`);
    const listed: Array<{ objects: number; r: PhaseResult }> = [];
    for (const n of listings) {
      log(`listing of ${n} objects`);
      const r = await phase(pid, port, clientEnv, { phase: 'list', coll: `${home}/listing${n}` });
      if (r.stored !== n) throw new Error(`listed ${r.stored} objects of ${n}`);
      log(`  ${(n / r.seconds).toFixed(0)} objects/s, server ${round(r.serverCpu)} CPU s`);
      listed.push({ objects: n, r });
    }

    const result = {
      bench: 'irods',
      sync: args.sync,
      client_malloc: args.plainClient ? 'plain' : 'tuned',
      server_glibc_tunables: serverTunables,
      big_bytes: args.bigSize,
      put_s: round(put.seconds),
      put_mb_s: round(args.bigSize / 1e6 / put.seconds),
      put_server_cpu_s: round(put.serverCpu),
      put_client_cpu_s: round(put.clientCpu),
      put_client_sys_s: round(put.clientSys),
      put_server_threads_cpu_s: put.serverThreads,
      put_server_session_cpu_s: round(put.serverSessionCpu),
      get_s: round(get.seconds),
      get_mb_s: round(args.bigSize / 1e6 / get.seconds),
      get_server_cpu_s: round(get.serverCpu),
      get_client_cpu_s: round(get.clientCpu),
      get_client_sys_s: round(get.clientSys),
      get_server_threads_cpu_s: get.serverThreads,
      get_server_session_cpu_s: round(get.serverSessionCpu),
      get_again_s: round(again.seconds),
      get_again_mb_s: round(args.bigSize / 1e6 / again.seconds),
      get_again_server_cpu_s: round(again.serverCpu),
      get_again_client_cpu_s: round(again.clientCpu),
      get_again_client_sys_s: round(again.clientSys),
      get_discard_s: round(discarded.seconds),
      get_discard_mb_s: round(args.bigSize / 1e6 / discarded.seconds),
      get_discard_server_cpu_s: round(discarded.serverCpu),
      get_discard_client_cpu_s: round(discarded.clientCpu),
      get_discard_client_sys_s: round(discarded.clientSys),
      files: args.files,
      size: args.size,
      warmup_files: args.warmup,
      warmup_sessions: args.warmup > 0 ? args.warmupSessions : 0,
      warmup_server_vs_client_cpu: warmupRatios,
      files_s: round(many.seconds),
      files_per_s: round(args.files / many.seconds),
      files_server_cpu_s: round(many.serverCpu),
      files_client_cpu_s: round(many.clientCpu),
      files_client_sys_s: round(many.clientSys),
      files_server_threads_cpu_s: many.serverThreads,
      files_server_session_cpu_s: round(many.serverSessionCpu),
      files_server_vs_client_cpu: round(many.serverCpu / many.clientCpu),
      ...listingFigures(listed),
      server_peak_rss_mb: peakRssMb(pid),
      loadavg: loadavg().map(round),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await server.stop();
    if (!args.keep) rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
    if (args.profile) log(`server CPU profile in ${args.profile}`);
  }
}

/** The sizes of the listed collections: `list` and a tenth of it (none for 0). */
function listingSizes(list: number): number[] {
  return list === 0 ? [] : [...new Set([Math.max(1, Math.round(list / 10)), list])];
}

/** A folder of `n` small files (a few bytes each: a listing is about the catalog) under `root`. */
function writeListingFolder(root: string, n: number): string {
  const dir = join(root, `listing${n}`);
  mkdirSync(dir);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `object_${String(i).padStart(7, '0')}`), String(i));
  return dir;
}

/**
 * The JSON line's listing figures: the larger listing's, and the server's
 * CPU per 1,000 objects in each (linear cost: about equal).
 */
function listingFigures(listed: ReadonlyArray<{ objects: number; r: PhaseResult }>): Record<string, unknown> {
  const big = listed.at(-1);
  if (!big) return { list_objects: 0 };
  const perThousand = (l: { objects: number; r: PhaseResult }) => round((l.r.serverCpu / l.objects) * 1e6);
  return {
    list_objects: big.objects,
    list_s: round(big.r.seconds),
    list_objects_per_s: round(big.objects / big.r.seconds),
    list_server_cpu_s: round(big.r.serverCpu),
    list_client_cpu_s: round(big.r.clientCpu),
    // CPU milliseconds per 1,000 objects, by the listing's length
    list_server_cpu_ms_per_1000: Object.fromEntries(listed.map((l) => [l.objects, perThousand(l)])),
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
