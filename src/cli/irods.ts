/**
 * The store's iRODS protocol server as the long-running commands start it
 * (`taskflow serve`, `taskflow start`, `taskflow store serve`): its address
 * from the settings and options, its TLS files, its limits, and the
 * password `taskflow start` generates for `rods` on first start.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseListen, type Config, type ListenAddress } from '../config.js';
import { startIrodsServer, type RunningIrodsServer } from '../irods/index.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import type { EmbeddedStore } from '../store/embedded/store.js';
import { ADMIN_USER } from '../store/embedded/schema.js';

/** `host:port`, with brackets for an IPv6 host. */
export function formatAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Where the protocol server listens: `option` (`HOST:PORT` or `off`) when
 * given; else TASKFLOW_IRODS_LISTEN, on any free port when the command was
 * asked for a free service port (`--port 0`: a test or a second instance,
 * which must not collide on 1247 either).
 */
export function protocolAddress(config: Config, option: string | undefined, freeServicePort: boolean): ListenAddress | null {
  if (option !== undefined) return parseListen('--irods-listen', option);
  if (!config.irodsListen) return null;
  return freeServicePort ? { host: config.irodsListen.host, port: 0 } : config.irodsListen;
}

function readTlsFile(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`Cannot read ${setting} (${file}): ${(err as Error).message}`);
  }
}

/** Starts the protocol server over `store` with the settings' TLS and limits; a taken port is explained. */
export async function startProtocolServer(config: Config, store: EmbeddedStore, address: ListenAddress, log: Logger): Promise<RunningIrodsServer> {
  const tls =
    config.irodsTls === 'refuse'
      ? undefined
      : {
          cert: readTlsFile('TASKFLOW_IRODS_TLS_CERT', config.irodsTlsCert!),
          key: readTlsFile('TASKFLOW_IRODS_TLS_KEY', config.irodsTlsKey!),
          policy: config.irodsTls,
        };
  try {
    return await startIrodsServer({
      store,
      host: address.host,
      port: address.port,
      tls,
      limits: {
        idleTimeoutMs: config.irodsIdleTimeout * 1000,
        maxConnections: config.irodsMaxConnections,
        queryTimeoutMs: config.irodsQueryTimeout * 1000,
        maxObjectBytes: config.irodsMaxObjectBytes,
      },
      log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES') {
      const why = e.code === 'EADDRINUSE' ? 'is already in use (is another taskflow or iRODS server running?)' : 'may not be bound by this user';
      throw new Error(`Cannot start the iRODS protocol server: ${formatAddress(address)} ${why}; choose another address with TASKFLOW_IRODS_LISTEN (or off)`);
    }
    throw err;
  }
}

/** Where `taskflow start` keeps the password it generated for `rods`. */
export function rodsPasswordPath(dataDir: string): string {
  return join(dataDir, 'irods-password');
}

/** What {@link ensureRodsPassword} found or did. */
export type RodsPassword =
  | { state: 'generated'; file: string; password: string }
  | { state: 'stored'; file: string }
  | { state: 'changed'; file: string }
  | { state: 'set-by-operator' };

/**
 * Gives `rods` a generated password on first start, kept owner-only in
 * `<dataDir>/irods-password` (as the shared secret is), so the protocol
 * server can be used at once. The file is written before the password is
 * set, and a later start sets the password from the file when the store has
 * none, so a crash in between loses nothing. A password an operator set
 * (`taskflow store user passwd rods`) is left alone.
 */
export function ensureRodsPassword(store: EmbeddedStore, dataDir: string): RodsPassword {
  const file = rodsPasswordPath(dataDir);
  const current = store.passwordOf(ADMIN_USER);
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (current === null && stored !== '') store.setPassword(ADMIN_USER, stored);
    return current === null || current === stored ? { state: 'stored', file } : { state: 'changed', file };
  }
  if (current !== null) return { state: 'set-by-operator' };
  ensurePrivateDir(dataDir);
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  store.setPassword(ADMIN_USER, password);
  return { state: 'generated', file, password };
}

/** The line `taskflow start` prints about the rods password: the password itself only when it was just generated. */
export function rodsPasswordLine(p: RodsPassword): string {
  switch (p.state) {
    case 'generated':
      return `Generated a password for iRODS user "${ADMIN_USER}" (shown only now): ${p.password} (stored in ${p.file})`;
    case 'stored':
      return `Password of iRODS user "${ADMIN_USER}": stored in ${p.file}`;
    case 'changed':
      return `Password of iRODS user "${ADMIN_USER}": changed since it was generated (${p.file} is out of date)`;
    case 'set-by-operator':
      return `Password of iRODS user "${ADMIN_USER}": as set with taskflow store user passwd`;
  }
}

/** The first line of standard input (a pipe, or a line typed at the terminal), without its line end. */
export async function readFirstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}
