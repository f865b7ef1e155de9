/**
 * Shared pieces of the lock tests: temp dirs, child processes, polling.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { lockDatabasePath } from '../../src/locks/index.js';

/** The Redis every Redis test uses; it is always there, so tests fail when it is not. */
export const REDIS_URL = process.env.TASKFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const root = resolve(import.meta.dirname, '../..');

/** A project id no other test (or parallel run) uses. */
export function uniqueProject(): string {
  return `locks-test-${randomUUID()}`;
}

/**
 * Removes lease `key` from the embedded lease store of `dataDir`, as if it had
 * run out and been taken by another holder; returns how many rows went.
 */
export function evictEmbeddedLease(key: string, dataDir: string): number {
  const db = new Database(lockDatabasePath(dataDir), { timeout: 5_000 });
  try {
    return db.prepare('DELETE FROM leases WHERE key = ?').run(key).changes;
  } finally {
    db.close();
  }
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'taskflow-locks-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A TCP port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/** Polls `cond` until true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/**
 * Path of a compiled child script (dist/test/support/<name>.js). Fails when it
 * is missing or older than its sources: the children must run the code under test.
 */
export function childScript(name: string): string {
  const built = join(root, 'dist/test/support', `${name}.js`);
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: run \`npx tsc -p tsconfig.build.json\` (npm test does) first`);
  }
  const sourceAt = Math.max(newestMtime(join(root, 'src/locks')), newestMtime(join(root, 'test/support', `${name}.ts`)));
  if (sourceAt > builtAt) {
    throw new Error(`${built} is older than its sources: run \`npx tsc -p tsconfig.build.json\` first`);
  }
  return built;
}

/** A running child script with its stdout as lines. */
export interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first stdout line (past or future) matching `re`; rejects if the child exits first. */
  line(re: RegExp): Promise<string>;
  /** Resolves with the exit code or signal once the child has exited. */
  exited: Promise<number | NodeJS.Signals>;
}

const running = new Set<ChildProcess>();

/** Starts `node dist/test/support/<name>.js args...` with `env` added to ours. */
export function startChild(name: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [childScript(name), ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(proc);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let stderr = '';
  let closed = false;
  proc.stderr!.on('data', (d) => (stderr += String(d)));
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const exited = new Promise<number | NodeJS.Signals>((res) => {
    // 'close', not 'exit': only then has every line of stdout been read.
    proc.on('close', (code, signal) => {
      closed = true;
      running.delete(proc);
      for (const w of waiters.splice(0)) {
        w.reject(new Error(`${name} exited (${code ?? signal}) before printing ${w.re}; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
      }
      res(code ?? signal!);
    });
  });
  return {
    proc,
    lines,
    exited,
    line(re) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      if (closed) {
        return Promise.reject(new Error(`${name} already exited; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
      }
      return new Promise((resolve, reject) => waiters.push({ re, resolve, reject }));
    },
  };
}

/** Kills every child a test left running. */
export function killChildren(): void {
  for (const p of running) p.kill('SIGKILL');
  running.clear();
}

/**
 * A TCP forwarder to `target` that can be cut and restored on the same port,
 * to take a backend away from a client and give it back.
 */
export interface CuttableProxy {
  port: number;
  /** Stops listening and drops every connection. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) => new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', rej);
      res();
    });
  });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async cut() {
      const closed = new Promise<void>((res) => server.close(() => res()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: () => listen(port),
  };
}
