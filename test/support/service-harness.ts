/**
 * Test helpers for the service: a test config in a temp data dir, an
 * in-process service with its test site, a spawned `taskflow serve` process
 * with line-based waiting on its output, and a JSON submit helper.
 * Compiled to dist/test/support so benchmarks can use it too.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { SqliteJournal } from '../../src/engine/index.js';
import { journalPath, startService, type RunningService } from '../../src/service/server.js';
import { startTestSite, type TestSite } from './test-site.js';

/** The shared secret of test services and sites. */
export const TEST_SECRET = 'service-test-secret';

/** Environment of a test service in `dataDir`: test mode, port 0, quiet, fast lock retries. */
export function testEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TASKFLOW_TEST_MODE: 'true',
    TASKFLOW_DATA_DIR: dataDir,
    TASKFLOW_PORT: '0',
    TASKFLOW_LISTEN_HOST: '127.0.0.1',
    TASKFLOW_SODAR_SECRET: TEST_SECRET,
    TASKFLOW_LOG_LEVEL: 'silent',
    TASKFLOW_LOCK_RETRY_COUNT: '0',
    TASKFLOW_LOCK_RETRY_INTERVAL: '0.05',
    ...extra,
  };
}

/** A config for a test service. */
export function testConfig(dataDir: string, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(dataDir, extra));
}

/** A fresh temp dir; remove it with {@link removeDir}. */
export function makeTempDir(prefix = 'taskflow-service-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a temp dir, ignoring errors. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A plain-text answer. */
export interface TextAnswer {
  status: number;
  body: string;
}

/** POSTs `body` as JSON (a string is sent as is) and returns status and text. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<TextAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

/** GETs with the secret header and returns status and parsed JSON (or text when not JSON). */
export async function getWithSecret(url: string, secret = TEST_SECRET): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(url, { headers: { 'x-taskflow-secret': secret } });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** A valid submit body for `flow_name` with the test secret and the site's URL. */
export function submitBody(fields: Record<string, unknown> & { flow_name: string; project_uuid: string }, siteUrl: string): Record<string, unknown> {
  return {
    request_mode: 'sync',
    targets: ['irods', 'sodar'],
    flow_data: {},
    force_fail: false,
    timeline_uuid: 'None',
    sodar_secret: TEST_SECRET,
    test_mode: true,
    sodar_url: siteUrl,
    ...fields,
  };
}

/** An in-process service with its own data dir and test site. */
export interface ServiceFixture {
  dataDir: string;
  config: Config;
  service: RunningService;
  site: TestSite;
  submit(body: unknown): Promise<TextAnswer>;
  /** Stops the service gracefully and starts a new one on the same data dir (start-up recovery runs). */
  restart(): Promise<void>;
  /** Stops service and site and removes the data dir. */
  close(): Promise<void>;
}

/** Starts a test site and an in-process service on port 0. */
export async function startServiceFixture(extraEnv: Record<string, string> = {}): Promise<ServiceFixture> {
  const dataDir = makeTempDir();
  const site = await startTestSite({ secret: TEST_SECRET });
  const config = testConfig(dataDir, { TASKFLOW_SODAR_URL: site.url, ...extraEnv });
  const fx: ServiceFixture = {
    dataDir,
    config,
    service: await startService(config),
    site,
    submit: (body) => postJson(`${fx.service.url}/submit`, body),
    async restart() {
      await fx.service.close();
      fx.service = await startService(config);
    },
    async close() {
      await fx.service.close();
      await site.close();
      removeDir(dataDir);
    },
  };
  return fx;
}

/** Path of the built CLI. */
export const CLI_PATH = resolve(process.cwd(), 'dist/src/cli/index.js');

/** A spawned `taskflow serve`. */
export interface ServiceProcess {
  readonly proc: ChildProcess;
  /** Base URL, known once listening. */
  readonly url: string;
  /** Every stderr and stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (past or future) matching `re`; rejects at exit or after `timeoutMs`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** SIGTERM and wait for the exit (SIGKILL if it has not exited after `graceMs`, e.g. a frozen process). */
  stop(graceMs?: number): Promise<number | string>;
}

/** A child's stdout and stderr as lines, with waiting for a line. */
export interface ProcessOutput {
  /** Every stderr and stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (past or future) matching `re`; rejects at exit or after `timeoutMs`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Collects `proc`'s output lines; `timeoutMs` is the default wait for a line. */
export function watchOutput(proc: ChildProcess, timeoutMs = 30_000): ProcessOutput {
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const onData = (buf: { partial: string }) => (chunk: Buffer) => {
    const text = buf.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    buf.partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  proc.stdout!.on('data', onData({ partial: '' }));
  proc.stderr!.on('data', onData({ partial: '' }));
  const exited = new Promise<number | string>((res) => proc.on('exit', (code, signal) => res(code ?? signal ?? -1)));
  const waitForLine = (re: RegExp, ms = timeoutMs): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms:\n${lines.slice(-20).join('\n')}`)), ms);
      const w = {
        re,
        resolve: (l: string) => {
          clearTimeout(timer);
          resolvePromise(l);
        },
      };
      waiters.push(w);
      void exited.then((code) => {
        if (!waiters.includes(w)) return;
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before a line matched ${re}:\n${lines.slice(-20).join('\n')}`));
      });
    });
  };
  return { lines, waitForLine, exited };
}

/**
 * Spawns `node dist/src/cli/index.js serve` with `env` and waits until it
 * listens. `nodeArgs`: options for node itself (benches pass `--cpu-prof`).
 */
export async function spawnService(env: Record<string, string>, timeoutMs = 30_000, nodeArgs: readonly string[] = []): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, CLI_PATH, 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { lines, waitForLine, exited } = watchOutput(proc, timeoutMs);
  const line = await waitForLine(/listening on http/);
  const url = /listening on (http\S+)/.exec(line)![1];
  return {
    proc,
    url,
    lines,
    waitForLine,
    exited,
    async stop(graceMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The ids of the runs the journal at `dataDir` lists as finished and not reported, read by a handle of the test's own. */
export function unreportedRuns(dataDir: string): string[] {
  const journal = new SqliteJournal(journalPath(dataDir));
  try {
    return journal.unreportedRuns().map((r) => r.runId);
  } finally {
    journal.close();
  }
}
