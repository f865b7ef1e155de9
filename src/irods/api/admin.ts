/**
 * GENERAL_ADMIN_AN 701 (`generalAdminInp_PI`, `arg0`…`arg9`): users, groups,
 * membership and passwords, as `iadmin` and python-irodsclient 0.8.1's user
 * and group managers send them:
 *
 * - `add user NAME[#ZONE] TYPE ZONE DN` (TYPE `rodsuser`, `rodsadmin`, or
 *   `rodsgroup` for a group, as 4.2 clients make groups; DN optional, a
 *   user's first distinguished name) and `add group NAME` (4.3), each with
 *   its home and trash collections (`principal-admin.ts`);
 * - `rm user NAME ZONE` (a group too) and `rm group NAME ZONE`;
 * - `modify user NAME[#ZONE] type T` and `modify user NAME password OBF`
 *   (obfuscated with the caller's password, `password-obfuscation.ts`);
 * - `modify user NAME addAuth DN` and `rmAuth DN`: a user's distinguished
 *   names (GenQuery `USER_DN`), kept and listed though the store logs no one
 *   in by them (`src/store/embedded/auth-names.ts`);
 * - `modify user NAME info|comment TEXT` (a group's too): notes GenQuery
 *   answers as `USER_INFO` and `USER_COMMENT`;
 * - `modify group GROUP add|remove USER ZONE`;
 * - `add specificQuery SQL [ALIAS]` and `rm specificQuery SQL|ALIAS`
 *   (`../specific-query/icat-views.ts` says what SQL is admitted);
 * - `add resource NAME unixfilesystem HOST:PATH CONTEXT ZONE` and
 *   `rm resource NAME [--dryrun]` (`../admin/resource-admin.ts`).
 *
 * Only a `rodsadmin` may call it: iRODS 4.3.5 `apiTable.hpp` serves
 * `GENERAL_ADMIN_AN` to `LOCAL_PRIV_USER_AUTH` only, so anyone else is
 * answered `SYS_NO_API_PRIV` before the arguments are read. What a store of
 * this kind cannot hold (zones, quotas, tokens,
 * resource hierarchies, changes to a resource) is answered
 * `SYS_NOT_SUPPORTED`, naming it.
 *
 * @module
 */
import { AlreadyExistsError, NotFoundError, type StoreError } from '../../store/errors.js';
import { setPrincipalNoteIn, setUserTypeIn, type PrincipalNote } from '../../store/embedded/principals.js';
import { isSystemPrincipal } from '../../store/principals.js';
import type { PrincipalType, UserType } from '../../store/types.js';
import { deobfuscatePassword } from '../admin/password-obfuscation.js';
import { createPrincipalWithHome, removePrincipalWithHome } from '../admin/principal-admin.js';
import { notAllowed, storeCall } from '../admin/store-errors.js';
import { localName } from '../admin/user-names.js';
import { IcatQueries } from '../specific-query/icat-views.js';
import { addResource, removeResource } from '../admin/resource-admin.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { text, type PiNode } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const GENERAL_ADMIN_AN = 701;

/** iRODS's user types (4.3.5 `user_validation_utilities.cpp` `type_is_valid`). */
const IRODS_USER_TYPES = new Set(['rodsadmin', 'rodsuser', 'groupadmin', 'rodsgroup']);

/** `iadmin` requests for what this store does not have, by `arg0 arg1` (or `arg0` alone). */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  'add dir': 'collections are made with imkdir',
  'rm dir': 'collections are removed with irm',
  'add zone': 'this store holds one zone',
  'modify zone': 'this store holds one zone',
  'rm zone': 'this store holds one zone',
  'modify localzonename': 'the zone is named in the store settings',
  'modify zonecollacl': 'this store holds one zone',
  'modify resource': 'a resource here keeps the name, host and vault folder it was made with',
  'add childtoresc': 'this store has no resource hierarchies',
  'rm childfromresc': 'this store has no resource hierarchies',
  'modify resourcedatapaths': 'the store keeps its vault folders where they are',
  'add token': 'this store keeps no tokens',
  'rm token': 'this store keeps no tokens',
  'calculate-usage': 'this store keeps no quotas',
  'set-quota': 'this store keeps no quotas',
  set_delay_server: 'this store runs no rules',
};

