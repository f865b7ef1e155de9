/**
 * A client killed mid-upload (SIGKILL: no close, no disconnect message)
 * leaves nothing behind: no object in the catalog, no temp file in the
 * vault, `taskflow store fsck` clean, and the server keeps serving. Real
 * processes: `taskflow store serve` and python-irodsclient 0.8.1 doing a
 * `data_objects.put` of a large file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, spawnCli, type CliProcess } from '../support/host-processes.js';
import { PYTHON, runWithInput } from './support/wire-server.js';

const DRIVER = resolve(import.meta.dirname, 'zone_client.py');
const HOME = '/omicsZone/home/alice';
/** The upload is killed once the server holds at least this much of it: more than one 8 MiB client write. */
const KILL_AFTER_BYTES = 9 * 1024 * 1024;
/** Large enough that the upload is still running when it is killed; sparse, so it costs no disk. */
const BIG_FILE_BYTES = 8 * 1024 ** 3;

let work: string;
let env: Record<string, string>;
let server: CliProcess;
let port: number;
let tempDir: string;


/** The driver's input: alice's session running `ops`. */
const driverInput = (ops: Record<string, string>[]): string =>
  JSON.stringify({ host: '127.0.0.1', port, user: 'alice', password: 'alice-secret', zone: 'omicsZone', ops });

