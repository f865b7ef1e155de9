/**
 * `taskflow site`: runs the reference host site until SIGTERM or SIGINT.
 *
 * @module
 */
import type { Command } from 'commander';
import { exitOnSignals, parsePort } from './process.js';
import { DEFAULT_SECRET, loadConfig } from '../config.js';
import { describeDb } from '../host/db/index.js';
import { readSecret, secretFromEnv, secretPath, withStoredSecret } from '../host/secret.js';
import { startSite } from '../host/server.js';

/** Registers `taskflow site`. */
export function registerSiteCommand(program: Command): void {
  program
    .command('site')
    .description('Run the reference SODAR-like host site (SODAR_SITE_HOST, SODAR_SITE_PORT, DATABASE_URL)')
    .option('--port <port>', 'port to listen on (overrides SODAR_SITE_PORT; 0 = any free port)')
    .option('--host <host>', 'address to bind (overrides SODAR_SITE_HOST)')
    .option('--log', 'log requests')
    .action(async (opts: { port?: string; host?: string; log?: boolean }) => {
      // The secret of an earlier `npm start` on this data dir, unless TASKFLOW_SODAR_SECRET says otherwise.
      const config = withStoredSecret(loadConfig());
      const site = await startSite(config, {
        port: opts.port === undefined ? undefined : parsePort('--port', opts.port),
        host: opts.host,
        logger: opts.log === true,
      });
      if (!site.admin.tokenCreated) process.stdout.write(`Admin user "${site.admin.username}"; API token stored in ${site.admin.tokenFile}\n`);
      if (!(await site.ctx.taskflow())) {
        process.stdout.write('Warning: the taskflow backend plugin is not enabled: run "taskflow manage syncplugins"\n');
      }
      process.stdout.write(`Database: ${describeDb(config)}\n`);
      const secretSource = secretFromEnv()
        ? 'TASKFLOW_SODAR_SECRET'
        : readSecret(config.dataDir) !== undefined
          ? `stored in ${secretPath(config.dataDir)}`
          : `the default "${DEFAULT_SECRET}" (test mode only)`;
      process.stdout.write(`Secret for the service and its callbacks: ${secretSource}\n`);
      exitOnSignals(() => site.close(), () => 'Stopping the site...');
      // One line for scripts and tests that start the site on port 0; after the signal handlers,
      // so a signal sent on seeing it never meets Node's default (die at once).
      process.stdout.write(`taskflow site listening on ${site.url}\n`);
    });
}