/** `modify user` options the store has no place for. */
const UNSUPPORTED_USER_OPTIONS: Readonly<Record<string, string>> = {
  zone: 'this store holds one zone',
};

/**
 * `modify user` options that set a note, each under both names iRODS 4.2.12
 * `db_mod_user_op` takes: any value, the empty one included, for a user or a
 * group alike.
 */
const NOTE_OPTIONS: Readonly<Record<string, PrincipalNote>> = { info: 'info', user_info: 'info', comment: 'comment', r_comment: 'comment' };
/** Most characters of a note: iRODS 4.2.12 `icatSysTables.sql` holds `user_info` and `r_comment` in `varchar(1000)`. */
const MAX_NOTE_LENGTH = 1000;

const arg = (body: PiNode | null, i: number) => text(body, `arg${i}`);

/** The store's principal type for an iRODS user type; `CAT_INVALID_USER_TYPE` for one it cannot hold. */
function principalType(type: string): PrincipalType {
  if (!IRODS_USER_TYPES.has(type)) throw new IrodsError('CAT_INVALID_USER_TYPE', `user type ${JSON.stringify(type.slice(0, 40))} is not valid`);
  if (type === 'groupadmin') throw new IrodsError('CAT_INVALID_USER_TYPE', 'this store keeps rodsuser, rodsadmin and rodsgroup, not groupadmin');
  return type as PrincipalType;
}

async function addPrincipal(ctx: ApiContext, given: string, type: string, zone: string, auth: string): Promise<void> {
  const ptype = principalType(type);
  const name = localName(given, zone, ctx.store.zone, 'CAT_INVALID_ZONE');
  if (isSystemPrincipal(name) && !(await ctx.store.getPrincipal(name))) {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `${name} is a name iRODS keeps for itself`);
  }
  // a taken name and a leftover home alike: a catalog's unique key refuses the insert
  // a DN with a group: iRODS would store it, but a group never logs in
  await storeCall(() => createPrincipalWithHome(ctx.store, name, ptype, auth), {
    INVALID_PATH: 'USER_INVALID_USERNAME_FORMAT',
    ALREADY_EXISTS: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME',
    NOT_ALLOWED: 'CAT_INVALID_ARGUMENT',
  });
  ctx.log.info({ name, type: ptype }, 'principal created');
}

async function removePrincipal(ctx: ApiContext, given: string, zone: string, wanted: 'user' | 'group'): Promise<void> {
  const unknown = wanted === 'group' ? 'CAT_INVALID_GROUP' : 'CAT_INVALID_USER';
  const name = localName(given, zone, ctx.store.zone, unknown);
  if (name === ctx.user.name) throw notAllowed(`${name} cannot remove the user it is logged in as`);
  const p = await ctx.store.getPrincipal(name);
  // `rm user` takes a group too: python-irodsclient 0.8.1 removes groups with it
  if (!p || (wanted === 'group' && p.kind !== 'group')) throw new IrodsError(unknown, `no ${wanted} ${name}`);
  await storeCall(() => removePrincipalWithHome(ctx.store, name, p.kind), { NOT_FOUND: unknown });
  ctx.log.info({ name, kind: p.kind }, 'principal removed');
}

