/**
 * Rules every removal over the protocol shares (data objects and
 * collections): admin mode is for rodsadmins, and when a removal skips the
 * trash.
 *
 * @module
 */
import { isInside } from '../../store/paths.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { KW } from './requests.js';

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
