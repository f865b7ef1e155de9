/**
 * `taskflow serve`: runs the service until SIGTERM or SIGINT, then stops
 * gracefully (running flows finish or roll back, locks are released) and
 * exits 0. A second signal exits at once with 1.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { startService } from '../service/server.js';
import { exitOnSignals, parsePort } from './process.js';

/** Registers `taskflow serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the taskflow service (settings from the environment: TASKFLOW_*)')
    .option('--port <port>', 'port to listen on (overrides TASKFLOW_PORT; 0 = any free port)')
    .option('--host <host>', 'address to bind (overrides TASKFLOW_LISTEN_HOST)')
    .action(async (opts: { port?: string; host?: string }) => {
      const config = loadConfig();
      if (opts.port !== undefined) config.port = parsePort('--port', opts.port);
      if (opts.host !== undefined) config.listenHost = opts.host;
      const service = await startService(config);
      exitOnSignals(() => service.close(), (signal) => `taskflow: ${signal} received, stopping (running flows finish first)`);
      // One line for scripts and tests that start the service on port 0; after the signal handlers,
      // so a signal sent on seeing it never meets Node's default (die at once).
      process.stderr.write(`taskflow service listening on ${service.url}\n`);
    });
}
