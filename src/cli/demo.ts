/**
 * `taskflow demo` (`npm run demo`): walks the demo story against the running
 * system, or starts one in this process when the site does not answer.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { readAdminToken } from '../host/admin.js';
import { SiteApi } from '../host/client.js';
import { DemoError, runDemo } from './demo-story.js';
import { startSystem, type RunningSystem } from './system.js';
import { openStore } from '../store/index.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/** Registers `taskflow demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Walk the whole story (project, members, sample sheet, landing zones, move) against the running system')
    .option('--site <url>', 'site URL (default http://127.0.0.1:<SODAR_SITE_PORT>)')
    .option('--token <token>', 'admin API token (default: <data dir>/admin-token)')
    .action(async (opts: { site?: string; token?: string }) => {
      const config = loadConfig();
      let siteUrl = opts.site ?? `http://127.0.0.1:${config.sitePort}`;
      let system: RunningSystem | undefined;
      if (!(await answers(siteUrl))) {
        if (opts.site) throw new Error(`No site answers at ${siteUrl}`);
        print(`No site at ${siteUrl}: starting the service and the site (data in ${config.dataDir})`);
        system = await startSystem(config, { print });
        siteUrl = system.site.url;
      } else {
        print(`Using the running site at ${siteUrl} (data in ${config.dataDir})`);
      }
      const store = await openStore(config);
      try {
        const token = opts.token ?? system?.site.admin.token ?? readAdminToken(config.dataDir);
        if (!token) throw new Error(`No admin token: pass --token or start the site once with TASKFLOW_DATA_DIR=${config.dataDir}`);
        await runDemo({ admin: new SiteApi(siteUrl, token), store, layout: { zone: config.irodsZone, rootPath: config.irodsRootPath }, print });
        print('Demo finished: every step went as expected');
      } catch (err) {
        if (err instanceof DemoError) {
          process.stderr.write(`Demo FAILED: ${err.message}\n`);
          process.exitCode = 1;
        } else throw err;
      } finally {
        await store.close();
        await system?.close();
      }
    });
}
