/**
 * Rename and move of data objects and collections (`DATA_OBJ_RENAME_AN`
 * 627), including what iRODS does when a data object is renamed onto
 * another one with `forceFlag`: it removes that one first.
 *
 * The facts, from irods/irods `server/api/src/rsDataObjRename.cpp` (the
 * same logic at every tag from 4.2.9 to 4.2.12 and 4.3.0 to 4.3.5) and
 * `plugins/database/src/db_plugin.cpp` at 4.2.9:
 * - Only a request whose `oprType` is neither `RENAME_DATA_OBJ` (11) nor
 *   `RENAME_COLL` (12), such as 0, replaces anything: when its source is a
 *   data object, the destination is a data object and either side's
 *   keywords hold `forceFlag`, the destination is unlinked before the
 *   rename. With 11 or 12 the keyword is ignored and the catalog refuses
 *   the taken name (`CAT_NAME_EXISTS_AS_DATAOBJ` or `_AS_COLLECTION`,
 *   `db_rename_object_op` / `db_move_object_op`). iCommands' `imv` sends 11
 *   or 12; python-irodsclient 0.8.1's `data_objects.move` sends 11 on both
 *   sides and no keywords, so it never replaces.
 * - The unlink is forced, never to the trash: 4.2.9 sets `forceFlag` on
 *   the destination's input before calling `rsDataObjUnlink` ("The force
 *   flag ensures that unlink will not send the object to the trash").
 *   Before 4.2.9 (4.2.8) that branch read only the source's keywords,
 *   unlinked to the trash unless the destination's input was forced, and
 *   ignored the unlink's failure.
 * - It is `rsDataObjUnlink` on the destination's input (4.2.9), so the
 *   unlink's own checks apply and its failure is the rename's answer:
 *   `delete_object` on the target (`db_unreg_replica_op`; here `own`),
 *   admin mode only for a rodsadmin, and the logical lock: a target open
 *   for writing is refused (`INTERMEDIATE_REPLICA_ACCESS`).
 * - The target is found with `isData`, a GenQuery as the client: a data
 *   object the user cannot read (this server's access rule is strict) is
 *   not found, so not unlinked, and the rename answers
 *   `CAT_NAME_EXISTS_AS_DATAOBJ`. A collection is never unlinked: the
 *   rename answers `CAT_NAME_EXISTS_AS_COLLECTION`.
 * - The rename itself needs `own` on the data object or collection moved
 *   (4.2.9 `db_rename_object_op` / `db_move_object_op` ask for the token
 *   `own`; `getDataObjInfo` with `ACCESS_DELETE_OBJECT` first), and a move
 *   into another collection `modify object` (write) there (4.2.9
 *   `db_move_object_op`, `cmlCheckDir`); nothing on the source's
 *   collection.
 *
 * - A source data object open for writing is refused with
 *   `LOCKED_DATA_OBJECT_ACCESS` in that same branch (any `oprType` but 11
 *   and 12), after the source's `own` check and before the unlink, with or
 *   without `forceFlag` (`ill::try_lock(..., lock_type::write)`, which
 *   without a replica looks at the whole object). With 11 the released
 *   servers (4.2.9 to 4.3.5) take no lock: the open object moves, and its
 *   close writes the renamed object (see `write-claims.ts`). irods/irods'
 *   main after 4.3.5 locks there too; python-irodsclient's `move` then
 *   fails as well.
 *
 * Where this server differs: iRODS's unlink commits on its own before the
 * rename runs (4.2.9 `db_unreg_replica_op` commits), so a rename refused
 * after it, for example for want of write on the destination collection,
 * leaves the target gone. Here every check runs first and the removal and
 * the move are one catalog transaction: both happen or neither.
 *
 * @module
 */
import { LEVELS } from '../../store/embedded/schema.js';
import type { MoveFound } from '../../store/embedded/store.js';
import { isInside, parentPath } from '../../store/paths.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { logicalPath } from './logical-path.js';
import { noDataObject } from './open-close.js';
import { entryAt, requireLevel } from './permission-checks.js';
import { refuseAdminModeOfUser, requireRemovable } from './removal-rules.js';
import { KW, type DataObjRequest } from './requests.js';
import { answering } from './store-errors.js';
import { refuseWhileOpenForWrite } from './write-claims.js';