async function modifyUser(ctx: ApiContext, given: string, option: string, value: string): Promise<void> {
  if (given === '' || option === '') throw new IrodsError('CAT_INVALID_ARGUMENT', 'modify user needs a user name and an option');
  const name = localName(given, '', ctx.store.zone, 'CAT_INVALID_USER');
  const p = await ctx.store.getPrincipal(name);
  if (!p) throw new IrodsError('CAT_INVALID_USER', `no user ${name}`);
  const unsupported = UNSUPPORTED_USER_OPTIONS[option];
  if (unsupported) throw new IrodsError('SYS_NOT_SUPPORTED', `cannot modify ${option} of ${name}: ${unsupported}`);
  if (option === 'type' || option === 'user_type_name') {
    if (value === '') throw new IrodsError('CAT_INVALID_ARGUMENT', `no new type given for ${name}`);
    if (p.kind === 'group') throw notAllowed(`${name} is a group: a group cannot have its type changed`);
    if (value === 'rodsgroup') throw notAllowed(`${name} is a user: a user cannot be changed to a group`);
    const type = principalType(value) as UserType;
    const core = ctx.store.protocolCore();
    await storeCall(() => core.write(() => setUserTypeIn(core, name, type)), { NOT_FOUND: 'CAT_INVALID_USER' });
    ctx.log.info({ name, type }, 'user type changed');
  } else if (option === 'password') {
    if (p.kind === 'group') throw notAllowed(`${name} is a group: a group cannot have a password`);
    const current = ctx.store.passwordOf(ctx.user.name);
    if (current === null) throw new IrodsError('CAT_INVALID_USER', `${ctx.user.name} has no password to undo the obfuscation with`);
    const password = deobfuscatePassword(value, current, ctx.connection.clientSignature);
    await storeCall(() => ctx.store.setPassword(name, password), { NOT_FOUND: 'CAT_INVALID_USER', NOT_ALLOWED: 'CAT_INVALID_USER_TYPE' });
    ctx.log.info({ name }, 'password changed');
  } else if (option === 'addAuth' || option === 'rmAuth') {
    await modifyAuthNames(ctx, name, option, value);
  } else if (Object.hasOwn(NOTE_OPTIONS, option)) {
    const note = NOTE_OPTIONS[option]!;
    // the iCAT's column refuses more; iRODS then answers a bare -2 from its ODBC layer (4.2.12
    // low_level_odbc.cpp logPsgError), a code no client knows: this names what was wrong instead
    if (value.length > MAX_NOTE_LENGTH) throw new IrodsError('CAT_INVALID_ARGUMENT', `the ${note} of ${name} may hold ${MAX_NOTE_LENGTH} characters, not ${value.length}`);
    const core = ctx.store.protocolCore();
    await storeCall(() => core.write(() => setPrincipalNoteIn(core, name, note, value)), { NOT_FOUND: 'CAT_INVALID_USER' });
    ctx.log.info({ name, note }, 'user note changed');
  } else {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown option ${JSON.stringify(option.slice(0, 40))} of modify user (type, password, addAuth, rmAuth, info, comment)`);
  }
}

/**
 * Adds or removes a user's distinguished name, as iRODS 4.3.5 `chlModUser`
 * does: an empty name is `CAT_INVALID_ARGUMENT`; adding one the user has is
 * done already (no error); removing one the user lacks deletes no row,
 * `CAT_SUCCESS_BUT_WITH_NO_INFO`.
 */
async function modifyAuthNames(ctx: ApiContext, name: string, option: 'addAuth' | 'rmAuth', dn: string): Promise<void> {
  if (dn === '') throw new IrodsError('CAT_INVALID_ARGUMENT', `${option} of ${name} needs a distinguished name`);
  const codes = { NOT_FOUND: 'CAT_INVALID_USER', NOT_ALLOWED: 'CAT_INVALID_USER' } as const;
  if (option === 'addAuth') {
    await storeCall(() => ctx.store.addAuthName(name, dn), codes);
  } else if (!(await storeCall(() => ctx.store.removeAuthName(name, dn), codes))) {
    throw new IrodsError('CAT_SUCCESS_BUT_WITH_NO_INFO', `${name} has no distinguished name ${JSON.stringify(dn.slice(0, 200))}`);
  }
  ctx.log.info({ name, option }, 'distinguished names changed');
}

async function modifyGroup(ctx: ApiContext, group: string, option: string, given: string, zone: string): Promise<void> {
  if (group === '' || option === '' || given === '') throw new IrodsError('CAT_INVALID_ARGUMENT', 'modify group needs a group, add or remove, and a user');
  const user = localName(given, zone, ctx.store.zone, 'CAT_INVALID_USER');
  if ((await ctx.store.getPrincipal(user))?.kind !== 'user') throw new IrodsError('CAT_INVALID_USER', `no user ${user}`);
  if ((await ctx.store.getPrincipal(group))?.kind !== 'group') throw new IrodsError('CAT_INVALID_GROUP', `no group ${group}`);
  if (isSystemPrincipal(group)) throw notAllowed(`every user is a member of ${group}`);
  const member = await ctx.store.isGroupMember(group, user);
  // either may have gone since the checks above
  const gone = (err: StoreError) => (err instanceof NotFoundError && err.what === 'group' ? 'CAT_INVALID_GROUP' : 'CAT_INVALID_USER');
  // a server's insert of a row that exists, or delete of none, answers these (4.3.5 db_mod_group_op)
  if (option === 'add') {
    if (member) throw new IrodsError('CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME', `${user} is a member of ${group} already`);
    await storeCall(() => ctx.store.addGroupMember(group, user), gone);
  } else if (option === 'remove') {
    if (!member) throw new IrodsError('CAT_SUCCESS_BUT_WITH_NO_INFO', `${user} is not a member of ${group}`);
    await storeCall(() => ctx.store.removeGroupMember(group, user), gone);
  } else {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown option ${JSON.stringify(option.slice(0, 40))} of modify group (add, remove)`);
  }
  ctx.log.info({ group, user, option }, 'group membership changed');
}

