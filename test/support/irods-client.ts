/**
 * Driving python-irodsclient (Debian's python3-irodsclient 0.8.1) from tests:
 * its interpreter, a client home with `irods_environment.json` and `.irodsA`
 * as the client reads them, and running the Python scripts of test/irods/
 * with a deadline.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { debianPackage, IRODS_CLIENT_PYTHON, missingPackageMessage } from '../../scripts/debian-packages.js';

/** The folder of the iRODS tests and their Python scripts. */
export const IRODS_TEST_DIR = resolve(import.meta.dirname, '../irods');

/** Throws, with the install line, when python3-irodsclient cannot be imported: the tests fail, never skip. */
export function requireIrodsClient(): void {
  if (!debianPackage('python3-irodsclient').present()) throw new Error(missingPackageMessage('python3-irodsclient'));
}

/** Where a client connects and who it is. */
export interface IrodsAccount {
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly user: string;
  readonly password: string;
}

/** What a Python script did. */
export interface PythonResult {
  /** Exit code, or null when it was killed. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the deadline killed it. */
  readonly timedOut: boolean;
}

/**
 * Runs `/usr/bin/python3 ARGS` (IRODS_CLIENT_PYTHON) with `input` on stdin;
 * SIGKILL after `timeoutMs`; `onStderr` sees its stderr as it comes. Never
 * rejects for the script's own failure.
 */
export function runPython(
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number; onStderr?: (text: string) => void } = {},
): Promise<PythonResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolvePromise, reject) => {
    // no __pycache__ in test/irods; and the suite must not believe it runs in iRODS's own CI (helpers.py)
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...opts.env };
    delete env.IRODS_CI_TEST_RUN;
    const proc = spawn(IRODS_CLIENT_PYTHON, args, { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(d);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    });
    proc.stdin.on('error', () => {}); // a script that exits before reading its input
    proc.stdin.end(opts.input ?? '');
  });
}

/**
 * Writes a client home for `account` into `home`: `.irods/irods_environment.json`
 * (native authentication) and `.irods/.irodsA` (the password, obfuscated as
 * python-irodsclient 0.8.1 decodes it, for the uid running the tests).
 * Returns the environment a client process needs: HOME,
 * IRODS_ENVIRONMENT_FILE and IRODS_AUTHENTICATION_FILE.
 */
export async function writeClientHome(home: string, account: IrodsAccount): Promise<Record<string, string>> {
  const dir = join(home, '.irods');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const envFile = join(dir, 'irods_environment.json');
  const authFile = join(dir, '.irodsA');
  const environment = {
    irods_host: account.host,
    irods_port: account.port,
    irods_user_name: account.user,
    irods_zone_name: account.zone,
    irods_authentication_scheme: 'native',
  };
  writeFileSync(envFile, `${JSON.stringify(environment, null, 2)}\n`, { mode: 0o600 });
  chmodSync(envFile, 0o600);
  const res = await runPython([join(IRODS_TEST_DIR, 'irods_auth_file.py'), authFile], { input: `${account.password}\n`, timeoutMs: 30_000 });
  if (res.code !== 0) throw new Error(`writing ${authFile} failed (${res.code ?? res.signal}): ${res.stderr}`);
  return { HOME: home, IRODS_ENVIRONMENT_FILE: envFile, IRODS_AUTHENTICATION_FILE: authFile };
}

/** One operation for test/irods/client_ops.py (see its docstring for the ops and their fields). */
export interface ClientOp {
  readonly op: string;
  readonly path?: string;
  readonly [field: string]: unknown;
}

/** What one operation did: its value, or the exception python-irodsclient raised. */
export type ClientOpResult =
  | { readonly op: string; readonly ok: true; readonly value: unknown }
  | { readonly op: string; readonly ok: false; readonly error: string; readonly code: number | null; readonly message: string };

/** Runs `ops` in order as `account` through python-irodsclient; every op runs and reports. */
export async function clientOps(account: IrodsAccount, ops: readonly ClientOp[], timeoutMs = 120_000): Promise<ClientOpResult[]> {
  const res = await runPython([join(IRODS_TEST_DIR, 'client_ops.py')], { input: JSON.stringify({ account, ops }), timeoutMs });
  if (res.code !== 0 || res.timedOut) {
    throw new Error(`client_ops.py as ${account.user} ${res.timedOut ? `timed out after ${timeoutMs} ms` : `failed (${res.code ?? res.signal})`}: ${res.stderr.slice(-2000)}`);
  }
  return (JSON.parse(res.stdout) as { results: ClientOpResult[] }).results;
}

/** Runs `ops` in their order as `account` (one client process); results by the label given to each op. */
export async function labelledOps(account: IrodsAccount, ops: Record<string, ClientOp>): Promise<Record<string, ClientOpResult>> {
  const labels = Object.keys(ops);
  const results = await clientOps(account, Object.values(ops));
  return Object.fromEntries(labels.map((l, i) => [l, results[i]]));
}

/** Runs one op as `account`. */
export async function clientOp(account: IrodsAccount, op: ClientOp): Promise<ClientOpResult> {
  return (await clientOps(account, [op]))[0];
}

/** One call's outcome in `parallel_transfer.py calls`: its value, or the iRODS error code (with the JSON a plugin API answered beside it). */
export type RawCallResult = { ok: true; value: unknown } | { ok: false; code: number; body?: unknown };

/** Runs test/irods/parallel_transfer.py as `account` with `request` (its action and fields); its JSON answer. */
export async function parallelTransferScript(account: IrodsAccount, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await runPython([join(IRODS_TEST_DIR, 'parallel_transfer.py')], { input: JSON.stringify({ account, ...request }), timeoutMs: 150_000 });
  if (res.code !== 0 || res.timedOut) throw new Error(`parallel_transfer.py failed (${res.code ?? res.signal}): ${res.stderr.slice(-2000)}`);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

/** Raw calls as `account` (see parallel_transfer.py), each on the connection it names ("main", or one of `conns`). */
export async function rawCalls(account: IrodsAccount, list: Array<Record<string, unknown>>, conns: Record<string, IrodsAccount> = {}): Promise<RawCallResult[]> {
  return (await parallelTransferScript(account, { action: 'calls', calls: list, conns })).results as RawCallResult[];
}

/** What test/irods/icommands.py answered: its action's fields and `trace`, [API number, reply intInfo] of every request sent. */
export interface ICommandsResult {
  readonly status?: number | null;
  readonly trace: Array<[number, number]>;
  readonly [field: string]: unknown;
}

/** Runs test/irods/icommands.py (the double of iCommands 4.2.12 `iput` / `iget`) as `account` with `request` (its action and fields). */
export async function icommands(account: IrodsAccount, request: Record<string, unknown>): Promise<ICommandsResult> {
  const res = await runPython([join(IRODS_TEST_DIR, 'icommands.py')], { input: JSON.stringify({ account, ...request }), timeoutMs: 150_000 });
  if (res.code !== 0 || res.timedOut) throw new Error(`icommands.py failed (${res.code ?? res.signal}): ${res.stderr.slice(-2000)}`);
  return JSON.parse(res.stdout) as ICommandsResult;
}
