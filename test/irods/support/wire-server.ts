/**
 * A real protocol server over a real store in a temp folder, and the
 * reference client (python-irodsclient 0.8.1 under Debian's /usr/bin/python3)
 * to drive it: for the wire and session tests, and for anyone's end-to-end
 * tests through the client.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startIrodsServer, type IrodsServerOptions, type RunningIrodsServer } from '../../../src/irods/index.js';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../../../src/store/embedded/store.js';

/** Debian's interpreter, which has python3-irodsclient (the `python3` on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** A server over a fresh store; `stop()` closes both and removes the folder. */
export interface WireServer {
  store: EmbeddedStore;
  server: RunningIrodsServer;
  port: number;
  zone: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts a server on a free loopback port over a new store of zone `testZone` (opened with `storeOpts`), `rods` with password `rods-pw`. */
export async function startWireServer(
  opts: Omit<IrodsServerOptions, 'store'> = {},
  storeOpts: Partial<EmbeddedStoreOptions> = {},
): Promise<WireServer> {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-irods-'));
  const store = EmbeddedStore.open({ dataDir: join(dir, 'data'), zone: 'testZone', hashWorkers: 2, ...storeOpts });
  store.setPassword('rods', 'rods-pw');
  const server = await startIrodsServer({ host: '127.0.0.1', port: 0, log: pino({ level: process.env.IRODS_TEST_LOG ?? 'silent' }), ...opts, store });
  return {
    store,
    server,
    port: server.address.port,
    zone: 'testZone',
    dir,
    async stop() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A finished child process: its exit code and what it printed. */
export interface ChildOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` with `input` on standard input (none when null) and `env` over
 * this process's environment; resolves when it ends, killed after
 * `timeoutMs` when given.
 */
export function runWithInput(
  cmd: string,
  args: string[],
  input: string | null,
  env: Record<string, string> = {},
  timeoutMs?: number,
): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== null) p.stdin!.end(input);
  });
}

/**
 * Runs a Python script with `args` as the JSON in `ARGS` (a global the
 * script reads); returns its exit code, stdout and stderr.
 */
export function runPython(script: string, args: unknown, timeoutMs = 60_000): Promise<ChildOutput> {
  const prelude = 'import json, os, sys\nARGS = json.loads(os.environ["ARGS"])\n';
  return runWithInput(PYTHON, ['-c', prelude + script], null, { ARGS: JSON.stringify(args) }, timeoutMs);
}

/**
 * What the client scripts share, to put before their own lines: the
 * session and exception imports, `a` (the script's arguments),
 * `session(user, password)` on `a['port']` and `a['zone']`, and
 * `attempt(fn)`, which gives 'ok' or the name of the iRODS exception `fn`
 * raised (python-irodsclient 0.8.1 raises `ResourceDoesNotExist` outside
 * the `iRODSException` tree).
 */
export const CLIENT_PRELUDE = `
from irods.session import iRODSSession
from irods.exception import iRODSException, ResourceDoesNotExist
a = ARGS
def session(user, password):
    return iRODSSession(host='127.0.0.1', port=a['port'], user=user, password=password, zone=a['zone'])
def attempt(fn):
    try:
        fn()
        return 'ok'
    except (iRODSException, ResourceDoesNotExist) as e:
        return type(e).__name__
`;

/**
 * Runs a client script against `w` (its port and zone in the arguments,
 * beside `args`) and gives the JSON of its last line; a Python traceback
 * fails the test with the script's error output.
 */
export async function clientScript(w: WireServer, script: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await runPython(script, { port: w.port, zone: w.zone, ...args });
  if (/Traceback/.test(r.stderr)) throw new Error(`the client script failed:\n${r.stderr}`);
  return lastJson(r.stdout);
}

/** The last line of a script's stdout as JSON (scripts print their result last). */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}
