/**
 * The embedded store's iRODS protocol server: iRODS clients (python-irodsclient,
 * iCommands with `irodsProt=1`) reach the store over the native protocol,
 * as users of the store, with the permissions an iRODS server enforces.
 *
 * @module
 */
import { createSecureContext } from 'node:tls';
import pino, { type Logger } from 'pino';
import { IRODS_MAX_OBJECT_BYTES } from '../config.js';
import type { EmbeddedStore } from '../store/embedded/store.js';
import { apiTable } from './api/index.js';
import { AccessRules } from './permissions.js';
import { icatSiteOf } from './specific-query/icat-views.js';
import { SpecificQueryRunner } from './specific-query/runner.js';
import type { SessionLimits } from './server/connection.js';
import { listen } from './server/listener.js';
import { LoginThrottle } from './server/native-auth.js';
import type { TlsPolicy } from './server/negotiation.js';
import { DEFAULT_FRAME_LIMITS } from './wire/framing.js';

export type { TlsPolicy } from './server/negotiation.js';

/** Bounds of the server; each has a default. */
export interface IrodsServerLimits extends SessionLimits {
  /**
   * Logged-in clients served at once. As many connections again may be
   * logging in, counted apart: when they are that many, the one that
   * connected first is closed for a new one.
   */
  maxConnections: number;
  /** Milliseconds a specific query may take, queued and running, before it is ended (`CAT_SQL_ERR`). */
  queryTimeoutMs: number;
}

/** The defaults of {@link IrodsServerLimits}. */
export const DEFAULT_IRODS_LIMITS: IrodsServerLimits = {
  ...DEFAULT_FRAME_LIMITS,
  idleTimeoutMs: 15 * 60 * 1000,
  loginTimeoutMs: 30 * 1000,
  startupTimeoutMs: 5 * 1000,
  maxConnections: 200,
  queryTimeoutMs: 30 * 1000,
  maxObjectBytes: IRODS_MAX_OBJECT_BYTES,
};

/** TLS of the server: PEM certificate (chain) and key, and when to use it. */
export interface IrodsTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** `allow` (default): TLS when the client asks for it; `require`: refuse clients that do not. */
  policy?: Exclude<TlsPolicy, 'refuse'>;
}

/** Options of {@link startIrodsServer}. */
export interface IrodsServerOptions {
  store: EmbeddedStore;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; 0: any free port. Default 1247, iRODS's own. */
  port?: number;
  /** TLS; without it the server refuses clients asking for TLS. */
  tls?: IrodsTlsOptions;
  limits?: Partial<IrodsServerLimits>;
  log?: Logger;
}

/** A running protocol server. */
export interface RunningIrodsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Stops accepting, ends every connection and runs its cleanups. Idempotent. */
  close(): Promise<void>;
}

/** Starts the protocol server over an open store; rejects when the address cannot be bound. */
export async function startIrodsServer(opts: IrodsServerOptions): Promise<RunningIrodsServer> {
  const limits: IrodsServerLimits = { ...DEFAULT_IRODS_LIMITS, ...opts.limits };
  const log = (opts.log ?? pino({ level: 'warn' })).child({ component: 'irods' });
  const tls = opts.tls ? { context: createSecureContext({ cert: opts.tls.cert, key: opts.tls.key }), policy: opts.tls.policy ?? 'allow' } : undefined;
  // a server before this one may have ended inside a parallel put: its objects are not to be finished by anyone now
  const abandoned = opts.store.removeAbandonedIntermediates();
  if (abandoned.length > 0) log.warn({ paths: abandoned.slice(0, 20), count: abandoned.length }, 'removed objects a parallel put registered whose server ended before their close');
  // starts no process before the first query, so a failed listen leaves nothing running
  const specificQueries = new SpecificQueryRunner(icatSiteOf(opts.store.protocolCore()), limits.queryTimeoutMs);
  const listener = await listen({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 1247,
    maxConnections: limits.maxConnections,
    shared: {
      store: opts.store,
      routes: apiTable(),
      access: new AccessRules(opts.store.protocolCore().db),
      tls,
      limits,
      log,
      loginThrottle: new LoginThrottle(),
      specificQueries,
    },
  });
  log.info({ address: listener.address, tls: tls?.policy ?? 'refuse' }, 'iRODS protocol server listening');
  return {
    address: listener.address,
    close: async () => {
      await listener.close();
      specificQueries.close();
    },
  };
}
