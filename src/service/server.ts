/**
 * The taskflow service: Fastify serving protocol section 2 (`/submit`,
 * `/cleanup`, `/hello`) plus the run and lock endpoints, over the store,
 * the project locks and the run journal in the data folder.
 *
 * @module
 */
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { FORM_BODY_LIMIT, refuseDefaultSecret, type Config } from '../config.js';
import { SqliteJournal } from '../engine/index.js';
import { projectRoot } from '../flows/layout.js';
import { frameworkErrorAnswer } from '../framework-errors.js';
import { useBoundedJsonBodies } from '../json-body.js';
import { ensurePrivateDir } from '../private-files.js';
import { createLockManager, createOwnerLeases } from '../locks/index.js';
import type { LockManager } from '../locks/types.js';
import { SiteClient } from '../site/client.js';
import type { FlowStore, StoreAdmin } from '../store/types.js';
import { SECRET_HEADER, secretMatches } from './auth.js';
import { cleanupStore } from './cleanup.js';
import { requestErrorAnswer } from './http-errors.js';
import { createLogger } from '../logger.js';
import { Text, cleanupError, errorText } from './messages.js';
import { ProjectQuarantine } from './quarantine.js';
import { RecoveryWatch, recoverUnfinishedRuns, type RecoveryDeps } from './recovery.js';
import { OutcomeReporter } from './reporter.js';
import { isSecretOnlyUrl, registerRunsRoutes } from './runs-routes.js';
import { LEGACY_FENCE_KEYS } from './run-meta.js';
import { StoreProvider } from './store-provider.js';
import { SubmitPipeline } from './submit-pipeline.js';
import { FreezeHook, PauseHook, ReportHook, UnjournaledFreezeHook } from './test-hooks.js';
import { WorkQueue } from './work-queue.js';

/** The journal file inside the data folder. */
export function journalPath(dataDir: string): string {
  return join(dataDir, 'journal.sqlite');
}

/**
 * How often the service looks for runs of processes that are gone: a quarter
 * of a lease, so such a run is taken over soon after its owner's lease runs out.
 */
function recoveryPeriodMs(config: Config): number {
  return (config.lockLeaseSeconds * 1000) / 4;
}

/** The service refuses a setting (e.g. the default secret outside test mode): a {@link ConfigError} naming it. */
export { ConfigError as ServiceConfigError } from '../config.js';

/** Options of {@link startService}. */
export interface ServiceOptions {
  /** Logger to use; default: pino at `config.logLevel` to `logDestination` or stdout. */
  logger?: Logger;
  /** Where the default logger writes. */
  logDestination?: DestinationStream;
  /** Environment for test hooks (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Leave the start-up recovery (and the later looks) to
   * {@link RunningService.startRecovery}: for a caller that starts the
   * site the recovery reports to only once the service listens, as
   * `taskflow start` does.
   */
  deferRecovery?: boolean;
}

/** A started service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:5005`. */
  readonly url: string;
  readonly port: number;
  /** The run journal (for tests and tools in the same process). */
  readonly journal: SqliteJournal;
  readonly locks: LockManager;
  /** The data store, opened on first use (with its admin tools, for tests and tools in the same process). */
  store(): Promise<FlowStore & StoreAdmin>;
  /**
   * With `deferRecovery`: reverts the runs a crash left unfinished, as a
   * start does, then looks for them every quarter lease. Resolves once
   * that first recovery is done; nothing to do without `deferRecovery`.
   */
  startRecovery(): Promise<void>;
  /**
   * Graceful stop: stops accepting requests, lets running flows finish or
   * roll back (queued async runs that have not started are reported failed),
   * releases locks and closes the store and journal. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the service on `config.listenHost:config.port` (port 0: any free
 * port). Before listening it reverts the runs a crash left unfinished.
 * Throws {@link ConfigError} for the default secret outside test mode.
 */
