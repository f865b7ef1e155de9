/**
 * Real processes for the host end-to-end tests: the built CLI
 * (`node dist/src/cli/index.js`) as service, site, `start`, or one-shot
 * commands, each in a test's own data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SiteApi } from '../../src/host/client.js';

/** The built CLI. */
export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/index.js').replace('/dist/dist/', '/dist/');

/** A long-running CLI process. */
export interface CliProcess {
  proc: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Waits until the output matches `re` (deadline `timeoutMs`); returns the match. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `taskflow <args>` with `env` added to this process's environment. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const cleanEnv: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(cleanEnv)) if (k.startsWith('TASKFLOW_') || k === 'DATABASE_URL' || k.startsWith('SODAR_')) delete cleanEnv[k];
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...cleanEnv, TASKFLOW_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => {
    for (const w of waiters.splice(0)) w();
    r(code);
  }));
  return {
    proc,
    output: () => out,
    async waitFor(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (proc.exitCode !== null) throw new Error(`taskflow ${args.join(' ')} exited ${proc.exitCode} before printing ${re}:\n${out}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`taskflow ${args.join(' ')} did not print ${re} within ${timeoutMs} ms:\n${out}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs `taskflow <args>` to the end. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const p = spawnCli(args, env);
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => p.proc.on('exit', (c) => r(c)));
  clearTimeout(timer);
  // Let the pipes drain.
  await new Promise((r) => setImmediate(r));
  return { code, output: p.output() };
}

/** A service and a site as two processes sharing a data folder, taskflow plugin registered. */
export interface HostSystem {
  dataDir: string;
  env: Record<string, string>;
  serviceUrl: string;
  siteUrl: string;
  adminToken: string;
  service: CliProcess;
  site: CliProcess;
  stop(): Promise<void>;
}

/** Starts `taskflow serve` and `taskflow site` (test mode, secret `secret`), after `manage syncplugins`. */
export async function startHostSystem(dataDir: string, extraEnv: Record<string, string> = {}): Promise<HostSystem> {
  const base: Record<string, string> = {
    TASKFLOW_DATA_DIR: dataDir,
    TASKFLOW_SODAR_SECRET: 'e2e-secret',
    TASKFLOW_TEST_MODE: 'true',
    TASKFLOW_LOCK_RETRY_INTERVAL: '0.1',
    ...extraEnv,
  };
  const service = spawnCli(['serve', '--port', '0'], base);
  let site: CliProcess | undefined;
  try {
    const serviceUrl = (await service.waitFor(/taskflow service listening on (http\S+)/))[1];
    const env = { ...base, TASKFLOW_BACKEND_HOST: 'http://127.0.0.1', TASKFLOW_BACKEND_PORT: new URL(serviceUrl).port };
    const sync = await runCli(['manage', 'syncplugins'], env);
    if (sync.code !== 0) throw new Error(`syncplugins failed:\n${sync.output}`);
    site = spawnCli(['site', '--port', '0'], env);
    const siteUrl = (await site.waitFor(/taskflow site listening on (http\S+)/))[1];
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const s = site;
    return {
      dataDir,
      env: { ...env, TASKFLOW_SODAR_URL: siteUrl },
      serviceUrl,
      siteUrl,
      adminToken,
      service,
      site: s,
      async stop() {
        await s.stop();
        await service.stop();
      },
    };
  } catch (err) {
    await site?.stop();
    await service.stop();
    throw err;
  }
}

/** A data folder seeded by a first run of the system, for crash tests that start its processes again one by one. */
export interface RestartBed<T> {
  dir: string;
  /** The site's API as the admin, at the site's address (the same on every start). */
  api: SiteApi;
  /** What the seed returned. */
  ids: T;
  /** `taskflow serve` on the first run's port, with the bed's settings and `env`. */
  serve(env?: Record<string, string>): CliProcess;
  /** `taskflow site` on the first run's port, with the bed's settings and `env`. */
  site(env?: Record<string, string>): CliProcess;
}

/**
 * A new data folder (named from `prefix`, put on `track.dirs`) where the
 * system ran once with `env` to be seeded through `seed`, then stopped.
 * Its processes start again on the same ports (a journaled run calls back
 * the site's address, the site calls the service's); each goes on
 * `track.running` for the test's cleanup.
 */
export async function restartBed<T>(
  prefix: string,
  env: Record<string, string>,
  seed: (api: SiteApi) => Promise<T>,
  track: { running: CliProcess[]; dirs: string[] },
): Promise<RestartBed<T>> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  track.dirs.push(dir);
  const first = await startHostSystem(dir, env);
  const api = new SiteApi(first.siteUrl, first.adminToken);
  const ids = await seed(api);
  await first.stop();
  const again = (args: string[], extra: Record<string, string>): CliProcess => {
    const p = spawnCli(args, { ...first.env, ...env, ...extra });
    track.running.push(p);
    return p;
  };
  return {
    dir,
    api,
    ids,
    serve: (extra = {}) => again(['serve', '--port', new URL(first.serviceUrl).port], extra),
    site: (extra = {}) => again(['site', '--port', new URL(first.siteUrl).port], extra),
  };
}
