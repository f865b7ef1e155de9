/**
 * The reference host site: a Fastify app with the SODAR-shaped REST API and
 * the callback endpoints, over the site database.
 *
 * @module
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { refuseDefaultSecret, type Config } from '../config.js';
import { frameworkErrorAnswer } from '../framework-errors.js';
import { decodeUtf8Body, parseFormBody, useBoundedJsonBodies } from '../json-body.js';
import { createLogger } from '../logger.js';
import { ensurePrivateDir } from '../private-files.js';
import { ensureAdmin, type AdminInfo } from './admin.js';
import { callbackRoutes } from './callbacks.js';
import { TASKFLOW_PLUGIN } from './constants.js';
import type { SiteContext, TaskflowBackend } from './context.js';
import { openDb } from './db/index.js';
import { settleEndedUndos } from './undo/repository.js';
import { lookForOutcomes, settleFromServiceRuns } from './undo/service-outcomes.js';
import type { Db } from './db/types.js';
import { HttpError } from './errors.js';
import { sitePages } from './pages/index.js';
import { DbPluginStore, siteRegistry } from './plugin-store.js';
import type { PluginRegistry } from './plugins/index.js';
import { passwordRoutes } from './api/passwords.js';
import { landingZoneRoutes } from './zones/routes.js';
import { projectRoutes } from './projects/routes.js';
import { roleRoutes } from './roles/routes.js';
import { sampleSheetRoutes } from './sheets/routes.js';
import { timelineRoutes } from './timeline/routes.js';

/** Options of {@link startSite}. */
export interface SiteOptions {
  /** Address to bind; default `config.siteHost`. */
  host?: string;
  /** Port to bind (0: any free port); default `config.sitePort`. */
  port?: number;
  /** Log requests with pino at `config.logLevel`; default false. */
  logger?: boolean;
  /** Where the log goes when `logger` is set; default stdout. */
  logDestination?: DestinationStream;
  /** Where start-up lines (the new admin token) go; default stdout. */
  print?: (line: string) => void;
}

/** A running site. */
export interface RunningSite {
  /** Base URL, also the callback URL given to the service. */
  url: string;
  db: Db;
  ctx: SiteContext;
  registry: PluginRegistry;
  admin: AdminInfo;
  /** Stops listening and closes the database. */
  close(): Promise<void>;
}

/** Builds the context the routes share. */
export function siteContext(config: Config, db: Db, siteUrl: () => string): { ctx: SiteContext; registry: PluginRegistry } {
  const registry = siteRegistry(config, db);
  const store = new DbPluginStore(db);
  const ctx: SiteContext = {
    db,
    config,
    siteUrl,
    taskflow: async () =>
      (await registry.getBackendApi<TaskflowBackend>(TASKFLOW_PLUGIN, { store, enabled: config.enabledBackendPlugins })) ?? null,
  };
  return { ctx, registry };
}

/**
 * Builds the Fastify app (not listening). With `opts.logger` it logs a line
 * per request through {@link createLogger}, so the site's lines keep the
 * service's redaction rules: requests carry session cookies, API tokens,
 * passwords and the shared secret.
 */
export function buildSiteApp(ctx: SiteContext, opts: Pick<SiteOptions, 'logger' | 'logDestination'> = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger ? (createLogger(ctx.config, opts.logDestination, 'site') as FastifyBaseLogger) : undefined,
    bodyLimit: ctx.config.siteBodyLimit,
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const { status, message } = frameworkErrorAnswer(err);
      if (status >= 500) req.log.error(err);
      return reply.code(status).send({ detail: message });
    },
  });
  useBoundedJsonBodies(app);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    let fields: Record<string, string>;
    try {
      fields = parseFormBody(decodeUtf8Body(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    done(null, fields);
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ detail: err.detail });
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ detail: err.message });
    }
    req.log.error(err);
    return reply.code(500).send({ detail: `Server error: ${err.message}` });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ detail: 'Not found.' }));
  // The pages (and / for API clients) keep their sessions and CSRF checks to themselves.
  void app.register(async (pages) => sitePages(pages, ctx));
  projectRoutes(app, ctx);
  roleRoutes(app, ctx);
  sampleSheetRoutes(app, ctx);
  landingZoneRoutes(app, ctx);
  timelineRoutes(app, ctx);
  passwordRoutes(app, ctx);
  callbackRoutes(app, ctx);
  return app;
}

/**
 * Opens the database (SQLite under the data dir, or DATABASE_URL), creates the
 * admin on first start, and listens. Throws {@link ConfigError} for the
 * default secret outside test mode.
 */
export async function startSite(config: Config, opts: SiteOptions = {}): Promise<RunningSite> {
  // The callbacks obey whoever knows the secret: never serve them with the public default.
  refuseDefaultSecret(config);
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // The secret, the admin token and the SQLite database live here.
  ensurePrivateDir(config.dataDir, { tighten: true });
  const db = await openDb(config);
  let url = '';
  try {
    const admin = await ensureAdmin(db, config.dataDir);
    if (admin.created) {
      print(`Created admin user "${admin.username}" with API token ${admin.token}`);
      print(`(stored in ${admin.tokenFile}, readable only by you; keep it secret)`);
    } else if (admin.tokenCreated) {
      print(`Created a new API token for admin user "${admin.username}" (the stored one was gone): ${admin.token}`);
      print(`(stored in ${admin.tokenFile}, readable only by you; keep it secret)`);
    }
    if (admin.password !== undefined) {
      print(`Sign-in password of admin user "${admin.username}" (shown only now): ${admin.password}`);
      print(`(only its hash is stored; "taskflow manage setpassword ${admin.username}" sets a new one)`);
    }
    // changes whose flow ended while no process of the site was there to take them back or keep them
    await settleEndedUndos(db);
    const { ctx, registry } = siteContext(config, db, () => url);
    await settleFromServiceRuns(ctx);
    const app = buildSiteApp(ctx, { logger: opts.logger, logDestination: opts.logDestination });
    const host = opts.host ?? config.siteHost;
    await app.listen({ host, port: opts.port ?? config.sitePort });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? config.sitePort);
    // The service calls back here: a wildcard bind is reached on loopback.
    const callbackHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    url = `http://${callbackHost}:${port}`;
    const looks = lookForOutcomes(ctx, config.siteUndoLookSeconds * 1000, (err) =>
      app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'looking at the service runs for unsettled changes failed; tried again later'),
    );
    return {
      url,
      db,
      ctx,
      registry,
      admin,
      close: async () => {
        await looks.stop();
        await app.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

