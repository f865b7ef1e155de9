/**
 * The embedded store's iRODS server for tests: a fresh data folder, users
 * with passwords and home collections, `taskflow store serve` on a free
 * loopback port, waiting for its ready line. The one place that knows how
 * the server is started: the commands and the ready line are the constants
 * below, so adapting the tests to the server means editing them here.
 *
 * Built CLI required (dist/src/cli/index.js; `npm test` builds first).
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { makeTempDir, removeDir, watchOutput } from './service-harness.js';
import type { IrodsAccount } from './irods-client.js';
import { CLI, requireStoreBuild } from './store-dist.js';

/** The server's start command, after `node dist/src/cli/index.js`. `LISTEN` is replaced by host:port. */
export const SERVE_ARGS = ['store', 'serve', '--listen', 'LISTEN'] as const;
/** The line the server prints (stdout) once it accepts connections; groups: host, port. */
export const READY_LINE = /irods listening on (\S+):(\d+)/;
/** Sets a user's password from standard input (one line), never from the command line. */
export const PASSWD_ARGS = (user: string) => ['store', 'user', 'passwd', user];
/** The zone of test servers: iRODS's default, as python-irodsclient's tests assume nothing else. */
export const TEST_ZONE = 'tempZone';
/** The store's administrator (rodsadmin), made by the store itself. */
export const ADMIN_USER = 'rods';

/** A user to create before the server starts. */
export interface TestUser {
  readonly name: string;
  /** rodsadmin instead of rodsuser. */
  readonly admin?: boolean;
  /** Leave the user without a password (who then cannot log in). */
  readonly noPassword?: boolean;
}

/** A running server on a fresh store. */
export interface IrodsStoreServer {
  readonly host: string;
  readonly port: number;
  readonly zone: string;
  readonly dataDir: string;
  /** `rods`, the rodsadmin, with its password. */
  readonly admin: IrodsAccount;
  /** Every user made at start with a password (admin included), by name. */
  readonly accounts: ReadonlyMap<string, IrodsAccount>;
  readonly proc: ChildProcess;
  /** Every stdout and stderr line of the server so far. */
  readonly lines: string[];
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** True while the server process runs. */
  alive(): boolean;
  /** The server process's resident memory in bytes (Linux /proc). */
  rssBytes(): number;
  /**
   * The server process's mapped (virtual) memory in bytes: it grows as soon
   * as a large buffer is allocated, before its pages are touched and counted
   * as resident.
   */
  virtualBytes(): number;
  /** Runs `taskflow store ARGS` on the same data folder (for checks such as fsck, while the server runs); throws on failure. */
  storeCli(...args: string[]): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<number | string>;
  /** Stops the server and removes its data folder. */
  dispose(): Promise<void>;
  /**
   * Starts the server again on the same data folder, port and accounts,
   * once this one has exited (a server killed, say); the new handle's
   * `dispose` removes the folder.
   */
  restart(): Promise<IrodsStoreServer>;
}

