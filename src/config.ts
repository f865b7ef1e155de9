/**
 * Every setting of sodar-taskflow, read from the environment in one place.
 *
 * Names follow the original SODAR settings where it had them (see
 * `shared/spec/protocol.md`); the rest are ours. This module must stay free of
 * native or server imports: the backend (`sodar-taskflow/backend`) loads it.
 *
 * @module
 */

/**
 * The embedded store's defaults: for these settings, and for the store's own
 * options when a program opens it without them.
 */
export const STORE_DEFAULTS = {
  /**
   * Worker threads reading, hashing and writing object bytes. More than the
   * cores: a thread waits for the disk while it reads an uncached file or
   * writes and syncs a copy, and the others hash meanwhile. Against 2, on 2
   * cores: a synced put of 10,000 × 100 KiB 1.9–2.0 s instead of 2.4–2.6 s,
   * and a verify of files not in the page cache 0.9 s instead of 1.5 s.
   */
  hashWorkers: 8,
  /** fsync object bytes and vault folders before each catalog commit. */
  sync: true,
  /** Folder puts write, and checksum checks read, vault bytes with O_DIRECT. */
  directWrites: true,
  /**
   * Objects of at most this many bytes keep them in the catalog, written in
   * the transaction that commits the object, instead of a vault file each.
   * Below about 64 KiB the file is what a small put costs: creating an inode
   * (10-170 us of kernel time on ext4, more after many deletes), the rename,
   * the syncs of file and folder, a descriptor for every read. Up to there a
   * row's bytes are 16 overflow pages of 4 KiB, read and written in one go
   * with the row; larger ones would make every commit's WAL frames (written
   * twice: WAL, then checkpoint) and the catalog grow for bytes a file holds
   * better. 0: every object gets a vault file.
   */
  inlineMaxBytes: 64 * 1024,
} as const;

/**
 * Largest data object the protocol server lets a client make
 * (TASKFLOW_IRODS_MAX_OBJECT_BYTES's default): 1 TiB. A close hashes every
 * byte of what it stores, the zeros of a sparse object too, and a truncate
 * or one byte written far past the end makes terabytes of those without
 * using any disk. MD5 is sequential, about 0.6 GB/s on one core here: a
 * TiB holds a hash worker and a core for half an hour, a PiB for three
 * weeks. The hash pool's turns keep others' closes prompt meanwhile
 * (hash-pool.ts), but not the cores free, nor the object cheap to read,
 * copy or verify later. iRODS has no bound of its own; its vault's file
 * system has one (ext4: 16 TiB), which it answers the way this bound is
 * answered (src/irods/objects/size-limit.ts).
 */
export const IRODS_MAX_OBJECT_BYTES = 2 ** 40;

/** Most bytes {@link STORE_DEFAULTS.inlineMaxBytes} may be set to (TASKFLOW_STORE_INLINE_MAX). */
export const STORE_INLINE_MAX_LIMIT = 1024 * 1024;

/**
 * Most milliseconds a setting that becomes one timer may hold: Node.js runs
 * a timer of more than 2^31-1 ms after 1 ms instead (a
 * TimeoutOverflowWarning), so a longer idle bound would drop every client at
 * its first pause, and a longer lease would be renewed in a busy loop.
 * About 24.8 days.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** {@link MAX_TIMER_MS} for a setting in seconds. */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** The default shared secret; the service and the site refuse it outside test mode. */
export const DEFAULT_SECRET = 'CHANGE ME!';

/**
 * Largest body of a request that is a small form: the site's callbacks (a
 * project's title, description and readme at most) and the service's
 * requests other than `/submit`. Bodies above it are answered 413 before
 * they are parsed.
 */
export const FORM_BODY_LIMIT = 1024 * 1024;

/** Raised when a setting has a value that cannot be used. Names the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The environment variable at fault. */
    readonly setting: string,
    message: string,
  ) {
    super(`Invalid setting ${setting}: ${message}`);
  }
}

/**
 * Throws {@link ConfigError} for the default secret outside test mode: it is
 * public, so a service or site using it would obey anyone who can reach it.
 * The one rule for every program that checks or sends the secret.
 */
