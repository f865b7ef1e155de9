/**
 * Storage resources: named vault folders beside the store's own vault, as
 * an iRODS zone's `unixfilesystem` resources are named vault folders.
 *
 * Every object's bytes are on exactly one resource: the store's vault,
 * which iRODS clients see as {@link DEFAULT_RESOURCE}, or one an
 * administrator made (`iadmin mkresc`, the protocol server's
 * `generalAdmin add resource`). A made resource's vault folder is
 * `<data folder>/resources/<name>`, chosen by the store: it keeps bytes
 * only inside its data folder. An object on one has the vault id
 * `<name>/<hex>` (`vault.ts`), so its id says where its file is; it stays
 * on its resource when rewritten, moved or renamed. A resource holding
 * objects cannot be removed.
 *
 * There are no replicas, hierarchies (compound, replication …) or other
 * plugins: one object, one file, on one resource.
 *
 * @module
 */
import * as fs from 'node:fs';
import type Database from 'better-sqlite3';
import { PRIVATE_DIR_MODE } from '../../private-files.js';
import { AlreadyExistsError, InvalidPathError, NotAllowedError, NotFoundError } from '../errors.js';
import type { StoreCore } from './core.js';

/** The name clients see for the store's own vault (iRODS's default resource name). */
export const DEFAULT_RESOURCE = 'demoResc';

/** A made resource as the catalog keeps it. */
export interface ResourceRow {
  name: string;
  /** The host name it was made with (one naming this machine). */
  host: string;
  /** The context string it was made with, kept for clients; the store reads nothing from it. */
  context: string;
  /** iRODS's 11-digit seconds since the epoch. */
  created: string;
}

/** Names as iRODS 4.3.5 takes them (no white space, under 64 bytes), and safe as a folder name. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

/** Throws InvalidPath for a name the store cannot use as a resource (and folder) name. */
export function checkResourceName(name: string): void {
  if (!NAME.test(name)) throw new InvalidPathError(name, 'a resource name is 1 to 63 letters, digits, _, . or -, and does not start with . or -');
}

/** The table (a catalog setup step). */
export function addResourceTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS resources (
    name    TEXT PRIMARY KEY,
    host    TEXT NOT NULL,
    context TEXT NOT NULL,
    created TEXT NOT NULL
  ) WITHOUT ROWID`);
}

/** The resource an object's vault id places it on. */
export function resourceOfVaultId(vaultId: string): string {
  const slash = vaultId.indexOf('/');
  return slash === -1 ? DEFAULT_RESOURCE : vaultId.slice(0, slash);
}

/** Whether resource `name` exists (the default one always does). */
export function resourceExists(core: StoreCore, name: string): boolean {
  return name === DEFAULT_RESOURCE || core.q.resourceMade.get(name) === 1;
}

/**
 * Throws NotFound unless resource `name` exists; for use inside a
 * transaction that places bytes on it, so a resource removed meanwhile
 * gets none.
 */
export function requireResourceIn(core: StoreCore, name: string): void {
  if (!resourceExists(core, name)) throw new NotFoundError(name, 'resource');
}

/** How many objects are on resource `name` (their ids sort between `name/` and `name0`). */
function objectsOn(core: StoreCore, name: string): number {
  return core.db.prepare(`SELECT count(*) FROM entries WHERE vault_id > ? AND vault_id < ?`).pluck().get(`${name}/`, `${name}0`) as number;
}

/** Read and change the made resources. */
export class Resources {
  constructor(private readonly core: StoreCore) {}

  /**
   * Makes resource `name` with its vault folder. InvalidPath for a bad
   * name, AlreadyExists for a taken one (the default's included).
   */
  add(name: string, host: string, context: string): void {
    const { core } = this;
    checkResourceName(name);
    if (name === DEFAULT_RESOURCE) throw new AlreadyExistsError(name, 'resource', 'the store vault');
    core.write(() => {
      if (resourceExists(core, name)) throw new AlreadyExistsError(name, 'resource');
      // the folder first: an object may be placed on the resource as soon as the row commits
      fs.mkdirSync(core.vault.resourceDir(name), { recursive: true, mode: PRIVATE_DIR_MODE });
      const created = String(Math.floor(Date.now() / 1000)).padStart(11, '0');
      core.db.prepare('INSERT INTO resources (name, host, context, created) VALUES (?, ?, ?, ?)').run(name, host, context, created);
    });
  }

  /**
   * Removes resource `name` and its vault folder; with `dryRun`, only checks
   * that it could. NotFound for no such resource, NotAllowed for the
   * default one or one holding objects.
   */
  remove(name: string, dryRun = false): void {
    const { core } = this;
    if (name === DEFAULT_RESOURCE) throw new NotAllowedError(name, 'the store vault is not removed');
    core.write(() => {
      requireResourceIn(core, name);
      const n = objectsOn(core, name);
      if (n > 0) throw new NotAllowedError(name, `resource ${name} holds ${n} data object(s); remove them first`);
      if (!dryRun) core.db.prepare('DELETE FROM resources WHERE name = ?').run(name);
    });
    // no object on it, and none can be placed now the row is gone: what the folder holds is leftovers
    if (!dryRun) core.vault.removeResourceDir(name);
  }

  /** The made resources, by name. */
  list(): ResourceRow[] {
    const { core } = this;
    return core.read(() => core.db.prepare('SELECT name, host, context, created FROM resources ORDER BY name').all() as ResourceRow[]);
  }

  /** Whether resource `name` exists (the default one always does). */
  exists(name: string): boolean {
    const { core } = this;
    return core.read(() => resourceExists(core, name));
  }
}
