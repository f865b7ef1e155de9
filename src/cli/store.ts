/**
 * `taskflow store ...`: the embedded data store of TASKFLOW_DATA_DIR (zone
 * TASKFLOW_IRODS_ZONE) from the command line, for people and for tests.
 * Every error ends the command with exit code 1 and one line on stderr,
 * `taskflow store: <message>`.
 *
 * @module
 */
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import type { EmbeddedStore } from '../store/embedded/store.js';
import { joinPath, relativePath } from '../store/paths.js';
import type { AccessLevel, StoreEntry } from '../store/types.js';

/** A usage problem found by the command itself (not by the store). */
class StoreCommandError extends Error {
  override readonly name = 'StoreCommandError';
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Opens the configured store, runs `fn`, always closes the store. The layout
 * roots (the zone, `home`, `trash`, the project root) cannot be moved or
 * removed through it. The store
 * (native SQLite binding, worker pool) and the settings are imported here,
 * when a command runs, not when the command tree is built: `taskflow` builds
 * every area's commands on each start, and each area pays only for what runs.
 */
async function withStore(fn: (store: EmbeddedStore) => Promise<void>): Promise<void> {
  const [{ loadConfig }, { openEmbeddedStore }, { projectRoot }] = await Promise.all([
    import('../config.js'),
    import('../store/index.js'),
    import('../flows/layout.js'),
  ]);
  const config = loadConfig();
  // the project root is a layout root here too: no command moves or removes every project at once
  const store = await openEmbeddedStore(config, [projectRoot({ zone: config.irodsZone, rootPath: config.irodsRootPath })]);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Wraps an action so any error becomes one stderr line and exit code 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  };
}

function fail(message: string): never {
  process.stderr.write(`taskflow store: ${message.split('\n')[0]}\n`);
  process.exit(1);
}

/** A path to put or move to: inside `target` when it is an existing collection, like cp and mv. */
async function resolveTarget(store: EmbeddedStore, target: string, name: string): Promise<string> {
  return (await store.stat(target))?.type === 'collection' ? joinPath(store.normalize(target), name) : target;
}

async function longLine(store: EmbeddedStore, e: StoreEntry): Promise<string> {
  const acl = (await store.getAcl(e.path)).map((a) => `${a.name}:${a.level}`).join(',');
  const type = e.type === 'collection' ? 'C' : 'O';
  const inherit = e.type === 'collection' ? (e.inherit ? 'inherit' : 'noinherit') : '-';
  return [type, e.owner, String(e.size), e.checksum ?? '-', inherit, acl || '-', e.path].join('\t');
}

