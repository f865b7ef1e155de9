/**
 * `taskflow serve`: runs the service, and the store's iRODS protocol server
 * over the service's store, until SIGTERM or SIGINT, then stops gracefully
 * (protocol connections end, running flows finish or roll back, locks are
 * released) and exits 0. A second signal exits at once with 1.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import type { RunningIrodsServer } from '../irods/index.js';
import { createLogger } from '../logger.js';
import { startService } from '../service/server.js';
import { EmbeddedStore } from '../store/embedded/store.js';
import { formatAddress, protocolAddress, startProtocolServer } from './irods.js';
import { exitOnSignals, parsePort } from './process.js';

/** Registers `taskflow serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the taskflow service and the store\'s iRODS protocol server (settings from the environment: TASKFLOW_*)')
    .option('--port <port>', 'port to listen on (overrides TASKFLOW_PORT; 0 = any free port, for the iRODS protocol server too unless --irods-listen)')
    .option('--host <host>', 'address to bind (overrides TASKFLOW_LISTEN_HOST)')
    .option('--irods-listen <host:port>', 'address of the iRODS protocol server, or off (overrides TASKFLOW_IRODS_LISTEN)')
    .action(async (opts: { port?: string; host?: string; irodsListen?: string }) => {
      const config = loadConfig();
      if (opts.port !== undefined) config.port = parsePort('--port', opts.port);
      if (opts.host !== undefined) config.listenHost = opts.host;
      const irodsAddress = protocolAddress(config, opts.irodsListen, config.port === 0);
      const service = await startService(config);
      let irods: RunningIrodsServer | undefined;
      try {
        if (irodsAddress) {
          const store = await service.store();
          if (!(store instanceof EmbeddedStore)) throw new Error('the iRODS protocol server needs the embedded store');
          irods = await startProtocolServer(config, store, irodsAddress, createLogger(config));
        }
      } catch (err) {
        await service.close().catch(() => undefined);
        throw err;
      }
      exitOnSignals(
        async () => {
          await irods?.close();
          await service.close();
        },
        (signal) => `taskflow: ${signal} received, stopping (running flows finish first)`,
      );
      // One line each for scripts and tests that start on port 0; after the signal handlers,
      // so a signal sent on seeing them never meets Node's default (die at once).
      if (irods) process.stderr.write(`irods listening on ${formatAddress(irods.address)}\n`);
      process.stderr.write(`taskflow service listening on ${service.url}\n`);
    });
}
