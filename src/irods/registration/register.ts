/**
 * Registration of files already on the server (`PHY_PATH_REG_AN`, as
 * `ireg` and python-irodsclient 0.8.1's `data_objects.register` /
 * `collections.register` send it: a `DataObjInp_PI` whose `objPath` is the
 * new logical path and whose `filePath` keyword names the server file, with
 * `collection` for a folder).
 *
 * An iRODS server registers in place: the catalog points at the file where
 * it lies. This store keeps bytes only in its own vault, so registering
 * copies the file's bytes into the vault (or the resource `destRescName`
 * names, as for any new object) as a new object, with its MD5, and
 * the server file is never changed or removed, also not when the object is
 * unregistered (which removes the object and the vault copy). A folder is
 * registered all or nothing: every file is copied first, then one catalog
 * transaction adds the collections and objects (iRODS goes file by file and
 * keeps what it managed).
 *
 * Who may: a `rodsadmin` only, as on an iRODS server whose policy
 * (`acSetChkFilePathPerm`, 4.3.5 default `disallowPathReg`) refuses anyone
 * else with `PATH_REG_NOT_ALLOWED`; python-irodsclient 0.8.1 does not know
 * that code, so the refusal is `CAT_INSUFFICIENT_PRIVILEGE_LEVEL`, what
 * iRODS answers a user for mounting a folder. What a rodsadmin may read is
 * bounded by `server-files.ts`.
 *
 * @module
 */
import type { Staged } from '../../store/embedded/vault.js';
import { createCollectionIn } from '../../store/embedded/collections.js';
import type { PendingObject } from '../../store/embedded/objects.js';
import { joinPath, parentPath } from '../../store/paths.js';
import { logicalPath } from '../objects/logical-path.js';
import { entryAt, requireLevel } from '../objects/permission-checks.js';
import { resourceForWrite } from '../objects/placement.js';
import { KW, type DataObjRequest } from '../objects/requests.js';
import { asIrodsError } from '../objects/store-errors.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { checkPhysicalPath, ForbiddenRoots, openServerFile, serverTree } from './server-files.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const PHY_PATH_REG_AN = 630;

/** Keywords of a registration (iRODS 4.3.5 `rodsKeyWdDef.h`). */
export const REG_KW = {
  filePath: 'filePath',
  collection: 'collection',
} as const;

/** Kinds of registration this store has no place for, by keyword (iRODS 4.3.5 `rodsKeyWdDef.h`). */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  collectionType: 'mounted, linked and structured-file collections are not kept',
  regRepl: 'objects have one replica, in the vault',
  registerAsIntermediate: 'objects have one replica, in the vault',
  excludeFile: 'exclude patterns are not read',
};

/** Registers the server file or folder of `req` (see the module comment). */
export async function registerPhysicalPath(ctx: ApiContext, req: DataObjRequest): Promise<void> {
  if (!ctx.access.isAdmin(ctx.user)) {
    throw new IrodsError(
      'CAT_INSUFFICIENT_PRIVILEGE_LEVEL',
      `registering server files is for rodsadmins; ${ctx.user.name} is not one (iRODS: PATH_REG_NOT_ALLOWED)`,
    );
  }
  for (const [key, reason] of Object.entries(UNSUPPORTED)) {
    if (req.keywords.has(key)) throw new IrodsError('SYS_NOT_SUPPORTED', `registration with ${key} is not served: ${reason}`);
  }
  const target = logicalPath(ctx.store, req.objPath);
  const file = req.keywords.get(REG_KW.filePath) ?? '';
  checkPhysicalPath(file);
  const forbidden = await ForbiddenRoots.of(ctx.store.dataDir);
  // the copies go to the resource the client names, as new objects do (destRescName)
  const resource = ctx.store.protocolCore().read(() => resourceForWrite(ctx, null, req.keywords));
  if (req.keywords.has(REG_KW.collection)) await registerFolder(ctx, file, target, req.keywords.has(KW.force), forbidden, resource);
  else await registerFile(ctx, file, target, forbidden, resource);
}

/** Throws unless a new data object may go to `path`: nothing there, its collection there and writable. */
function requireNewObject(ctx: ApiContext, path: string): void {
  const found = entryAt(ctx, path);
  if (found) {
    if (found.row.kind === 'c') throw new IrodsError('CAT_NAME_EXISTS_AS_COLLECTION', `${path} is a collection`);
    throw new IrodsError('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME', `data object ${path} exists`);
  }
  requireCollectionWritable(ctx, parentPath(path), `register ${path} in it`);
}