/**
 * Registers `sql` under `alias` (none when empty) as iRODS 4.3.5
 * `db_add_specific_query_op` does: SQL of fewer than 5 characters and a
 * taken alias are `CAT_INVALID_ARGUMENT`, the latter with the message a
 * real server puts on the error stack. SQL the query connection would not
 * run is refused here too, naming why, instead of at its first run.
 */
async function addSpecificQuery(ctx: ApiContext, sql: string, alias: string): Promise<void> {
  if (sql.length < 5) throw new IrodsError('CAT_INVALID_ARGUMENT', 'sql string is invalid');
  IcatQueries.of(ctx.store.protocolCore()).check(sql);
  await storeCall(() => {
    try {
      ctx.store.addSpecificQuery(sql, alias);
    } catch (err) {
      // the text python-irodsclient 0.8.1's query_test.py compares
      if (err instanceof AlreadyExistsError) throw new IrodsError('CAT_INVALID_ARGUMENT', 'Alias is not unique');
      throw err;
    }
  });
  ctx.log.info({ alias }, 'specific query registered');
}

/** Removes the queries with SQL `sqlOrAlias`, or else the one with that alias; none is `CAT_SUCCESS_BUT_WITH_NO_INFO` (4.3.5 `db_del_specific_query_op`). */
async function removeSpecificQuery(ctx: ApiContext, sqlOrAlias: string): Promise<void> {
  const removed = await storeCall(() => ctx.store.removeSpecificQuery(sqlOrAlias));
  if (removed === 0) throw new IrodsError('CAT_SUCCESS_BUT_WITH_NO_INFO', `no specific query has the SQL or alias ${JSON.stringify(sqlOrAlias.slice(0, 200))}`);
  ctx.log.info({ removed }, 'specific query removed');
}