/** A port nothing listens on right now, on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolvePromise(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A memory figure of process `pid` from /proc/PID/status, in bytes. */
function procStatus(pid: number, field: 'VmRSS' | 'VmSize'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no ${field} for process ${pid}`);
  return Number(kb[1]) * 1024;
}

/** A fresh password for a test user (letters and digits only). */
export function newPassword(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Makes a store in a temp folder with `rods` and `users` (each with a
 * password and a home collection /ZONE/home/NAME it owns) and `groups`, then
 * starts the server on a free loopback port and waits until it is ready.
 */
export async function startIrodsStore(
  opts: {
    users?: readonly TestUser[];
    /** Groups to create, with their members (users of `users`). */
    groups?: Readonly<Record<string, readonly string[]>>;
    env?: Record<string, string>;
    readyTimeoutMs?: number;
    /**
     * Runs the server under this host name, in a UTS namespace of its own
     * (`unshare -r -u`, util-linux): as a container sharing the data folder
     * with this process, or one recreated since under a new name.
     */
    hostName?: string;
  } = {},
): Promise<IrodsStoreServer> {
  requireStoreBuild('dist/src/cli/index.js');
  const zone = TEST_ZONE;
  const root = makeTempDir('taskflow-irods-');
  const dataDir = join(root, 'data');
  const env: Record<string, string> = {
    TASKFLOW_DATA_DIR: dataDir,
    TASKFLOW_IRODS_ZONE: zone,
    TASKFLOW_TEST_MODE: 'true',
    TASKFLOW_LOG_LEVEL: 'warn',
    // the protocol is under test here, not the disk: no fsync per object, fewer threads on a shared machine
    TASKFLOW_STORE_SYNC: 'false',
    TASKFLOW_HASH_WORKERS: '2',
    ...opts.env,
  };
  const cli = (args: readonly string[], input?: string): string[] => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, input, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`taskflow ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
    return r.stdout.split('\n').filter((l) => l !== '');
  };

  const host = '127.0.0.1';
  const accounts = new Map<string, IrodsAccount>();
  const passwords = new Map<string, string>();
  try {
    const users: TestUser[] = [{ name: ADMIN_USER, admin: true }, ...(opts.users ?? [])];
    for (const u of users) {
      if (u.name !== ADMIN_USER) cli(['store', 'user', 'add', ...(u.admin ? ['--admin'] : []), u.name]);
      if (!u.noPassword) {
        const password = newPassword();
        cli(PASSWD_ARGS(u.name), `${password}\n`);
        passwords.set(u.name, password);
      }
      // a home collection its user owns, as iRODS makes one for each user
      const home = `/${zone}/home/${u.name}`;
      cli(['store', 'mkdir', '-p', home]);
      cli(['store', 'chmod', 'own', u.name, home]);
    }

    for (const [group, members] of Object.entries(opts.groups ?? {})) {
      cli(['store', 'group', 'add', group]);
      for (const m of members) cli(['store', 'group', 'addmember', group, m]);
    }

    return await serve(await freePort(host));
  } catch (err) {
    removeDir(root);
    throw err;
  }

  async function serve(wanted: number): Promise<IrodsStoreServer> {
    const args = SERVE_ARGS.map((a) => (a === 'LISTEN' ? `${host}:${wanted}` : a));
    const command = [process.execPath, CLI, ...args];
    // unshare execs the shell, which execs node: the server keeps the pid the test signals
    const wrapped = opts.hostName === undefined ? command : ['unshare', '-r', '-u', 'sh', '-c', 'hostname "$0" && exec "$@"', opts.hostName, ...command];
    const proc = spawn(wrapped[0]!, wrapped.slice(1), {
      env: { ...process.env, ...env, TASKFLOW_IRODS_LISTEN: `${host}:${wanted}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { lines, waitForLine, exited } = watchOutput(proc, opts.readyTimeoutMs ?? 30_000);
    let port: number;
    try {
      const m = READY_LINE.exec(await waitForLine(READY_LINE))!;
      port = Number(m[2]);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`the iRODS server did not start (taskflow ${args.join(' ')}): ${(err as Error).message}`);
    }
    for (const [user, password] of passwords) accounts.set(user, { host, port, zone, user, password });

    const stop = async (graceMs = 20_000): Promise<number | string> => {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    };
    return {
      host,
      port,
      zone,
      dataDir,
      admin: accounts.get(ADMIN_USER)!,
      accounts,
      proc,
      lines,
      exited,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      rssBytes: () => procStatus(proc.pid!, 'VmRSS'),
      virtualBytes: () => procStatus(proc.pid!, 'VmSize'),
      storeCli: (...a: string[]) => cli(['store', ...a]),
      stop,
      async dispose() {
        await stop();
        removeDir(root);
      },
      async restart() {
        if (proc.exitCode === null && proc.signalCode === null) throw new Error('restart: the server still runs');
        return serve(port);
      },
    };
  }
}

/** A server with two users, and a second handle on its data folder to look at (or break) the catalog. */
export interface TwoUserStore {
  readonly server: IrodsStoreServer;
  readonly alice: IrodsAccount;
  readonly bob: IrodsAccount;
  readonly inspect: EmbeddedStore;
}

/** {@link startIrodsStore} with users alice and bob (and `opts`), and an {@link EmbeddedStore} on the same data folder. */
export async function startAliceAndBob(opts: { hostName?: string } = {}): Promise<TwoUserStore> {
  const server = await startIrodsStore({ users: [{ name: 'alice' }, { name: 'bob' }], ...opts });
  return {
    server,
    alice: server.accounts.get('alice')!,
    bob: server.accounts.get('bob')!,
    inspect: EmbeddedStore.open({ dataDir: server.dataDir, zone: server.zone, hashWorkers: 1 }),
  };
}
