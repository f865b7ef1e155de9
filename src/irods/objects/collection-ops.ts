/**
 * Collection create (`COLL_CREATE_AN` 681) and removal (`RM_COLL_AN` 679).
 *
 * As iRODS 4.3.5 decides (`rsCollCreate.cpp`, `rsRmColl.cpp`,
 * `db_plugin.cpp` `db_reg_coll_op` / `_delColl`): creating needs write on
 * the collection it goes into; removing an empty collection (no
 * `recursiveOpr`) needs write on its parent and `delete_object` (here `own`)
 * on it, and is for good; a recursive removal without `forceFlag` moves the
 * collection into the user's trash and needs `own` on it and on every data
 * object in it (`rsMvCollToTrash`); a forced one removes everything, needs
 * `own` on every entry below and write on the parent, and reports progress
 * every ten objects as iRODS does (`_rsPhyRmColl`, `FILE_CNT_PER_STAT_OUT`),
 * each report answered by the client before the next.
 *
 * Unregistering (`oprType` 26, `irm -U`, python-irodsclient's
 * `unregister`) is a forced removal here (see {@link refuseUnregisterOfUser}).
 *
 * Unlike iRODS, which removes entry by entry and stops halfway at the first
 * it may not remove, a removal here checks everything first and is one
 * catalog transaction: all or nothing. The progress reports follow it.
 *
 * @module
 */
import { subtreeRange } from '../../store/embedded/catalog.js';
import { parentPath } from '../../store/paths.js';
import type { ApiContext, ApiReply } from '../server/api.js';
import type { PiMessage } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';
import { logicalPath } from './logical-path.js';
import { refuseAdminModeOfUser, removesForGood } from './removal-rules.js';
import { entryAt, firstNotOwnedBelow, requireLevel } from './permission-checks.js';
import { UNREG_OPR } from './object-ops.js';
import { KW, type CollRequest } from './requests.js';
import { answering } from './store-errors.js';

/** The status of a progress reply of a removal, and the client's answer to go on (iRODS 4.3.5 `rodsDef.h`). */
export const SYS_SVR_TO_CLI_COLL_STAT = 99999996;
export const SYS_CLI_TO_SVR_COLL_STAT_REPLY = 99999997;
/** Objects removed per progress reply (iRODS 4.3.5 `objInfo.h` `FILE_CNT_PER_STAT_OUT`). */
export const FILES_PER_PROGRESS_REPLY = 10;

/** A `CollOprStat_PI` (iRODS 4.3.5 `rodsPackInstruct.h` field order). */
export function collOprStat(filesCnt: number, totalFileCnt: number, lastObjPath: string): PiMessage {
  return { name: 'CollOprStat_PI', fields: { filesCnt, totalFileCnt, bytesWritten: 0, lastObjPath } };
}

/** Creates a collection; with `recursiveOpr` its missing parents too, and an existing collection is then no error. */
export async function createCollection(ctx: ApiContext, req: CollRequest): Promise<void> {
  const path = logicalPath(ctx.store, req.collName);
  const recursive = req.keywords.has(KW.recursive);
  const found = entryAt(ctx, path);
  if (found) {
    if (found.row.kind === 'o') throw new IrodsError('CAT_NAME_EXISTS_AS_DATAOBJ', `${path} is a data object`);
    if (recursive) return;
    throw new IrodsError('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME', `collection ${path} exists`);
  }
  // the collection the new ones go into: the parent, or with recursiveOpr the nearest existing ancestor
  let into = parentPath(path);
  let coll = entryAt(ctx, into);
  while (!coll && recursive && into !== '/') {
    into = parentPath(into);
    coll = entryAt(ctx, into);
  }
  if (!coll) throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${parentPath(path)} does not exist`);
  if (coll.row.kind === 'o') throw new IrodsError('CAT_NAME_EXISTS_AS_DATAOBJ', `${into} is a data object, not a collection`);
  requireLevel(ctx, into, coll.level, 'write', `create ${path} in it`);
  await answering(() => ctx.store.createCollection(path, { parents: recursive, owner: ctx.user.name }));
}

/** Write on the parent of `path`, which removing `path` for good needs. */
function requireParentWrite(ctx: ApiContext, path: string): void {
  const parent = parentPath(path);
  const coll = entryAt(ctx, parent);
  requireLevel(ctx, parent, coll?.level ?? 0, 'write', `remove ${path} from it`);
}

/**
 * Unregistering a collection (`oprType` {@link UNREG_OPR}) removes it for
 * good with its objects' vault copies, as a forced removal does; iRODS 4.3.5
 * unregisters each object of it as `rsDataObjUnlink` does, which refuses
 * anyone but a rodsadmin an object in a vault, and every object here is.
 */
function refuseUnregisterOfUser(ctx: ApiContext, path: string): void {
  if (ctx.access.isAdmin(ctx.user)) return;
  const core = ctx.store.protocolCore();
  const [lo, hi] = subtreeRange(path);
  const first = core.q.objectPathsPage.get({ lo, hi, after: lo, limit: 1 });
  if (first !== undefined) {
    throw new IrodsError('CANT_UNREG_IN_VAULT_FILE', `${first} lies in the store's vault: only a rodsadmin may unregister it, so ${path} is not unregistered`);
  }
}

