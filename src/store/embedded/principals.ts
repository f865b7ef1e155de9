/**
 * Users and groups (iRODS keeps both in one table, a group being a user of
 * type `rodsgroup`; so does this catalog), and group membership.
 *
 * @module
 */
import { AlreadyExistsError, NotAllowedError, NotFoundError } from '../errors.js';
import { validateName } from '../paths.js';
import type { Principal, PrincipalType, UserType } from '../types.js';
import type { PrincipalRow } from './catalog.js';
import type { StoreCore } from './core.js';
import { ADMIN_USER, PUBLIC_GROUP } from './schema.js';

function toPrincipal(p: PrincipalRow): Principal {
  return p.kind === 'user' ? { name: p.name, kind: 'user', userType: p.user_type as UserType } : { name: p.name, kind: 'group' };
}

/**
 * Creates a user of a type, or a group, inside the current transaction
 * (AlreadyExists when the name is taken): for {@link Principals} and for
 * callers that create more in the same transaction (the protocol server's
 * `iadmin mkuser` also creates the home collection).
 */
export function createPrincipalIn(core: StoreCore, name: string, type: PrincipalType): void {
  const group = type === 'rodsgroup';
  validateName(name, group ? 'group name' : 'user name');
  if (!group && !isUserType(type)) throw new RangeError(`unknown user type: ${String(type)}`);
  const p = core.q.principal.get(name);
  if (p) throw new AlreadyExistsError(name, p.kind);
  core.q.insertPrincipal.run(name, group ? 'group' : 'user', group ? null : type);
}

/**
 * Removes a user or group (`kind` says which is meant: NotFound for the
 * other) with its memberships, ACL entries, password and authentication
 * names, inside the current
 * transaction. The admin user and the public group are refused.
 */
export function removePrincipalIn(core: StoreCore, name: string, kind: 'user' | 'group'): void {
  if (kind === 'user' && name === ADMIN_USER) throw new NotAllowedError(name, 'the admin user cannot be removed');
  if (kind === 'group' && name === PUBLIC_GROUP) throw new NotAllowedError(name, 'the public group cannot be removed');
  if (kind === 'user') {
    core.mustUser(name);
    core.q.deleteMembershipsOf.run(name);
  } else {
    core.mustGroup(name);
    core.q.deleteMembersOf.run(name);
  }
  core.q.deleteAclName.run(name);
  core.db.prepare('DELETE FROM passwords WHERE name = ?').run(name);
  core.db.prepare('DELETE FROM auth_names WHERE user_name = ?').run(name);
  core.q.deletePrincipal.run(name);
}

/**
 * Changes a user's type inside the current transaction (NotFound for no
 * such user, a group included). Demoting the admin user is refused: the
 * store and its tools act as that user.
 */
export function setUserTypeIn(core: StoreCore, name: string, type: UserType): void {
  if (!isUserType(type)) throw new RangeError(`unknown user type: ${String(type)}`);
  core.mustUser(name);
  if (name === ADMIN_USER && type !== 'rodsadmin') throw new NotAllowedError(name, 'the admin user stays a rodsadmin');
  core.db.prepare("UPDATE principals SET user_type = ? WHERE name = ? AND kind = 'user'").run(type, name);
}

/** What iRODS keeps beside a user or group for people to read: `info` (`user_info`) and `comment` (`r_comment`). */
export type PrincipalNote = 'info' | 'comment';

/**
 * Sets a user's or group's {@link PrincipalNote} inside the current
 * transaction; NotFound for no such principal.
 */
export function setPrincipalNoteIn(core: StoreCore, name: string, note: PrincipalNote, value: string): void {
  const column = note === 'info' ? 'info' : 'comment';
  if (core.db.prepare(`UPDATE principals SET ${column} = ? WHERE name = ?`).run(value, name).changes === 0) throw new NotFoundError(name, 'principal');
}

function isUserType(type: string): type is UserType {
  return type === 'rodsuser' || type === 'rodsadmin';
}

/** The user and group calls of the embedded store. */
export class Principals {
  constructor(private readonly core: StoreCore) {}

  async getPrincipal(name: string): Promise<Principal | null> {
    this.core.assertOpen();
    const p = this.core.q.principal.get(name);
    return p ? toPrincipal(p) : null;
  }

  async listPrincipals(kind: 'user' | 'group'): Promise<Principal[]> {
    this.core.assertOpen();
    return this.core.q.principals.all(kind).map(toPrincipal);
  }

  async createPrincipal(name: string, type: PrincipalType): Promise<void> {
    this.core.write(() => createPrincipalIn(this.core, name, type));
  }

  /** Removes a user or group (`kind` says which is meant: NotFound for the other) with its memberships and ACL entries. */
  async removePrincipal(name: string, kind: 'user' | 'group'): Promise<void> {
    this.core.write(() => removePrincipalIn(this.core, name, kind));
  }

  async groupMembers(group: string): Promise<string[]> {
    const { core } = this;
    return core.read(() => {
      core.mustGroup(group);
      return core.q.memberNames.all(group);
    });
  }

  /**
   * One primary-key lookup, no transaction: a single statement is atomic, and
   * a membership row exists only while its group and user do (removing either
   * deletes its rows), so a missing group or user reads as not a member.
   */
  async isGroupMember(group: string, user: string): Promise<boolean> {
    this.core.assertOpen();
    return this.core.q.isMember.get(group, user) === 1;
  }

  /** Adds `user` to `group`; a no-op when already a member, AlreadyExists with `onlyNew`. */
  async addGroupMember(group: string, user: string, opts: { onlyNew?: boolean } = {}): Promise<void> {
    const { core } = this;
    core.write(() => {
      core.mustGroup(group);
      core.mustUser(user);
      const added = core.q.insertMember.run(group, user).changes > 0;
      if (!added && opts.onlyNew === true) throw new AlreadyExistsError(`${user} in ${group}`, 'member');
    });
  }

  /** Removes `user` from `group`; a no-op when not a member, NotFound with `onlyMember`. */
  async removeGroupMember(group: string, user: string, opts: { onlyMember?: boolean } = {}): Promise<void> {
    const { core } = this;
    core.write(() => {
      core.mustGroup(group);
      core.mustUser(user);
      const removed = core.q.deleteMember.run(group, user).changes > 0;
      if (!removed && opts.onlyMember === true) throw new NotFoundError(`${user} in ${group}`, 'member');
    });
  }
}
