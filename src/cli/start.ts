/**
 * `taskflow start` (`npm start`): the service and the site together on the
 * embedded defaults, until Ctrl-C.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig, parseListen } from '../config.js';
import { formatAddress, rodsPasswordLine } from './irods.js';
import { startSystem } from './system.js';
import { exitOnSignals, parsePort } from './process.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Registers `taskflow start`. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the taskflow service and the reference site together (data in TASKFLOW_DATA_DIR, default ./data)')
    .option('--port <port>', 'service port (overrides TASKFLOW_PORT; 0 = any free port)')
    .option('--site-port <port>', 'site port (overrides SODAR_SITE_PORT; 0 = any free port)')
    .option('--irods-listen <host:port>', 'address of the store\'s iRODS protocol server, or off (overrides TASKFLOW_IRODS_LISTEN; with --port 0 it takes any free port)')
    .action(async (opts: { port?: string; sitePort?: string; irodsListen?: string }) => {
      const config = loadConfig();
      const system = await startSystem(config, {
        servicePort: opts.port === undefined ? undefined : parsePort('--port', opts.port),
        sitePort: opts.sitePort === undefined ? undefined : parsePort('--site-port', opts.sitePort),
        irodsListen: opts.irodsListen === undefined ? undefined : parseListen('--irods-listen', opts.irodsListen),
        print,
      });
      const { secret, site, service, irods } = system;
      // Before anything is printed: a signal sent on seeing the output must not meet Node's default (die at once).
      exitOnSignals(() => system.close(), () => 'Stopping the site and the service...');
      if (secret.file) print(secret.created ? `Generated a new secret, stored in ${secret.file}` : `Using the secret stored in ${secret.file}`);
      else print('Using the secret from TASKFLOW_SODAR_SECRET');
      // The token itself was printed when it was created (startSite); later starts name only its file, so it
      // does not end up in every terminal scrollback and log of a restart.
      print(`Admin token of user "${site.admin.username}": stored in ${site.admin.tokenFile}`);
      print(`Taskflow service: ${service.url}`);
      print(`Site: ${site.url}`);
      if (irods) {
        print(`iRODS protocol: ${formatAddress(irods.server.address)}, zone ${config.irodsZone} (python-irodsclient; iCommands with the environment variable irodsProt=1)`);
        print(rodsPasswordLine(irods.rodsPassword));
      } else print('iRODS protocol: off (TASKFLOW_IRODS_LISTEN=off)');
      print('Try: npm run demo   (Ctrl-C stops both)');
    });
}