function requireCollectionWritable(ctx: ApiContext, coll: string, what: string): void {
  const found = entryAt(ctx, coll);
  if (!found || found.row.kind !== 'c') throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${coll} does not exist`);
  requireLevel(ctx, coll, found.level, 'write', what);
}

async function registerFile(ctx: ApiContext, file: string, target: string, forbidden: ForbiddenRoots, resource: string | undefined): Promise<void> {
  requireNewObject(ctx, target);
  const staged = await copyIntoVault(ctx, file, forbidden, resource);
  commit(ctx, [], [{ path: target, staged, owner: ctx.user.name }], { check: () => requireNewObject(ctx, target) });
  ctx.log.info({ path: target, size: staged.size }, 'server file registered (copied into the vault or the resource asked for)');
}

/**
 * Registers a server folder as the collection `target` (created when
 * missing, as iRODS does; an existing one is registered into), its
 * subfolders as collections and its regular files as objects. With
 * `forceFlag`, files whose object exists are left out, as iRODS leaves them.
 */
async function registerFolder(
  ctx: ApiContext,
  dir: string,
  target: string,
  force: boolean,
  forbidden: ForbiddenRoots,
  resource: string | undefined,
): Promise<void> {
  const existing = entryAt(ctx, target);
  if (existing?.row.kind === 'o') throw new IrodsError('CAT_NAME_EXISTS_AS_DATAOBJ', `${target} is a data object`);
  if (existing) requireLevel(ctx, target, existing.level, 'write', `register ${dir} into it`);
  else requireCollectionWritable(ctx, parentPath(target), `register ${target} in it`);

  const collections = [target];
  const items: PendingObject[] = [];
  try {
    for await (const item of serverTree(dir, forbidden)) {
      const path = logicalPath(ctx.store, joinPath(target, item.rel));
      // what is in the way fails the registration before any more bytes are copied
      const there = entryAt(ctx, path)?.row.kind;
      if (item.kind === 'dir') {
        if (there === 'o') throw new IrodsError('CAT_NAME_EXISTS_AS_DATAOBJ', `${path} is a data object, where ${item.path} would be a collection`);
        collections.push(path);
        continue;
      }
      if (there === 'c') throw new IrodsError('CAT_NAME_EXISTS_AS_COLLECTION', `${path} is a collection, where ${item.path} would be a data object`);
      if (there === 'o') {
        if (force) continue;
        throw new IrodsError('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME', `data object ${path} exists (forceFlag leaves it and registers the rest)`);
      }
      items.push({ path, staged: await copyIntoVault(ctx, item.path, forbidden, resource), owner: ctx.user.name });
    }
  } catch (err) {
    for (const it of items) ctx.store.vault.discard(it.staged);
    throw err;
  }
  commit(ctx, collections, items, force ? { keep: (it) => entryAt(ctx, it.path)?.row.kind !== 'o' } : {});
  ctx.log.info({ path: target, objects: items.length, collections: collections.length }, 'server folder registered (copied into the vault or the resource asked for)');
}

/**
 * Copies a server file's bytes into a vault temp file for `resource`,
 * hashing them; the caller commits or discards it. A registered object
 * always gets a vault file, small or not: a registration names a physical
 * file, and clients may look at the replica's path; and a folder's files,
 * all committed at its end, would otherwise be held in memory together.
 */
async function copyIntoVault(ctx: ApiContext, file: string, forbidden: ForbiddenRoots, resource: string | undefined): Promise<Staged> {
  const { handle } = await openServerFile(file, forbidden);
  try {
    return await ctx.store.vault.stage(handle.createReadStream({ autoClose: false, start: 0 }), { resource, inline: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === 'read') {
      throw new IrodsError('UNIX_FILE_READ_ERR', `cannot read ${file} on the server: ${(err as NodeJS.ErrnoException).code}; nothing was registered`);
    }
    throw err;
  } finally {
    await handle.close();
  }
}

/**
 * One catalog transaction: `check` (again, as the catalog may have changed
 * while bytes were copied), the collections (owned by the caller), then the
 * objects `keep` keeps. Every staged file not committed is discarded.
 */
function commit(
  ctx: ApiContext,
  collections: readonly string[],
  items: readonly PendingObject[],
  opts: { check?: () => void; keep?: (it: PendingObject) => boolean } = {},
): void {
  const core = ctx.store.protocolCore();
  const handedOver = new Set<PendingObject>();
  try {
    core.write(() => {
      opts.check?.();
      for (const c of collections) createCollectionIn(core, c, ctx.user.name, false);
      const kept = opts.keep ? items.filter(opts.keep) : items;
      // from here the store discards what it fails to commit
      for (const it of kept) handedOver.add(it);
      ctx.store.commitObjects(kept);
    });
  } catch (err) {
    throw asIrodsError(err);
  } finally {
    for (const it of items) if (!handedOver.has(it)) ctx.store.vault.discard(it.staged);
  }
}
