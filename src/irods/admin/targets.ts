/**
 * What a metadata or access request names, checked before anything is read
 * or changed: a logical path of this zone, and the kinds of item `imeta`
 * names with its type flag (`-d` object, `-C` collection, `-R` resource,
 * `-u` user; iRODS 4.3.5 `db_plugin.cpp` `convertTypeOption` takes either case).
 *
 * @module
 */
import { InvalidPathError } from '../../store/errors.js';
import { LEVELS } from '../../store/embedded/schema.js';
import type { ApiContext } from '../server/api.js';
import type { NeededLevel } from '../permissions.js';
import { IrodsError } from '../wire/irods-error.js';
import { localName } from './user-names.js';

/** The kind of item a metadata request names. */
export type ItemKind = 'object' | 'collection' | 'resource' | 'user';

const FLAGS: Record<string, ItemKind> = {
  '-d': 'object',
  '-D': 'object',
  '-c': 'collection',
  '-C': 'collection',
  '-r': 'resource',
  '-R': 'resource',
  '-u': 'user',
  '-U': 'user',
};

/** The kind a type flag names; `CAT_INVALID_ARGUMENT` for another flag. */
export function itemKind(flag: string): ItemKind {
  const kind = FLAGS[flag];
  if (!kind) throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown item type ${JSON.stringify(flag)} (use -d, -C, -R or -u)`);
  return kind;
}

/** A logical path of this zone, normalised; `USER_INPUT_PATH_ERR` naming the broken rule otherwise. */
export function zonePath(ctx: ApiContext, given: string): string {
  try {
    return ctx.store.normalize(given);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new IrodsError('USER_INPUT_PATH_ERR', err.message);
    throw err;
  }
}

/**
 * The path of the object or collection a metadata request names, once the
 * caller is known to hold `need` on it. As an iRODS catalog answers
 * (4.3.5 `mid_level_routines.cpp` `cmlCheckDataObjOnly`, `cmlCheckDir`):
 * `CAT_UNKNOWN_FILE` / `CAT_UNKNOWN_COLLECTION` when no item of that kind is
 * there, `CAT_NO_ACCESS_PERMISSION` when the level is too low. Users and
 * resources: a `rodsadmin` only (`CAT_INSUFFICIENT_PRIVILEGE_LEVEL`), and
 * this store keeps no metadata on either, so an existing user or resource
 * is answered with `SYS_NOT_SUPPORTED`, an unknown one `CAT_INVALID_USER` or
 * `CAT_INVALID_RESOURCE`.
 */
export async function metadataTarget(ctx: ApiContext, flag: string, name: string, need: NeededLevel): Promise<string> {
  const kind = itemKind(flag);
  if (kind === 'user' || kind === 'resource') {
    if (!ctx.access.isAdmin(ctx.user)) {
      throw new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `metadata on a ${kind} needs a rodsadmin; ${ctx.user.name} is not one`);
    }
    if (kind === 'resource') {
      if (!ctx.store.resourceExists(name)) throw new IrodsError('CAT_INVALID_RESOURCE', `no resource ${name}`);
      throw new IrodsError('SYS_NOT_SUPPORTED', `this store keeps metadata on collections and data objects only, not on resources such as ${name}`);
    }
    const user = localName(name, '', ctx.store.zone, 'CAT_INVALID_USER');
    if (!(await ctx.store.getPrincipal(user))) throw new IrodsError('CAT_INVALID_USER', `no user or group ${user}`);
    throw new IrodsError('SYS_NOT_SUPPORTED', `this store keeps metadata on collections and data objects only, not on users such as ${user}`);
  }
  const path = zonePath(ctx, name);
  const found = ctx.access.level(ctx.user, path);
  if (!found || found.entry.kind !== (kind === 'object' ? 'o' : 'c')) {
    throw kind === 'object'
      ? new IrodsError('CAT_UNKNOWN_FILE', `no data object ${path}`)
      : new IrodsError('CAT_UNKNOWN_COLLECTION', `no collection ${path}`);
  }
  if (found.level < LEVELS[need]) {
    throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${ctx.user.name} needs ${need} access on ${path} to change its metadata`);
  }
  return path;
}
