/**
 * The whole system in one process (`taskflow start`): the taskflow service,
 * the site and the store's iRODS protocol server, sharing one data folder, a
 * secret generated on first start and a generated password for `rods`. The site reaches the service through the backend as any host would.
 *
 * @module
 */
import type { Config, ListenAddress } from '../config.js';
import type { RunningIrodsServer } from '../irods/index.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import { ensureRodsPassword, protocolAddress, startProtocolServer, type RodsPassword } from './irods.js';
import { startService, type RunningService } from '../service/index.js';
import { createLogger } from '../logger.js';
import { DbPluginStore } from '../host/plugin-store.js';
import { ensureSecret, secretFromEnv } from '../host/secret.js';
import { startSite, type RunningSite } from '../host/server.js';

/** Options of {@link startSystem}. */
export interface SystemOptions {
  /** Service port (0: any free port); default `config.port`. */
  servicePort?: number;
  /** Site port (0: any free port); default `config.sitePort`. */
  sitePort?: number;
  /**
   * Address of the store's iRODS protocol server (null: none); default
   * TASKFLOW_IRODS_LISTEN, on any free port when the service port is 0.
   */
  irodsListen?: ListenAddress | null;
  /** Where start-up lines go. */
  print: (line: string) => void;
}

/** A running service and site. */
export interface RunningSystem {
  service: RunningService;
  site: RunningSite;
  /** The store's iRODS protocol server, unless it is off, and what became of `rods`'s password. */
  irods: { server: RunningIrodsServer; rodsPassword: RodsPassword } | undefined;
  /** The secret in use and whether this start generated it. */
  secret: { created: boolean; file: string | undefined };
  /** Stops the site, then the service. */
  close(): Promise<void>;
}

/** A port already taken is the usual start-up failure: say what to do about it. */
function explainListenError(err: unknown, what: string, setting: string): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') return err;
  const where = e.address !== undefined ? `${e.address}:${String(e.port)}` : 'its port';
  const why = e.code === 'EADDRINUSE' ? 'is already in use (is another "taskflow start" running?)' : 'may not be bound by this user';
  return new Error(`Cannot start ${what}: ${where} ${why}; choose another port with ${setting}`);
}

/**
 * Starts the service, the protocol server and the site. The secret comes from
 * TASKFLOW_SODAR_SECRET when set, else from `<dataDir>/secret` (created on
 * first start).
 */
export async function startSystem(config: Config, opts: SystemOptions): Promise<RunningSystem> {
  const stored = secretFromEnv() ? undefined : ensureSecret(config.dataDir);
  const secret = stored?.secret ?? config.sodarSecret;
  const serviceConfig: Config = { ...config, sodarSecret: secret, port: opts.servicePort ?? config.port };
  // As `taskflow serve` logs: at TASKFLOW_LOG_LEVEL, with the secret-bearing keys redacted.
  const log = createLogger(config);
  // the start-up recovery reports to the site, so it waits until the site listens (below)
  const service = await startService(serviceConfig, { logger: log, deferRecovery: true }).catch((err: unknown) => {
    throw explainListenError(err, 'the taskflow service', 'TASKFLOW_PORT or --port');
  });
  let site: RunningSite | undefined;
  let irods: RunningSystem['irods'];
  try {
    const servicePort = opts.servicePort ?? config.port;
    const irodsAddress = opts.irodsListen !== undefined ? opts.irodsListen : protocolAddress(config, undefined, servicePort === 0);
    if (irodsAddress) {
      const store = await service.store();
      if (!(store instanceof EmbeddedStore)) throw new Error('the iRODS protocol server needs the embedded store');
      const rodsPassword = ensureRodsPassword(store, config.dataDir);
      irods = { server: await startProtocolServer(config, store, irodsAddress, log), rodsPassword };
    }
    const siteConfig: Config = {
      ...config,
      sodarSecret: secret,
      backendHost: 'http://127.0.0.1',
      backendPort: service.port,
      sitePort: opts.sitePort ?? config.sitePort,
    };
    // As `taskflow site --log`: without a logger, the site's 500s would be recorded nowhere.
    site = await startSite(siteConfig, { print: opts.print, logger: true }).catch((err: unknown) => {
      throw explainListenError(err, 'the site', 'SODAR_SITE_PORT or --site-port');
    });
    await site.registry.syncPlugins(new DbPluginStore(site.db), opts.print);
    await service.startRecovery();
  } catch (err) {
    await site?.close().catch(() => undefined);
    await irods?.server.close().catch(() => undefined);
    await service.close().catch(() => undefined);
    throw err;
  }
  const started = site;
  return {
    service,
    site: started,
    irods,
    secret: { created: stored?.created ?? false, file: stored?.file },
    close: async () => {
      await started.close().catch(() => undefined);
      await irods?.server.close().catch(() => undefined);
      await service.close();
    },
  };
}