async function handle(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  ctx.access.requireAdmin(ctx.user, 'GENERAL_ADMIN_AN (iadmin)');
  const b = req.body;
  const what = `${arg(b, 0)} ${arg(b, 1)}`;
  switch (what) {
    case 'add user':
      await addPrincipal(ctx, arg(b, 2), arg(b, 3), arg(b, 4), arg(b, 5));
      break;
    case 'add group':
      await addPrincipal(ctx, arg(b, 2), 'rodsgroup', arg(b, 4), arg(b, 5));
      break;
    case 'rm user':
      await removePrincipal(ctx, arg(b, 2), arg(b, 3), 'user');
      break;
    case 'rm group':
      await removePrincipal(ctx, arg(b, 2), arg(b, 3), 'group');
      break;
    case 'modify user':
      await modifyUser(ctx, arg(b, 2), arg(b, 3), arg(b, 4));
      break;
    case 'modify group':
      await modifyGroup(ctx, arg(b, 2), arg(b, 3), arg(b, 4), arg(b, 5));
      break;
    case 'add specificQuery':
      await addSpecificQuery(ctx, arg(b, 2), arg(b, 3));
      break;
    case 'rm specificQuery':
      await removeSpecificQuery(ctx, arg(b, 2));
      break;
    case 'add resource':
      await addResource(ctx, arg(b, 2), arg(b, 3), arg(b, 4), arg(b, 5), arg(b, 6));
      break;
    case 'rm resource':
      await removeResource(ctx, arg(b, 2), arg(b, 3));
      break;
    case 'rm unusedAVUs':
      // forgets the times of AVUs no item holds, as iRODS deletes its unused meta rows (schema.ts addAvuTimes;
      // python-irodsclient 3.3.0's tests ask for it in their teardown)
      await ctx.store.removeUnusedAvus();
      break;
    default: {
      const reason = UNSUPPORTED[what] ?? UNSUPPORTED[arg(b, 0)];
      const shown = JSON.stringify(what.slice(0, 60));
      if (reason) throw new IrodsError('SYS_NOT_SUPPORTED', `generalAdmin ${shown} is not served: ${reason}`);
      throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown generalAdmin request ${shown}`);
    }
  }
  return {};
}

/** iRODS 4.3.5 `apiNumberData.h`: what a user may ask of the catalog about itself (`ipasswd`) or, as a groupadmin, its groups. */
export const USER_ADMIN_AN = 714;

/**
 * USER_ADMIN_AN 714 (`userAdminInp_PI`), as iRODS 4.3.5 `rsUserAdmin.cpp`
 * and `db_mod_user_op` decide it: `userpw NAME OPTION VALUE` is `modify
 * user` for anyone, but a user who is not a rodsadmin may change only its
 * own password (any other option, or another user,
 * `CAT_INSUFFICIENT_PRIVILEGE_LEVEL`); python-irodsclient 1.1 and later
 * send `userpw NAME password OBFUSCATED` for `users.modify_password`. The
 * groupadmin requests (`mkuser`, `mkgroup`, `modify group`) are served to
 * rodsadmins as their `iadmin` forms; this store has no groupadmins, so
 * anyone else gets `CAT_INSUFFICIENT_PRIVILEGE_LEVEL`.
 */
async function handleUserAdmin(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  const b = req.body;
  const op = arg(b, 0);
  const admin = ctx.access.isAdmin(ctx.user);
  if (op === 'userpw') {
    const [name, option, value] = [arg(b, 1), arg(b, 2), arg(b, 3)];
    if (!admin && (option !== 'password' || localName(name, '', ctx.store.zone, 'CAT_INVALID_USER') !== ctx.user.name)) {
      throw new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `${ctx.user.name} may change only its own password, not ${option} of ${name}`);
    }
    await modifyUser(ctx, name, option, value);
    return {};
  }
  if (op !== 'mkuser' && op !== 'mkgroup' && !(op === 'modify' && arg(b, 1) === 'group')) {
    throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown user admin request ${JSON.stringify(op.slice(0, 40))} (userpw, mkuser, mkgroup, modify group)`);
  }
  if (!admin) throw new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `${op} needs a groupadmin or a rodsadmin; ${ctx.user.name} is neither (this store has no groupadmins)`);
  if (op === 'mkuser') {
    await addPrincipal(ctx, arg(b, 1), 'rodsuser', '', arg(b, 3));
    if (arg(b, 2) !== '') await modifyUser(ctx, arg(b, 1), 'password', arg(b, 2));
  } else if (op === 'mkgroup') {
    await addPrincipal(ctx, arg(b, 1), 'rodsgroup', '', '');
  } else {
    await modifyGroup(ctx, arg(b, 2), arg(b, 3), arg(b, 4), arg(b, 5));
  }
  return {};
}

/** The routes of this module. */
export const adminRoutes: ApiRoute[] = [
  { api: GENERAL_ADMIN_AN, name: 'GENERAL_ADMIN_AN', handle },
  { api: USER_ADMIN_AN, name: 'USER_ADMIN_AN', handle: handleUserAdmin },
];
