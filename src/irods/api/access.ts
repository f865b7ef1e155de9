/**
 * MOD_ACCESS_CONTROL_AN 707: `ichmod [-r] [-M] LEVEL USER PATH` and
 * `ichmod [-r] inherit|noinherit COLLECTION` (`modAccessControlInp_PI`:
 * `recursiveFlag`, `accessLevel`, `userName`, `zone`, `path`). As iRODS
 * 4.3.5 `db_plugin.cpp` `db_mod_access_control_op` decides it: the caller
 * needs own on the path (a `rodsadmin` has it everywhere); recursion then
 * changes every entry below without asking about each (the catalog does it
 * in one statement); `admin:` before the level is the admin mode, refused
 * to anyone but a `rodsadmin` with `CAT_NO_ACCESS_PERMISSION`.
 *
 * @module
 */
import { NotFoundError } from '../../store/errors.js';
import { LEVELS } from '../../store/embedded/schema.js';
import type { AccessLevel } from '../../store/types.js';
import { storeCall } from '../admin/store-errors.js';
import { zonePath } from '../admin/targets.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { int, text } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const MOD_ACCESS_CONTROL_AN = 707;
/** iRODS 4.3.5 `modAccessControl.h` `MOD_ADMIN_MODE_PREFIX`. */
const ADMIN_PREFIX = 'admin:';

/** What one request changes: a principal's level, or a collection's inheritance. */
type Change = { level: AccessLevel } | { inherit: boolean };

/**
 * The level names clients send: `null`/`read`/`write`/`own` (ichmod,
 * python-irodsclient), the catalog's 4.3 names and their 4.2 spellings.
 */
const LEVEL_NAMES: Readonly<Record<string, AccessLevel>> = {
  null: 'null',
  read: 'read',
  read_object: 'read',
  'read object': 'read',
  write: 'write',
  modify_object: 'write',
  'modify object': 'write',
  own: 'own',
};
/** The finer iRODS 4.3 levels (`db_mod_access_control_op`'s allowed list) that this store, keeping three, cannot hold. */
const FINER_LEVELS = new Set([
  'execute',
  'read_annotation',
  'read_system_metadata',
  'read_metadata',
  'write_annotation',
  'create_metadata',
  'modify_metadata',
  'delete_metadata',
  'administer_object',
  'create_object',
  'delete_object',
  'create_token',
  'delete_token',
  'curate',
]);

function parseChange(level: string): Change {
  if (level === 'inherit' || level === 'noinherit') return { inherit: level === 'inherit' };
  const known = LEVEL_NAMES[level];
  if (known) return { level: known };
  const shown = JSON.stringify(level.slice(0, 40));
  if (FINER_LEVELS.has(level.replace(/ /g, '_'))) {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `access level ${shown} is finer than this store keeps: use null, read, write or own`);
  }
  throw new IrodsError('CAT_INVALID_ARGUMENT', `access level ${shown} is invalid (null, read, write, own, inherit, noinherit)`);
}

/** The principal a request names: this zone's user or group of that name, else `CAT_INVALID_USER`. */
async function principalNamed(ctx: ApiContext, name: string, zone: string): Promise<string> {
  if (zone !== '' && zone !== ctx.store.zone) {
    throw new IrodsError('CAT_INVALID_USER', `${name}#${zone}: this server holds only the zone ${ctx.store.zone}`);
  }
  if (name === '' || !(await ctx.store.getPrincipal(name))) throw new IrodsError('CAT_INVALID_USER', `no user or group ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

async function handle(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  const body = req.body;
  const recursive = int(body, 'recursiveFlag') !== 0;
  let level = text(body, 'accessLevel');
  if (level.startsWith(ADMIN_PREFIX)) {
    if (!ctx.access.isAdmin(ctx.user)) {
      throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `the admin mode of ichmod needs a rodsadmin; ${ctx.user.name} is not one`);
    }
    level = level.slice(ADMIN_PREFIX.length);
  }
  const change = parseChange(level);
  const path = zonePath(ctx, text(body, 'path'));
  const found = ctx.access.level(ctx.user, path);
  const own = found !== null && found.level >= LEVELS.own;

  if ('inherit' in change) {
    // one answer for a missing collection, a data object and too low a level, as iRODS gives
    if (!found || found.entry.kind !== 'c' || !own) {
      const why = !found ? 'it does not exist' : found.entry.kind !== 'c' ? 'it is a data object' : `${ctx.user.name} does not own it`;
      throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `cannot set ${level} on ${path}: inheritance is for collections one owns, and ${why}`);
    }
    await storeCall(() => ctx.store.setInheritance(path, change.inherit, { recursive }), { NOT_FOUND: 'CAT_UNKNOWN_COLLECTION' });
  } else {
    if (!found) throw new IrodsError('CAT_INVALID_ARGUMENT', `${path} is neither a collection nor a data object`);
    if (!own) throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${ctx.user.name} needs own access on ${path} to change its access`);
    const name = await principalNamed(ctx, text(body, 'userName'), text(body, 'zone'));
    if (recursive && found.entry.kind === 'o') {
      throw new IrodsError('CAT_INVALID_ARGUMENT', `${path} is a data object: recursion needs a collection`);
    }
    await storeCall(() => ctx.store.setAccess(path, name, change.level, { recursive }), (err) =>
      err instanceof NotFoundError && err.what === 'principal' ? 'CAT_INVALID_USER' : 'CAT_INVALID_ARGUMENT',
    );
  }
  ctx.log.debug({ path, level, recursive }, 'access changed');
  return {};
}

/** The routes of this module. */
export const accessRoutes: ApiRoute[] = [{ api: MOD_ACCESS_CONTROL_AN, name: 'MOD_ACCESS_CONTROL_AN', handle }];