/** Removes a collection (see the module comment); answers the final `CollOprStat_PI`. */
export async function removeCollection(ctx: ApiContext, req: CollRequest): Promise<ApiReply> {
  const path = logicalPath(ctx.store, req.collName);
  refuseAdminModeOfUser(ctx, req.keywords);
  const found = entryAt(ctx, path);
  if (!found || found.row.kind !== 'c') throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${path} does not exist`);
  const done = { status: 0, body: collOprStat(1, 1, path) };
  if (!req.keywords.has(KW.recursive)) {
    requireParentWrite(ctx, path);
    requireLevel(ctx, path, found.level, 'own', 'remove it');
    await answering(() => ctx.store.removeCollection(path));
    return done;
  }
  requireLevel(ctx, path, found.level, 'own', 'remove it');
  const unregister = req.oprType === UNREG_OPR;
  if (unregister) refuseUnregisterOfUser(ctx, path);
  if (!unregister && !removesForGood(ctx, path, req.keywords)) {
    const notOwned = firstNotOwnedBelow(ctx, path, true);
    if (notOwned !== undefined) throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${ctx.user.name} needs own access on ${notOwned} to remove ${path}`);
    await answering(() => ctx.store.trash(path, { user: ctx.user.name }));
    return done;
  }
  requireParentWrite(ctx, path);
  const notOwned = firstNotOwnedBelow(ctx, path, false);
  if (notOwned !== undefined) throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${ctx.user.name} needs own access on ${notOwned} to remove ${path}`);
  const core = ctx.store.protocolCore();
  if (parentPath(path) === `${core.zoneRoot}/home` && core.q.firstChild.get(found.row.id)) {
    throw new IrodsError('CANT_RM_NON_EMPTY_HOME_COLL', `${path} is a home collection and not empty`);
  }
  const { reports, rest } = progressReports(ctx, path);
  await answering(() => ctx.store.removeCollection(path, { recursive: true }));
  for (const lastObjPath of reports) {
    const answer = await ctx.connection.exchange({ status: SYS_SVR_TO_CLI_COLL_STAT, body: collOprStat(FILES_PER_PROGRESS_REPLY, 0, lastObjPath) });
    if (answer !== SYS_CLI_TO_SVR_COLL_STAT_REPLY) {
      throw new IrodsError('UNMATCHED_KEY_OR_INDEX', `the client answered a progress report of removing ${path} with ${answer}, not ${SYS_CLI_TO_SVR_COLL_STAT_REPLY}; ${path} was removed`);
    }
  }
  return { status: 0, body: collOprStat(rest, 0, '') };
}

/**
 * The progress reports a removal of `path` makes: the last object of each
 * full ten, and how many objects follow the last report. Streams the object
 * paths; keeps one in ten.
 */
function progressReports(ctx: ApiContext, path: string): { reports: string[]; rest: number } {
  const core = ctx.store.protocolCore();
  const [lo, hi] = subtreeRange(path);
  const reports: string[] = [];
  let count = 0;
  core.read(() => {
    for (const objectPath of core.q.objectPathsPage.iterate({ lo, hi, after: lo, limit: -1 })) {
      if (++count % FILES_PER_PROGRESS_REPLY === 0) reports.push(objectPath);
    }
  });
  return { reports, rest: count % FILES_PER_PROGRESS_REPLY };
}
