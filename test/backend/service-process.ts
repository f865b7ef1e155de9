/**
 * Starts the real taskflow service (`node dist/src/cli/index.js serve`) on a
 * free port with its own data folder, for the backend's end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = join(repoRoot, 'dist/src/cli/index.js');

export interface ServiceProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The environment the service runs with (for helpers sharing its data folder). */
  env: NodeJS.ProcessEnv;
  /** Everything written to stderr so far. */
  output(): string;
  /** SIGTERM, wait for the exit (SIGKILL after 15 s); removes the data folder unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** The parent's environment without any setting of ours, so the tests decide them all. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TASKFLOW_|SODAR_|ENABLED_BACKEND_PLUGINS$|DATABASE_URL$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns the service and resolves once it prints the URL it listens on. */
export async function startServiceProcess(settings: Record<string, string>): Promise<ServiceProcess> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-backend-e2e-'));
  const env = cleanEnv({ TASKFLOW_DATA_DIR: dataDir, TASKFLOW_LOG_LEVEL: 'warn', ...settings });
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8');
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`taskflow serve exited (${code ?? signal}) before listening:\n${stderr}`)));
    child.once('error', reject);
  });
  let url: string;
  try {
    url = await listening;
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    env,
    output: () => stderr,
    async stop(opts = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const done = exited(child);
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(timer);
      }
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