async function client(ops: Record<string, string>[]): Promise<Array<Record<string, unknown>>> {
  const r = await runWithInput(PYTHON, [DRIVER], driverInput(ops), env);
  if (r.code !== 0) throw new Error(`zone_client.py exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Array<Record<string, unknown>>;
}

async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`taskflow ${args.join(' ')} exited ${r.code}:\n${r.output}`);
  return r.output;
}

/** Temp files of the vault with their sizes. */
function temps(): Array<{ name: string; size: number }> {
  return readdirSync(tempDir).map((name) => {
    try {
      return { name, size: statSync(join(tempDir, name)).size };
    } catch {
      return { name, size: -1 }; // removed between the listing and the stat
    }
  });
}

/**
 * Resolves once `cond()` holds, checking it at each change inside the
 * vault's temp folder (inotify: files created, written, removed there).
 */
function whenTemps(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((res, rej) => {
    const watcher = watch(tempDir);
    const done = (err?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (err) rej(err);
      else res();
    };
    const timer = setTimeout(() => done(new Error(`${what}: not within ${timeoutMs} ms; temp files: ${JSON.stringify(temps())}`)), timeoutMs);
    watcher.on('change', () => {
      if (cond()) done();
    });
    watcher.on('error', (e) => done(e));
    // it may hold already (the watch is set up after the fact)
    if (cond()) done();
  });
}

function exitOf(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res) => p.once('exit', (code, signal) => res({ code, signal })));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'irods-killed-upload-'));
  env = { TASKFLOW_DATA_DIR: join(work, 'data'), TASKFLOW_LOG_LEVEL: 'warn' };
  await cli('store', 'user', 'add', 'alice');
  await cli('store', 'mkdir', HOME);
  await cli('store', 'chmod', 'own', 'alice', HOME);
  const set = await runWithInput(process.execPath, [CLI, 'store', 'user', 'passwd', 'alice'], 'alice-secret\n', env);
  expect(set.code, set.stderr).toBe(0);
  server = spawnCli(['store', 'serve', '--listen', '127.0.0.1:0'], env);
  port = Number((await server.waitFor(/irods listening on 127\.0\.0\.1:(\d+)/))[1]);
  tempDir = join(work, 'data', 'vault', 'tmp');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * python-irodsclient 0.8.1 opening `path` for writing (`w`: created,
 * truncated), sending `size` bytes (flushed: the server has them), then
 * killing itself (SIGKILL) before the close.
 */
const KILLED_SMALL_WRITE = `
import json, os, signal, sys
from irods.session import iRODSSession
a = json.loads(sys.stdin.read())
s = iRODSSession(host='127.0.0.1', port=a['port'], user='alice', password='alice-secret', zone='omicsZone')
f = s.data_objects.open(a['path'], 'w')
f.write(b'x' * a['size'])
f.flush()
print('sent', flush=True)
os.kill(os.getpid(), signal.SIGKILL)
`;

describe('a client killed mid-upload', () => {
  // first: the test below stops the server
  it('of a small object (kept in memory until the close) leaves nothing, nor does one over an existing object', async () => {
    writeFileSync(join(work, 'kept.txt'), 'kept bytes\n');
    expect(await client([{ op: 'put', local: join(work, 'kept.txt'), path: `${HOME}/kept.txt` }])).toEqual([{ ok: true, value: true }]);
    const before = await cli('store', 'dump');
    for (const path of [`${HOME}/killed.txt`, `${HOME}/kept.txt`]) {
      const r = await runWithInput(PYTHON, ['-c', KILLED_SMALL_WRITE], JSON.stringify({ port, path, size: 10 * 1024 }), env);
      expect({ code: r.code, out: r.stdout.trim() }, r.stderr).toEqual({ code: null, out: 'sent' });
    }
    // the server notices the connection ending in its own time: a later session sees it gone
    const after = await client([
      { op: 'read', path: `${HOME}/killed.txt` },
      { op: 'read', path: `${HOME}/kept.txt` },
    ]);
    expect(after[0]).toMatchObject({ ok: false, error: 'CAT_NO_ROWS_FOUND' });
    expect(after[1]).toMatchObject({ ok: true, value: { size: 11 } });
    expect(await cli('store', 'dump')).toBe(before);
    expect(temps()).toEqual([]);
    expect((await cli('store', 'fsck')).trim()).toBe('ok');
    expect(await client([{ op: 'ls', path: HOME }])).toEqual([{ ok: true, value: { colls: [], objs: ['kept.txt'] } }]);
    await cli('store', 'rm', `${HOME}/kept.txt`);
  }, 120_000);

  it('leaves no object, no temp file and a clean fsck, and the server serves on', async () => {
    writeFileSync(join(work, 'small.txt'), 'kept\n');
    expect(await client([{ op: 'put', local: join(work, 'small.txt'), path: `${HOME}/small.txt` }])).toEqual([{ ok: true, value: true }]);
    const before = await cli('store', 'dump');
    expect(before).toContain(`${HOME}/small.txt`);

    const big = join(work, 'big.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, BIG_FILE_BYTES);
    closeSync(fd);
    expect(temps()).toEqual([]);

    const upload = spawn(PYTHON, [DRIVER], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = exitOf(upload);
    let stderr = '';
    upload.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    upload.stdin.end(driverInput([{ op: 'put', local: big, path: `${HOME}/big.bin` }]));
    await whenTemps(() => temps().some((t) => t.size >= KILL_AFTER_BYTES), 'the server received part of the upload').catch((err: Error) => {
      upload.kill('SIGKILL');
      throw new Error(`${err.message}\nclient stderr: ${stderr}`);
    });
    upload.kill('SIGKILL');
    // killed mid-transfer, not finished (nor failed) before the signal
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });

    // the server drops the half-written temp file when the connection ends, while it runs on
    await whenTemps(() => temps().length === 0, 'the server discarded the temp file');
    expect(await cli('store', 'dump')).toBe(before);
    const after = await client([
      { op: 'ls', path: HOME },
      { op: 'read', path: `${HOME}/big.bin` },
      { op: 'read', path: `${HOME}/small.txt` },
    ]);
    expect(after[0]).toEqual({ ok: true, value: { colls: [], objs: ['small.txt'] } });
    expect(after[1]).toMatchObject({ ok: false, error: 'CAT_NO_ROWS_FOUND' });
    expect(after[2]).toMatchObject({ ok: true, value: { size: 5 } });
    expect((await cli('store', 'fsck')).trim()).toBe('ok');

    // and after the server has stopped, nothing of it is left for fsck to find either
    expect(await server.stop()).toBe(0);
    expect((await cli('store', 'fsck')).trim()).toBe('ok');
    expect(await cli('store', 'dump')).toBe(before);
  }, 180_000);
});
