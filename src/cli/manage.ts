/**
 * `taskflow manage ...`: the site's management commands (SODAR's manage.py):
 * `syncplugins` and `synctaskflow`.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openDb } from '../host/db/index.js';
import { DbPluginStore } from '../host/plugin-store.js';
import { withStoredSecret } from '../host/secret.js';
import { siteContext } from '../host/server.js';
import { syncTaskflow } from '../host/synctaskflow.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Registers `taskflow manage syncplugins|synctaskflow`. */
export function registerManageCommands(program: Command): void {
  const manage = program.command('manage').description('Site management commands (as SODAR manage.py)');

  manage
    .command('syncplugins')
    .description('Register every plugin found in the site database')
    .action(async () => {
      const config = loadConfig();
      const db = await openDb(config);
      try {
        const { registry } = siteContext(config, db, () => config.sodarUrl);
        await registry.syncPlugins(new DbPluginStore(db), print);
      } finally {
        await db.close();
      }
    });

  manage
    .command('synctaskflow')
    .description('Sync every project, membership and app data to the taskflow service (targets: TASKFLOW_TARGETS without sodar)')
    .action(async () => {
      // The secret of an earlier `npm start` on this data dir, unless TASKFLOW_SODAR_SECRET says otherwise.
      const config = withStoredSecret(loadConfig());
      const db = await openDb(config);
      try {
        const { ctx, registry } = siteContext(config, db, () => config.sodarUrl);
        const summary = await syncTaskflow(ctx, registry, print);
        if (summary.failures.length > 0) process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
