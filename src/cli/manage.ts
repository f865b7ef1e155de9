/**
 * `taskflow manage ...`: the site's management commands (SODAR's manage.py):
 * `syncplugins`, `synctaskflow`, `setpassword`, `revoke` and `revoketoken`.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { openDb } from '../host/db/index.js';
import { generatePassword, revokeAccess, setPassword } from '../host/auth/passwords.js';
import { HttpError } from '../host/errors.js';
import { getUserByName, revokeToken, type User } from '../host/repo.js';
import type { Db } from '../host/db/types.js';
import { DbPluginStore } from '../host/plugin-store.js';
import { withStoredSecret } from '../host/secret.js';
import { siteContext } from '../host/server.js';
import { syncTaskflow } from '../host/synctaskflow.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The first line of standard input (a pipe, or a line typed at the terminal). */
async function readLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0];
}

/**
 * Runs `fn` on the site database with the user named `username`; an unknown
 * user, or a refusal `fn` throws as an HttpError, is told on stderr and
 * sets a failing exit code.
 */
async function withSiteUser(username: string, fn: (db: Db, user: User) => Promise<void>): Promise<void> {
  await withSiteDb(loadConfig(), async (db, config) => {
    try {
      const user = await getUserByName(db, username);
      if (!user) {
        process.stderr.write(`No user "${username}" in the site database (${config.dataDir})\n`);
        process.exitCode = 1;
        return;
      }
      await fn(db, user);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      process.stderr.write(`${err.detail}\n`);
      process.exitCode = 1;
    }
  });
}

/** Runs `fn` on the site database of `config`, closed afterwards whatever `fn` does. */
async function withSiteDb(config: Config, fn: (db: Db, config: Config) => Promise<void>): Promise<void> {
  const db = await openDb(config);
  try {
    await fn(db, config);
  } finally {
    await db.close();
  }
}

/** Registers `taskflow manage syncplugins|synctaskflow|setpassword|revoke|revoketoken`. */
export function registerManageCommands(program: Command): void {
  const manage = program.command('manage').description('Site management commands (as SODAR manage.py)');

  manage
    .command('syncplugins')
    .description('Register every plugin found in the site database')
    .action(() =>
      withSiteDb(loadConfig(), async (db, config) => {
        const { registry } = siteContext(config, db, () => config.sodarUrl);
        await registry.syncPlugins(new DbPluginStore(db), print);
      }),
    );

  manage
    .command('synctaskflow')
    .description('Sync every project, membership and app data to the taskflow service (targets: TASKFLOW_TARGETS without sodar)')
    // The secret of an earlier `npm start` on this data dir, unless TASKFLOW_SODAR_SECRET says otherwise.
    .action(() =>
      withSiteDb(withStoredSecret(loadConfig()), async (db, config) => {
        const { ctx, registry } = siteContext(config, db, () => config.sodarUrl);
        const summary = await syncTaskflow(ctx, registry, print);
        if (summary.failures.length > 0) process.exitCode = 1;
      }),
    );

  manage
    .command('setpassword <user>')
    .description("Set a user's sign-in password for the site's pages, read as the first line of standard input (--generate: a new random one, printed)")
    .option('--generate', 'generate a password and print it once')
    .action((username: string, opts: { generate?: boolean }) =>
      withSiteUser(username, async (db, user) => {
        if (!opts.generate && process.stdin.isTTY) process.stderr.write(`New password for "${username}" (the line is shown as you type): `);
        const password = opts.generate ? generatePassword() : await readLine();
        await setPassword(db, user.uuid, password);
        print(opts.generate ? `Password of "${username}" set to (shown only now): ${password}` : `Password of "${username}" set`);
      }),
    );

  manage
    .command('revoketoken')
    .description('Take one API token away (read from standard input, one line, never from the command line); its user keeps the rest')
    .action(() =>
      withSiteDb(loadConfig(), async (db, config) => {
        if (process.stdin.isTTY) process.stderr.write('API token to revoke (the line is shown as you type): ');
        const owner = await revokeToken(db, (await readLine()).trim());
        if (!owner) {
          process.stderr.write(`No such API token in the site database (${config.dataDir})\n`);
          process.exitCode = 1;
          return;
        }
        print(`API token of "${owner.username}" revoked; their other tokens and their password stay`);
      }),
    );

  manage
    .command('revoke <user>')
    .description("Take every way in away from a user: their password (their page sessions end with it) and their API tokens; their roles stay")
    .action((username: string) =>
      withSiteUser(username, async (db, user) => {
        const removed = await revokeAccess(db, user.uuid);
        print(`Access of "${username}" revoked: ${removed.passwords === 0 ? 'no password' : 'password removed'}, ${removed.tokens} API token(s) removed; set a password to let them in again`);
      }),
    );
}
