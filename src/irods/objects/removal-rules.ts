/**
 * Rules every removal over the protocol shares (data objects and
 * collections): admin mode is for rodsadmins, who may remove a data object,
 * and when a removal skips the trash.
 *
 * @module
 */
import type { EntryRow } from '../../store/embedded/catalog.js';
import { isInside } from '../../store/paths.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { requireLevel } from './permission-checks.js';
import { KW } from './requests.js';
import { refuseWhileOpenForWrite } from './write-claims.js';

/** Throws `CAT_INSUFFICIENT_PRIVILEGE_LEVEL` when a user who is not a rodsadmin asks for admin mode. */
export function refuseAdminModeOfUser(ctx: ApiContext, keywords: ReadonlyMap<string, string>): void {
  if ((keywords.has(KW.admin) || keywords.has(KW.adminRmTrash)) && !ctx.access.isAdmin(ctx.user)) {
    throw new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `admin mode needs a rodsadmin; ${ctx.user.name} is not one`);
  }
}

/**
 * True when a removal is for good: forced, or of something already in the
 * trash (removing from the trash is how it is emptied, as `irmtrash` does).
 */
export function removesForGood(ctx: ApiContext, path: string, keywords: ReadonlyMap<string, string>): boolean {
  return keywords.has(KW.force) || keywords.has(KW.rmTrash) || keywords.has(KW.adminRmTrash) || isInside(path, ctx.store.trashRoot);
}

/**
 * Throws unless the user may remove the data object `row` (at `path`, on
 * which they hold `level`), as iRODS's unlink decides (4.2.9 and later,
 * `rsDataObjUnlink.cpp` and `db_unreg_replica_op`): `delete_object`, which
 * here is `own` (see `permission-checks.ts`), and not while it is open for
 * writing (the logical lock, `INTERMEDIATE_REPLICA_ACCESS`). For unlinks,
 * and for the data object a forced rename replaces, which iRODS unlinks.
 * `doing` names the removal in the answers.
 */
export function requireRemovable(ctx: ApiContext, path: string, row: EntryRow, level: number, doing: string): void {
  requireLevel(ctx, path, level, 'own', `${doing} it`);
  refuseWhileOpenForWrite(ctx.store.protocolCore(), path, row.id, doing);
}