/** A one-line progress display on stderr, only when it is a terminal. */
function progress(label: string): { update(files: number, bytes: number, total?: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let last = 0;
  return {
    update(files, bytes, total) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const mb = bytes / 1e6;
      const rate = mb / Math.max((now - start) / 1000, 0.001);
      let bar = '';
      if (total) {
        const width = 30;
        const filled = Math.round((Math.min(bytes / total, 1)) * width);
        bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor((bytes / total) * 100)}% `;
      }
      process.stderr.write(`\r${label} ${bar}${files} files ${mb.toFixed(1)} MB ${rate.toFixed(1)} MB/s\u001b[K`);
    },
    done() {
      if (tty && last > 0) process.stderr.write('\r\u001b[K');
    },
  };
}

const LEVELS: readonly AccessLevel[] = ['null', 'read', 'write', 'own'];

/** Registers `taskflow store` and its subcommands on `program`. */
export function registerStoreCommands(program: Command): void {
  const store = program
    .command('store')
    .description('the embedded data store (TASKFLOW_DATA_DIR, zone TASKFLOW_IRODS_ZONE)')
    .showHelpAfterError(false)
    .configureOutput({
      outputError: (str, write) => write(`taskflow store: ${str.replace(/^error: /, '').split('\n')[0]}\n`),
    });

  store
    .command('ls')
    .description('list a collection (or show an object)')
    .option('-l, --long', 'type, owner, size, checksum, inheritance, ACL, path (tab-separated)')
    .option('-r, --recursive', 'the whole subtree, as full paths')
    .argument('<path>')
    .action(
      action(async (path: string, opts: { long?: boolean; recursive?: boolean }) =>
        withStore(async (s) => {
          const entry = await s.stat(path);
          if (!entry) throw new StoreCommandError(`not found: ${s.normalize(path)}`);
          const entries = entry.type === 'object' ? [entry] : await s.list(path, { recursive: opts.recursive });
          for (const e of entries) {
            if (opts.long) out(await longLine(s, e));
            else if (opts.recursive || entry.type === 'object') out(e.path + (e.type === 'collection' ? '/' : ''));
            else out(relativePath(e.path, entry.path) + (e.type === 'collection' ? '/' : ''));
          }
        }),
      ),
    );

  store
    .command('mkdir')
    .description('create a collection')
    .option('-p, --parents', 'create missing parents; no error when it exists')
    .argument('<path>')
    .action(
      action(async (path: string, opts: { parents?: boolean }) =>
        withStore(async (s) => {
          const created = await s.createCollection(path, { parents: opts.parents });
          if (created.length === 0 && !opts.parents) throw new StoreCommandError(`collection already exists: ${s.normalize(path)}`);
        }),
      ),
    );

  store
    .command('put')
    .description('upload a local file, or a folder recursively (into PATH when it is a collection)')
    .option('-f, --force', 'overwrite existing objects')
    .argument('<local>')
    .argument('<path>')
    .action(
      action(async (local: string, path: string, opts: { force?: boolean }) =>
        withStore(async (s) => {
          let st;
          try {
            st = statSync(local);
          } catch {
            throw new StoreCommandError(`no such local file or folder: ${local}`);
          }
          const target = await resolveTarget(s, path, basename(local));
          const bar = progress(basename(local));
          try {
            if (st.isDirectory()) {
              await s.putTree(local, target, {
                overwrite: opts.force,
                onProgress: ({ files, bytes }) => bar.update(files, bytes),
              });
            } else {
              await s.putObject(target, local, {
                overwrite: opts.force,
                onProgress: (bytes) => bar.update(0, bytes, st.size),
              });
            }
          } finally {
            bar.done();
          }
        }),
      ),
    );

  store
    .command('get')
    .description('download an object, or a collection recursively')
    .argument('<path>')
    .argument('<local>')
    .action(
      action(async (path: string, local: string) =>
        withStore(async (s) => {
          const entry = await s.stat(path);
          if (!entry) throw new StoreCommandError(`not found: ${s.normalize(path)}`);
          let dest = local;
          try {
            if (statSync(local).isDirectory()) dest = join(local, basename(entry.path));
          } catch {
            // a new local name
          }
          if (entry.type === 'object') {
            await pipeline(await s.getObject(entry.path), createWriteStream(dest, { flags: 'wx' }));
            return;
          }
          mkdirSync(dest);
          for (const e of await s.list(entry.path, { recursive: true })) {
            const file = join(dest, ...relativePath(e.path, entry.path).split('/'));
            if (e.type === 'collection') mkdirSync(file);
            else await pipeline(await s.getObject(e.path), createWriteStream(file, { flags: 'wx' }));
          }
        }),
      ),
    );

  store
    .command('mv')
    .description('move or rename an object or collection (into DST when it is a collection)')
    .argument('<src>')
    .argument('<dst>')
    .action(
      action(async (src: string, dst: string) =>
        withStore(async (s) => {
          const from = s.normalize(src);
          await s.move(from, await resolveTarget(s, dst, from.slice(from.lastIndexOf('/') + 1)));
        }),
      ),
    );

  store
    .command('rm')
    .description('remove an object, or a collection with -r')
    .option('-r, --recursive', 'remove a collection and everything in it')
    .argument('<path>')
    .action(
      action(async (path: string, opts: { recursive?: boolean }) =>
        withStore(async (s) => {
          const entry = await s.stat(path);
          if (!entry) throw new StoreCommandError(`not found: ${s.normalize(path)}`);
          if (entry.type === 'object') await s.removeObject(entry.path);
          else if (!opts.recursive) throw new StoreCommandError(`${entry.path} is a collection: use rm -r`);
          else await s.removeCollection(entry.path, { recursive: true });
        }),
      ),
    );

  const meta = store.command('meta').description('metadata (AVUs) of a collection or object');
  meta
    .command('ls')
    .argument('<path>')
    .description('list AVUs as attribute, value, unit (tab-separated)')
    .action(
      action(async (path: string) =>
        withStore(async (s) => {
          for (const a of await s.getMetadata(path)) out([a.attribute, a.value, a.unit].join('\t'));
        }),
      ),
    );
  for (const [name, what] of [
    ['add', 'add an AVU'],
    ['set', 'set an attribute to this one value (replacing its values)'],
    ['rm', 'remove an AVU'],
  ] as const) {
    meta
      .command(name)
      .description(what)
      .argument('<path>')
      .argument('<attribute>')
      .argument('<value>')
      .argument('[unit]', 'unit', '')
      .action(
        action(async (path: string, attribute: string, value: string, unit: string) =>
          withStore(async (s) => {
            await s.modifyMetadata(path, name, { attribute, value, unit });
          }),
        ),
      );
  }

  store
    .command('chmod')
    .description(`set a user's or group's access: ${LEVELS.join(', ')} (null removes it)`)
    .option('-r, --recursive', 'also everything below a collection')
    .argument('<level>')
    .argument('<name>', 'user or group')
    .argument('<path>')
    .action(
      action(async (level: string, name: string, path: string, opts: { recursive?: boolean }) =>
        withStore(async (s) => {
          if (!LEVELS.includes(level as AccessLevel)) {
            throw new StoreCommandError(`unknown access level "${level}" (use ${LEVELS.join(', ')})`);
          }
          await s.setAccess(path, name, level as AccessLevel, { recursive: opts.recursive });
        }),
      ),
    );

  store
    .command('inherit')
    .description('switch ACL inheritance of a collection on or off')
    .option('-r, --recursive', 'also every collection below')
    .argument('<state>', 'on or off')
    .argument('<path>')
    .action(
      action(async (state: string, path: string, opts: { recursive?: boolean }) =>
        withStore(async (s) => {
          if (state !== 'on' && state !== 'off') throw new StoreCommandError(`expected on or off, got "${state}"`);
          await s.setInheritance(path, state === 'on', { recursive: opts.recursive });
        }),
      ),
    );

  const user = store.command('user').description('users');
  user
    .command('ls')
    .description('list users as name and type (tab-separated)')
    .action(
      action(async () =>
        withStore(async (s) => {
          for (const u of await s.listPrincipals('user')) out(`${u.name}\t${u.userType}`);
        }),
      ),
    );
  user
    .command('add')
    .option('--admin', 'a rodsadmin instead of a rodsuser')
    .argument('<name>')
    .action(
      action(async (name: string, opts: { admin?: boolean }) =>
        withStore((s) => s.createPrincipal(name, opts.admin ? 'rodsadmin' : 'rodsuser')),
      ),
    );
  user
    .command('rm')
    .argument('<name>')
    .action(action(async (name: string) => withStore((s) => s.removePrincipal(name, 'user'))));
  user
    .command('passwd')
    .description("set a user's password for the iRODS protocol, read as the first line of standard input (never from the command line)")
    .option('--remove', 'remove the password: the user can then not log in')
    .argument('<name>')
    .action(
      action(async (name: string, opts: { remove?: boolean }) => {
        let password: string | null = null;
        if (!opts.remove) {
          const { readFirstLine } = await import('./irods.js');
          if (process.stdin.isTTY) process.stderr.write(`New iRODS password for "${name}" (the line is shown as you type): `);
          password = await readFirstLine();
          if (password !== password.trim()) {
            // python-irodsclient 0.8.1 strips the password before hashing it (connection.py _login_native)
            throw new StoreCommandError('a password must not start or end with spaces: python-irodsclient strips them, so it could never log in');
          }
        }
        await withStore(async (s) => s.setPassword(name, password));
        out(password === null ? `Password of "${name}" removed` : `Password of "${name}" set`);
      }),
    );

  const group = store.command('group').description('groups and their members');
  group
    .command('ls')
    .action(
      action(async () =>
        withStore(async (s) => {
          for (const g of await s.listPrincipals('group')) out(g.name);
        }),
      ),
    );
  group
    .command('add')
    .argument('<name>')
    .action(action(async (name: string) => withStore((s) => s.createPrincipal(name, 'rodsgroup'))));
  group
    .command('rm')
    .argument('<name>')
    .action(action(async (name: string) => withStore((s) => s.removePrincipal(name, 'group'))));
  group
    .command('members')
    .argument('<group>')
    .action(
      action(async (name: string) =>
        withStore(async (s) => {
          for (const m of await s.groupMembers(name)) out(m);
        }),
      ),
    );
  group
    .command('addmember')
    .argument('<group>')
    .argument('<user>')
    .action(action(async (g: string, u: string) => withStore((s) => s.addGroupMember(g, u))));
  group
    .command('rmmember')
    .argument('<group>')
    .argument('<user>')
    .action(action(async (g: string, u: string) => withStore((s) => s.removeGroupMember(g, u))));

  store
    .command('checksum')
    .description('MD5 of an object, or of every object below a collection ("<md5>  <path>")')
    .option('--verify', 'recompute from the stored bytes and compare with the catalog')
    .argument('<path>')
    .action(
      action(async (path: string, opts: { verify?: boolean }) =>
        withStore(async (s) => {
          const entry = await s.stat(path);
          if (!entry) throw new StoreCommandError(`not found: ${s.normalize(path)}`);
          const entries = entry.type === 'object' ? [entry] : (await s.list(entry.path, { recursive: true })).filter((e) => e.type === 'object');
          const actual = opts.verify ? await s.computeChecksums(entries.map((e) => e.path)) : undefined;
          let bad = 0;
          entries.forEach((e, i) => {
            if (actual && actual[i] !== e.checksum) {
              bad++;
              out(`MISMATCH  ${e.path}  catalog ${e.checksum} bytes ${actual[i]}`);
            } else out(`${e.checksum}  ${e.path}`);
          });
          if (bad > 0) throw new StoreCommandError(`${bad} checksum mismatch${bad === 1 ? '' : 'es'} below ${entry.path}`);
        }),
      ),
    );

  store
    .command('fsck')
    .description('compare catalog and vault; exit 1 while problems remain')
    .option('--repair', 'remove crash leftovers: vault files no catalog row refers to, and objects a parallel put registered whose server ended before finishing them')
    .action(
      action(async (opts: { repair?: boolean }) =>
        withStore(async (s) => {
          const report = await s.fsck({ repair: opts.repair });
          for (const p of report.missingFiles) out(`missing file for ${p}`);
          for (const f of report.orphanFiles) out(`${opts.repair ? 'removed' : 'orphan'} ${f}`);
          const left = report.missingFiles.length + report.orphanFiles.length - report.repaired;
          if (left > 0) {
            const parts = [];
            if (report.missingFiles.length) parts.push(`${report.missingFiles.length} object(s) without vault file`);
            if (report.orphanFiles.length - report.repaired) parts.push(`${report.orphanFiles.length - report.repaired} crash leftover(s) (use --repair)`);
            throw new StoreCommandError(`fsck found ${parts.join(' and ')}`);
          }
          out(report.repaired > 0 ? `ok (removed ${report.repaired} crash leftover(s))` : 'ok');
        }),
      ),
    );

  store
    .command('serve')
    .description('serve the store over the iRODS protocol alone (no flow service) until SIGTERM or SIGINT; prints "irods listening on HOST:PORT" when ready')
    .option('--listen <host:port>', 'address to listen on (overrides TASKFLOW_IRODS_LISTEN; port 0 = any free port)')
    .action(
      action(async (opts: { listen?: string }) => {
        const [{ loadConfig, parseListen }, { openEmbeddedStore }, irods, { exitOnSignals }, { pino }] = await Promise.all([
          import('../config.js'),
          import('../store/index.js'),
          import('./irods.js'),
          import('./process.js'),
          import('pino'),
        ]);
        const config = loadConfig();
        const address = opts.listen !== undefined ? parseListen('--listen', opts.listen) : config.irodsListen;
        if (!address) throw new StoreCommandError('the iRODS protocol server is off (TASKFLOW_IRODS_LISTEN=off); give --listen HOST:PORT');
        const s = await openEmbeddedStore(config);
        // stdout carries only the ready line; logs go to stderr
        const log = pino({ level: config.logLevel, base: { name: 'taskflow-store' } }, pino.destination({ dest: 2, sync: true }));
        const server = await irods.startProtocolServer(config, s, address, log).catch(async (err: unknown) => {
          await s.close();
          throw err;
        });
        exitOnSignals(
          async () => {
            await server.close();
            await s.close();
          },
          (signal) => `taskflow store: ${signal} received, stopping the iRODS protocol server`,
        );
        // after the signal handlers: a signal sent on seeing this line stops the server cleanly
        out(`irods listening on ${irods.formatAddress(server.address)}`);
      }),
    );

  store
    .command('dump')
    .description('the whole catalog as sorted JSON lines')
    .action(
      action(async () =>
        withStore(async (s) => {
          const lines = await s.dump();
          if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
        }),
      ),
    );
}