export async function startService(config: Config, opts: ServiceOptions = {}): Promise<RunningService> {
  refuseDefaultSecret(config);
  const log = opts.logger ?? createLogger(config, opts.logDestination);
  ensurePrivateDir(config.dataDir, { tighten: true });
  // the service's one handle: concurrent runs share the commits of each event-loop turn
  const journal = new SqliteJournal(journalPath(config.dataDir), { commitPerTurn: true, legacyFenceKeys: LEGACY_FENCE_KEYS });
  const locks = createLockManager(config);
  const owners = createOwnerLeases(config, {
    onLost: (reason) => log.error({ reason }, 'owner lease lost: peers may take this process\'s runs for dead'),
  });
  const stores = new StoreProvider(config);
  const site = new SiteClient({ secret: config.sodarSecret, timeoutMs: config.siteTimeoutMs });
  const quarantine = new ProjectQuarantine(journal);
  const reporter = new OutcomeReporter(site, log);
  const asyncQueue = new WorkQueue(config.asyncConcurrency);
  const validationQueue = new WorkQueue(config.validateConcurrency);
  let pipelineRef: SubmitPipeline | undefined;
  const recovery: RecoveryDeps = {
    config,
    log,
    journal,
    locks,
    owners,
    stores,
    site,
    reporter,
    adopt: async (runs) => pipelineRef?.resume(runs),
    keptLeases: new Map(),
    retryOwedReports: async () => pipelineRef?.retryOwedReports(),
  };
  const watch = new RecoveryWatch(recovery, recoveryPeriodMs(config));
  const release = async (): Promise<void> => {
    await watch.stop();
    // Released only once our runs have ended: until then peers must leave them to us.
    await owners.close().catch(() => undefined);
    await locks.close().catch(() => undefined);
    await stores.close().catch(() => undefined);
    journal.close();
  };

  const pipeline = new SubmitPipeline({
    config,
    log,
    site,
    stores,
    locks,
    journal,
    quarantine,
    asyncQueue,
    validationQueue,
    ownerId: owners.id,
    interruptedRuns: watch,
    freezeHook: FreezeHook.fromEnv(config.testMode, opts.env),
    unjournaledFreezeHook: UnjournaledFreezeHook.fromEnv(config.testMode, opts.env),
    pauseHook: PauseHook.fromEnv(config.testMode, opts.env),
    reportHook: ReportHook.fromEnv(config.testMode, opts.env),
  });
  pipelineRef = pipeline;

  try {
    // Before any run starts: runs record this lease as their owner. An unreachable lease
    // store is not fatal (as for project locks); the watch keeps trying.
    await owners.hold().catch((err: unknown) => log.error({ err: errorText(err) }, 'owner lease cannot be taken'));
    if (!opts.deferRecovery) await recoverUnfinishedRuns(recovery);
    // Open the store now so the first submit does not pay for it; a failure is answered per submit (step 4).
    await stores.get().catch((err: unknown) => log.error({ err: errorText(err) }, 'data store cannot be opened'));
  } catch (err) {
    await release();
    throw err;
  }
  let recovering: Promise<void> | undefined;
  const startRecovery = (): Promise<void> =>
    (recovering ??= opts.deferRecovery ? recoverUnfinishedRuns(recovery).then(() => watch.start()) : Promise.resolve());
  if (!opts.deferRecovery) watch.start();

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // one line per submit is logged by the pipeline; no per-request lines
    logController: new LogController({ disableRequestLogging: true }),
    // no pino child per request (its bindings, a request id, are copied per request): nothing here logs
    // through `request.log`, and Fastify's own lines about a request go to the service's logger as they are
    childLoggerFactory: (logger) => logger,
    // only /submit takes large bodies
    bodyLimit: Math.min(config.bodyLimit, FORM_BODY_LIMIT),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      // these requests pass by the routes, and so by the secret check that comes first on some of them
      if (isSecretOnlyUrl(req.url) && !secretMatches(req.headers[SECRET_HEADER], config.sodarSecret)) {
        return reply.code(403).type('text/plain; charset=utf-8').send(Text.notAuthorized);
      }
      const { status, message } = frameworkErrorAnswer(err);
      if (status >= 500) log.error({ err: errorText(err) }, 'request failed');
      return reply.code(status).type('text/plain; charset=utf-8').send(message);
    },
  });
  useBoundedJsonBodies(app);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, body } = requestErrorAnswer(err, req.routeOptions.bodyLimit);
    if (status >= 500) log.error({ err: errorText(err) }, 'request failed');
    return reply.code(status).type('text/plain; charset=utf-8').send(body);
  });
  let stopping = false;
  // Answers sent while stopping close their connection, so a kept-alive client cannot hold the close up.
  // (A callback hook: an async one costs a promise per request.)
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (stopping) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('Not found'));

  app.post('/submit', { bodyLimit: config.bodyLimit }, async (req, reply) => {
    const { status, body } = await pipeline.submit(req.body);
    return reply.code(status).type('text/plain; charset=utf-8').send(body);
  });

  app.post('/cleanup', async (req, reply) => {
    const text = (status: number, body: string) => reply.code(status).type('text/plain; charset=utf-8').send(body);
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    // Ours (protocol "Improve"): outside test mode a cleanup also needs the secret.
    if (!config.testMode && !secretMatches(b.sodar_secret ?? req.headers[SECRET_HEADER], config.sodarSecret)) {
      return text(403, Text.notAuthorized);
    }
    // The body's test_mode is the client's claim: only the service's own configuration may allow a wipe.
    if (!config.testMode && !config.allowIrodsCleanup) return text(403, Text.cleanupNotAllowed);
    try {
      const report = await cleanupStore(await stores.get(), projectRoot({ zone: config.irodsZone, rootPath: config.irodsRootPath }));
      log.info({ ...report }, 'cleanup');
      return text(200, Text.cleanupOk);
    } catch (err) {
      return text(500, cleanupError(errorText(err)));
    }
  });

  app.get('/hello', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(Text.hello));

  registerRunsRoutes(app, { secret: config.sodarSecret, journal, locks, quarantine, pipeline });

  try {
    await app.listen({ host: config.listenHost, port: config.port });
  } catch (err) {
    await release();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info({ url, dataDir: config.dataDir, locks: config.redisUrl ? 'redis' : config.lockEnabled ? 'embedded' : 'off' }, 'service started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stopping = true;
      log.info('service stopping');
      // In-flight sync submits finish before app.close() resolves.
      await app.close();
      pipeline.stopLine();
      await Promise.all([asyncQueue.close(), validationQueue.close()]);
      await pipeline.drained();
      await release();
      log.info('service stopped');
    })());

  return { url, port, journal, locks, store: () => stores.get(), startRecovery, close };
}