export function refuseDefaultSecret(settings: { sodarSecret: string; testMode: boolean }): void {
  if (settings.sodarSecret === DEFAULT_SECRET && !settings.testMode) {
    throw new ConfigError(
      'TASKFLOW_SODAR_SECRET',
      `the default secret "${DEFAULT_SECRET}" is public; set a secret of your own (the same for the service and the site), or TASKFLOW_TEST_MODE=true for tests`,
    );
  }
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A string setting with a default. */
export function str(env: Env, name: string, dflt: string): string {
  return raw(env, name) ?? dflt;
}

/** An optional string setting: undefined when unset or empty. */
export function optStr(env: Env, name: string): string | undefined {
  return raw(env, name);
}

/** A boolean setting: 1/true/yes/on or 0/false/no/off, case-insensitive. */
export function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return dflt;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(name, `expected true or false, got "${v}"`);
}

/** A number setting within [min, max]; integers only unless `float`. */
export function num(
  env: Env,
  name: string,
  dflt: number,
  opts: { min?: number; max?: number; float?: boolean } = {},
): number {
  const v = raw(env, name);
  if (v === undefined) return dflt;
  const n = Number(v.trim());
  if (!Number.isFinite(n) || (!opts.float && !Number.isInteger(n))) {
    throw new ConfigError(name, `expected ${opts.float ? 'a number' : 'an integer'}, got "${v}"`);
  }
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(name, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ConfigError(name, `must be at most ${opts.max}, got ${n}`);
  return n;
}

/** A comma-separated list setting; blanks are dropped. */
export function list(env: Env, name: string, dflt: string[]): string[] {
  const v = raw(env, name);
  if (v === undefined) return [...dflt];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** What the store's iRODS protocol server does about TLS (TASKFLOW_IRODS_TLS). */
export type IrodsTlsPolicy = 'refuse' | 'allow' | 'require';

/** An address to listen on. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Parses `HOST:PORT` (`[::1]:1247` for IPv6; port 0: any free port); `off`
 * gives null. Throws {@link ConfigError} naming `setting`.
 */
export function parseListen(setting: string, value: string): ListenAddress | null {
  const v = value.trim();
  if (v.toLowerCase() === 'off') return null;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(setting, `expected HOST:PORT (port 0..65535) or off, got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Settings shared by the backend and everything else (the seed's names). */
export interface BackendSettings {
  /** TASKFLOW_BACKEND_HOST: scheme and host of the service, default `http://0.0.0.0`. */
  backendHost: string;
  /** TASKFLOW_BACKEND_PORT: port of the service, default 5005. */
  backendPort: number;
  /** TASKFLOW_SODAR_SECRET: shared secret between site and service. */
  sodarSecret: string;
  /** TASKFLOW_TARGETS: targets a submit asks for by default. */
  targets: string[];
  /** TASKFLOW_TEST_MODE: enables cleanup and the default secret. */
  testMode: boolean;
  /** TASKFLOW_BACKEND_TIMEOUT: milliseconds the backend waits for an answer. */
  backendTimeoutMs: number;
  /** ENABLED_BACKEND_PLUGINS: backend plugins the host enables. */
  enabledBackendPlugins: string[];
}

/** Reads the backend's settings. Throws {@link ConfigError} on a bad value. */
export function loadBackendSettings(env: Env = process.env): BackendSettings {
  return {
    backendHost: str(env, 'TASKFLOW_BACKEND_HOST', 'http://0.0.0.0'),
    backendPort: num(env, 'TASKFLOW_BACKEND_PORT', 5005, { min: 1, max: 65535 }),
    sodarSecret: str(env, 'TASKFLOW_SODAR_SECRET', DEFAULT_SECRET),
    targets: list(env, 'TASKFLOW_TARGETS', ['sodar', 'irods']),
    testMode: bool(env, 'TASKFLOW_TEST_MODE', false),
    backendTimeoutMs: num(env, 'TASKFLOW_BACKEND_TIMEOUT', 600_000, { min: 1, max: MAX_TIMER_MS }),
    enabledBackendPlugins: list(env, 'ENABLED_BACKEND_PLUGINS', ['taskflow']),
  };
}

/** Every setting of the service, store, locks and site. */
export interface Config extends BackendSettings {
  /** TASKFLOW_DATA_DIR: embedded store, journal, locks and site database. */
  dataDir: string;
  /** TASKFLOW_IRODS_ZONE: zone name of the data store. */
  irodsZone: string;
  /** TASKFLOW_IRODS_ROOT_PATH: optional path between the zone and `projects`. */
  irodsRootPath: string;
  /** TASKFLOW_LISTEN_HOST: address the service binds. */
  listenHost: string;
  /** TASKFLOW_PORT: port the service binds. */
  port: number;
  /** TASKFLOW_SODAR_URL: default base URL of the host site's callbacks. */
  sodarUrl: string;
  /** TASKFLOW_SITE_TIMEOUT: milliseconds a site callback may take. */
  siteTimeoutMs: number;
  /**
   * TASKFLOW_BODY_LIMIT: largest `/submit` body the service accepts, in bytes
   * (a data_delete lists every path). Its other requests: {@link FORM_BODY_LIMIT}.
   */
  bodyLimit: number;
  /** SODAR_SITE_BODY_LIMIT: largest body of the site's REST API, in bytes (callbacks: {@link FORM_BODY_LIMIT}). */
  siteBodyLimit: number;
  /** TASKFLOW_ALLOW_IRODS_CLEANUP: allow /cleanup outside test mode. */
  allowIrodsCleanup: boolean;
  /** TASKFLOW_LOCK_ENABLED: take project locks at all. */
  lockEnabled: boolean;
  /** TASKFLOW_LOCK_RETRY_COUNT: retries after the first failed acquire. */
  lockRetryCount: number;
  /** TASKFLOW_LOCK_RETRY_INTERVAL: seconds between retries. */
  lockRetryInterval: number;
  /** TASKFLOW_LOCK_LEASE: seconds a lock lease lasts before it must be renewed. */
  lockLeaseSeconds: number;
  /** TASKFLOW_REDIS_URL: use Redis for locks when set. */
  redisUrl: string | undefined;
  /** TASKFLOW_ASYNC_CONCURRENCY: async runs executing at once. */
  asyncConcurrency: number;
  /** TASKFLOW_VALIDATE_CONCURRENCY: lock-free validate_only runs at once. */
  validateConcurrency: number;
  /**
   * TASKFLOW_ZONE_VALIDATE_LIMIT: validate-only zone checks of one project
   * running or waiting at once; beyond it a submit is refused (503, as
   * SODAR's `LANDINGZONES_ZONE_VALIDATE_LIMIT`, default 1).
   */
  zoneValidateLimit: number;
  /** TASKFLOW_ZONE_FILE_LIMIT: most files a zone may hold to be validated or moved; undefined: no limit. */
  zoneFileLimit: number | undefined;
  /**
   * TASKFLOW_ZONE_PROGRESS_INTERVAL: seconds at least between a zone's status
   * callback and the next progress callback of its validation or move (and
   * between two of those); 100% is always sent (SODAR's setting of the same name).
   */
  zoneProgressInterval: number;
  /** TASKFLOW_VERIFY_CHECKSUMS: recompute MD5 from the bytes on zone moves. */
  verifyChecksums: boolean;
  /**
   * TASKFLOW_HASH_WORKERS: worker threads reading, hashing and writing object
   * bytes; more than cores, as each waits for the disk while the others hash.
   */
  hashWorkers: number;
  /**
   * TASKFLOW_STORE_SYNC: fsync object bytes (and their vault folder) before the
   * catalog commit, so a power loss cannot leave a committed object without
   * its bytes. Off: still safe against process crashes, and much faster on slow disks.
   */
  storeSync: boolean;
  /**
   * TASKFLOW_STORE_DIRECT_WRITES: folder puts write object bytes with O_DIRECT,
   * past the page cache. A synced put waits for the disk either way; filling
   * new page-cache pages on the way costs more kernel time than the hashing on
   * a virtual machine. The next read of those bytes comes from disk.
   */
  storeDirectWrites: boolean;
  /**
   * TASKFLOW_STORE_INLINE_MAX: objects of at most this many bytes keep them in
   * the catalog instead of a vault file (see {@link STORE_DEFAULTS.inlineMaxBytes}); 0: none.
   */
  storeInlineMax: number;
  /** TASKFLOW_LOG_LEVEL: pino level. */
  logLevel: string;
  /** SODAR_SITE_HOST: address the reference site binds. */
  siteHost: string;
  /** SODAR_SITE_SIGNIN_FAILURES: failed sign-ins of one user name within the window after which the sign-in page refuses it. */
  siteSignInFailures: number;
  /** SODAR_SITE_SIGNIN_WINDOW: seconds the failed sign-ins of a name are counted over (and at most refused for). */
  siteSignInWindow: number;
  /** SODAR_SITE_PORT: port the reference site binds. */
  sitePort: number;
  /**
   * SODAR_SITE_UNDO_LOOK: seconds between the site's looks at the service's
   * runs for its changes whose flow's outcome it has not heard yet.
   */
  siteUndoLookSeconds: number;
  /** DATABASE_URL: the site's database; SQLite under the data dir when unset. */
  databaseUrl: string | undefined;
  /**
   * TASKFLOW_IRODS_LISTEN: where the store's iRODS protocol server listens
   * (`HOST:PORT`, default `127.0.0.1:1247`, iRODS's port); null (`off`): not at all.
   */
  irodsListen: ListenAddress | null;
  /** TASKFLOW_IRODS_TLS_CERT: PEM certificate (chain) file of the protocol server's TLS. */
  irodsTlsCert: string | undefined;
  /** TASKFLOW_IRODS_TLS_KEY: PEM private key file of the protocol server's TLS. */
  irodsTlsKey: string | undefined;
  /**
   * TASKFLOW_IRODS_TLS: `refuse` (no TLS; the default without a certificate),
   * `allow` (TLS for clients that ask; the default with one) or `require`
   * (plaintext clients refused). `allow` and `require` need the certificate and key.
   */
  irodsTls: IrodsTlsPolicy;
  /** TASKFLOW_IRODS_IDLE_TIMEOUT: seconds a logged-in protocol client may stay silent before it is disconnected. */
  irodsIdleTimeout: number;
  /** TASKFLOW_IRODS_MAX_CONNECTIONS: protocol connections served at once; more are refused (SYS_EXCEED_CONNECT_CNT). */
  irodsMaxConnections: number;
  /** TASKFLOW_IRODS_QUERY_TIMEOUT: seconds a specific query may take before it is ended with CAT_SQL_ERR. */
  irodsQueryTimeout: number;
  /** TASKFLOW_IRODS_MAX_OBJECT_BYTES: largest size a protocol client may give a data object (see {@link IRODS_MAX_OBJECT_BYTES}). */
  irodsMaxObjectBytes: number;
}

/** The protocol server's TLS settings, checked together. */
function irodsTlsSettings(env: Env): Pick<Config, 'irodsTlsCert' | 'irodsTlsKey' | 'irodsTls'> {
  const cert = optStr(env, 'TASKFLOW_IRODS_TLS_CERT');
  const key = optStr(env, 'TASKFLOW_IRODS_TLS_KEY');
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(cert === undefined ? 'TASKFLOW_IRODS_TLS_CERT' : 'TASKFLOW_IRODS_TLS_KEY', 'TLS needs both TASKFLOW_IRODS_TLS_CERT and TASKFLOW_IRODS_TLS_KEY');
  }
  const policy = str(env, 'TASKFLOW_IRODS_TLS', cert ? 'allow' : 'refuse').trim().toLowerCase();
  if (policy !== 'refuse' && policy !== 'allow' && policy !== 'require') {
    throw new ConfigError('TASKFLOW_IRODS_TLS', `expected refuse, allow or require, got "${policy}"`);
  }
  if (policy !== 'refuse' && cert === undefined) {
    throw new ConfigError('TASKFLOW_IRODS_TLS', `${policy} needs a certificate: set TASKFLOW_IRODS_TLS_CERT and TASKFLOW_IRODS_TLS_KEY`);
  }
  return { irodsTlsCert: cert, irodsTlsKey: key, irodsTls: policy };
}

/** Reads every setting. Throws {@link ConfigError} naming the first bad one. */
export function loadConfig(env: Env = process.env): Config {
  return {
    ...loadBackendSettings(env),
    dataDir: str(env, 'TASKFLOW_DATA_DIR', './data'),
    irodsZone: str(env, 'TASKFLOW_IRODS_ZONE', 'omicsZone'),
    irodsRootPath: str(env, 'TASKFLOW_IRODS_ROOT_PATH', ''),
    listenHost: str(env, 'TASKFLOW_LISTEN_HOST', '127.0.0.1'),
    port: num(env, 'TASKFLOW_PORT', 5005, { min: 0, max: 65535 }),
    sodarUrl: str(env, 'TASKFLOW_SODAR_URL', 'http://127.0.0.1:8000'),
    siteTimeoutMs: num(env, 'TASKFLOW_SITE_TIMEOUT', 30_000, { min: 1, max: MAX_TIMER_MS }),
    bodyLimit: num(env, 'TASKFLOW_BODY_LIMIT', 16 * 1024 * 1024, { min: 1024 }),
    siteBodyLimit: num(env, 'SODAR_SITE_BODY_LIMIT', 1024 * 1024, { min: 1024 }),
    allowIrodsCleanup: bool(env, 'TASKFLOW_ALLOW_IRODS_CLEANUP', false),
    lockEnabled: bool(env, 'TASKFLOW_LOCK_ENABLED', true),
    lockRetryCount: num(env, 'TASKFLOW_LOCK_RETRY_COUNT', 2, { min: 0 }),
    lockRetryInterval: num(env, 'TASKFLOW_LOCK_RETRY_INTERVAL', 3, { min: 0, max: MAX_TIMER_SECONDS, float: true }),
    lockLeaseSeconds: num(env, 'TASKFLOW_LOCK_LEASE', 30, { min: 0.1, max: MAX_TIMER_SECONDS, float: true }),
    redisUrl: optStr(env, 'TASKFLOW_REDIS_URL'),
    asyncConcurrency: num(env, 'TASKFLOW_ASYNC_CONCURRENCY', 2, { min: 1 }),
    validateConcurrency: num(env, 'TASKFLOW_VALIDATE_CONCURRENCY', 4, { min: 1 }),
    zoneValidateLimit: num(env, 'TASKFLOW_ZONE_VALIDATE_LIMIT', 1, { min: 1 }),
    zoneFileLimit: env.TASKFLOW_ZONE_FILE_LIMIT === undefined || env.TASKFLOW_ZONE_FILE_LIMIT === '' ? undefined : num(env, 'TASKFLOW_ZONE_FILE_LIMIT', 0, { min: 1 }),
    zoneProgressInterval: num(env, 'TASKFLOW_ZONE_PROGRESS_INTERVAL', 5, { min: 0.1, max: MAX_TIMER_SECONDS, float: true }),
    verifyChecksums: bool(env, 'TASKFLOW_VERIFY_CHECKSUMS', true),
    hashWorkers: num(env, 'TASKFLOW_HASH_WORKERS', STORE_DEFAULTS.hashWorkers, { min: 1, max: 64 }),
    storeSync: bool(env, 'TASKFLOW_STORE_SYNC', STORE_DEFAULTS.sync),
    storeDirectWrites: bool(env, 'TASKFLOW_STORE_DIRECT_WRITES', STORE_DEFAULTS.directWrites),
    storeInlineMax: num(env, 'TASKFLOW_STORE_INLINE_MAX', STORE_DEFAULTS.inlineMaxBytes, { min: 0, max: STORE_INLINE_MAX_LIMIT }),
    logLevel: str(env, 'TASKFLOW_LOG_LEVEL', 'info'),
    siteHost: str(env, 'SODAR_SITE_HOST', '127.0.0.1'),
    sitePort: num(env, 'SODAR_SITE_PORT', 8000, { min: 0, max: 65535 }),
    siteSignInFailures: num(env, 'SODAR_SITE_SIGNIN_FAILURES', 10, { min: 1 }),
    siteSignInWindow: num(env, 'SODAR_SITE_SIGNIN_WINDOW', 900, { min: 1 }),
    siteUndoLookSeconds: num(env, 'SODAR_SITE_UNDO_LOOK', 30, { min: 0.1, max: MAX_TIMER_SECONDS, float: true }),
    databaseUrl: optStr(env, 'DATABASE_URL'),
    irodsListen: parseListen('TASKFLOW_IRODS_LISTEN', str(env, 'TASKFLOW_IRODS_LISTEN', '127.0.0.1:1247')),
    ...irodsTlsSettings(env),
    irodsIdleTimeout: num(env, 'TASKFLOW_IRODS_IDLE_TIMEOUT', 900, { min: 1, max: MAX_TIMER_SECONDS }),
    irodsMaxConnections: num(env, 'TASKFLOW_IRODS_MAX_CONNECTIONS', 200, { min: 1 }),
    irodsQueryTimeout: num(env, 'TASKFLOW_IRODS_QUERY_TIMEOUT', 30, { min: 1, max: MAX_TIMER_SECONDS }),
    irodsMaxObjectBytes: num(env, 'TASKFLOW_IRODS_MAX_OBJECT_BYTES', IRODS_MAX_OBJECT_BYTES, { min: 1, max: Number.MAX_SAFE_INTEGER }),
  };
}