/** `oprType` of a rename (iRODS 4.2.9 and 4.3.5 `dataObjInpOut.h`); any other value lets the server find out. */
export const RENAME_DATA_OBJ = 11;
export const RENAME_COLL = 12;

/**
 * True when the request asks to replace a data object at the destination
 * (see the module's facts): an `oprType` that names no kind, and
 * `forceFlag` on either side.
 */
function asksToReplace(src: DataObjRequest, dest: DataObjRequest): boolean {
  if (src.oprType === RENAME_DATA_OBJ || src.oprType === RENAME_COLL) return false;
  return src.keywords.has(KW.force) || dest.keywords.has(KW.force);
}

/**
 * Renames or moves a data object (`oprType` 11) or a collection (12; any
 * other: whichever is at the source), keeping its id, ACL and metadata;
 * with `forceFlag` and an `oprType` of neither, over a data object, which
 * is removed for good in the same transaction.
 */
export async function renameEntry(ctx: ApiContext, src: DataObjRequest, dest: DataObjRequest): Promise<void> {
  const from = logicalPath(ctx.store, src.objPath);
  const to = logicalPath(ctx.store, dest.objPath);
  if (from === to) throw new IrodsError('SAME_SRC_DEST_PATHS_ERR', `${from} is both source and destination`);
  const overwrite = asksToReplace(src, dest);
  // the checks run in the move's transaction: no one changes the access, or either entry, in between
  const check = (found: MoveFound): void => checkRename(ctx, from, to, src.oprType, found, overwrite ? dest : undefined);
  await answering(() => ctx.store.moveChecked(from, to, { overwrite, check }));
}

/**
 * Throws what iRODS answers when the rename of `from` to `to` may not
 * happen, given what is at both paths. `replacing`: the destination's
 * request when the rename asks to replace a data object there.
 */
function checkRename(ctx: ApiContext, from: string, to: string, oprType: number, found: MoveFound, replacing: DataObjRequest | undefined): void {
  const { source, target } = found;
  if (oprType === RENAME_DATA_OBJ && source?.kind !== 'o') throw noDataObject(from);
  if (oprType === RENAME_COLL && source?.kind !== 'c') throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${from} does not exist`);
  if (!source) throw new IrodsError('USER_FILE_DOES_NOT_EXIST', `${from} does not exist`);
  requireLevel(ctx, from, ctx.access.levelOnEntry(ctx.user, source.id), 'own', 'rename it');
  if (source.kind === 'o' && oprType !== RENAME_DATA_OBJ) refuseWhileOpenForWrite(ctx.store.protocolCore(), from, source.id, 'rename', 'LOCKED_DATA_OBJECT_ACCESS');
  if (source.kind === 'c' && isInside(to, from)) throw new IrodsError('CAT_RECURSIVE_MOVE', `cannot move ${from} into itself (${to})`);
  if (target) {
    const level = ctx.access.levelOnEntry(ctx.user, target.id);
    // iRODS unlinks only a data object its GenQuery finds, for a data object moved there
    if (!replacing || source.kind !== 'o' || target.kind !== 'o' || level < LEVELS.read) {
      const code = target.kind === 'c' ? 'CAT_NAME_EXISTS_AS_COLLECTION' : 'CAT_NAME_EXISTS_AS_DATAOBJ';
      throw new IrodsError(code, `${to} exists`);
    }
    refuseAdminModeOfUser(ctx, replacing.keywords);
    requireRemovable(ctx, to, target, level, 'replace');
  }
  const targetColl = parentPath(to);
  const coll = entryAt(ctx, targetColl);
  if (!coll || coll.row.kind !== 'c') throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${targetColl} does not exist`);
  if (targetColl !== parentPath(from)) requireLevel(ctx, targetColl, coll.level, 'write', `move ${from} into it`);
}
