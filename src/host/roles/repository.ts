/**
 * Role assignments of users in projects.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { DELEGATE_LIMIT, DELEGATE_ROLE_PK, OWNER_ROLE_PK, PROJECT_TYPE_CATEGORY, roleByPk } from '../constants.js';
import { first } from '../db/rows.js';
import type { Db } from '../db/types.js';
import { HttpError } from '../errors.js';
import { ancestors, type Project } from '../projects/repository.js';
import { getUser, type User } from '../users/repository.js';

/** A role assignment (joined with its user and role). */
export interface Assignment {
  uuid: string;
  project_uuid: string;
  user_uuid: string;
  role_pk: number;
}

export async function listAssignments(db: Db, projectUuid: string): Promise<Assignment[]> {
  return db.query<Assignment & Record<string, unknown>>(
    'SELECT * FROM role_assignments WHERE project_uuid = ? ORDER BY role_pk, uuid',
    [projectUuid],
  );
}

export async function getAssignment(db: Db, uuid: string): Promise<Assignment | undefined> {
  return first(await db.query<Assignment & Record<string, unknown>>('SELECT * FROM role_assignments WHERE uuid = ?', [uuid]));
}

export async function getAssignmentFor(db: Db, projectUuid: string, userUuid: string): Promise<Assignment | undefined> {
  return first(
    await db.query<Assignment & Record<string, unknown>>(
      'SELECT * FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?',
      [projectUuid, userUuid],
    ),
  );
}

/** Creates or updates the user's role in a project; returns the assignment. */
export async function setRole(db: Db, projectUuid: string, userUuid: string, rolePk: number): Promise<Assignment> {
  if (!roleByPk(rolePk)) throw new Error(`unknown role pk ${rolePk}`);
  const existing = await getAssignmentFor(db, projectUuid, userUuid);
  if (existing) {
    await db.exec('UPDATE role_assignments SET role_pk = ? WHERE uuid = ?', [rolePk, existing.uuid]);
    return { ...existing, role_pk: rolePk };
  }
  const a: Assignment = { uuid: randomUUID(), project_uuid: projectUuid, user_uuid: userUuid, role_pk: rolePk };
  await db.exec('INSERT INTO role_assignments (uuid, project_uuid, user_uuid, role_pk) VALUES (?, ?, ?, ?)', [
    a.uuid,
    a.project_uuid,
    a.user_uuid,
    a.role_pk,
  ]);
  return a;
}

/** Puts back an assignment exactly as it was (same uuid). */
export async function restoreAssignment(db: Db, a: Assignment): Promise<void> {
  await db.exec('DELETE FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?', [a.project_uuid, a.user_uuid]);
  await db.exec('INSERT INTO role_assignments (uuid, project_uuid, user_uuid, role_pk) VALUES (?, ?, ?, ?)', [
    a.uuid,
    a.project_uuid,
    a.user_uuid,
    a.role_pk,
  ]);
}

export async function deleteRole(db: Db, projectUuid: string, userUuid: string): Promise<number> {
  return db.exec('DELETE FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?', [projectUuid, userUuid]);
}

/** The owner assignment of a project, or undefined. */
export async function getOwner(db: Db, projectUuid: string): Promise<(Assignment & { user: User }) | undefined> {
  const a = first(
    await db.query<Assignment & Record<string, unknown>>(
      'SELECT * FROM role_assignments WHERE project_uuid = ? AND role_pk = ?',
      [projectUuid, OWNER_ROLE_PK],
    ),
  );
  if (!a) return undefined;
  const user = await getUser(db, a.user_uuid);
  return user ? { ...a, user } : undefined;
}

/**
 * A role the project cannot take: a second owner, or a delegate over
 * {@link DELEGATE_LIMIT}. A 400 naming who holds the role already, where
 * SODAR Core fails with a 500.
 */
export class RoleLimitError extends HttpError {
  constructor(detail: string) {
    super(400, detail);
  }
}

/**
 * Throws {@link RoleLimitError} when giving user `userUuid` role `rolePk` in
 * `project` would leave it with two owners or more delegates than
 * {@link DELEGATE_LIMIT} (owners of a category above do not count as
 * delegates), the rules of SODAR Core v0.10.12 `RoleAssignment.save()`.
 * `changing` names users whose own roles change in the same step, so their
 * current roles do not count.
 */
export async function assertRoleFits(db: Db, project: Project, userUuid: string, rolePk: number, changing: readonly string[] = []): Promise<void> {
  if (rolePk !== OWNER_ROLE_PK && rolePk !== DELEGATE_ROLE_PK) return;
  const skip = new Set([userUuid, ...changing]);
  const holders = (await listAssignments(db, project.uuid)).filter((a) => a.role_pk === rolePk && !skip.has(a.user_uuid));
  const names = async (as: Assignment[]): Promise<string> =>
    (await Promise.all(as.map(async (a) => `"${(await getUser(db, a.user_uuid))?.username ?? a.user_uuid}"`))).join(', ');
  if (rolePk === OWNER_ROLE_PK) {
    if (holders.length > 0) throw new RoleLimitError(`"${project.title}" already has an owner (${await names(holders)}): transfer the ownership instead`);
    return;
  }
  const categoryOwners = new Set((await inheritedOwners(db, project)).map((u) => u.uuid));
  const delegates = holders.filter((a) => !categoryOwners.has(a.user_uuid));
  if (delegates.length >= DELEGATE_LIMIT) {
    throw new RoleLimitError(`"${project.title}" already has ${delegates.length} delegate(s) (${await names(delegates)}), the most it may have: change their role first`);
  }
}

/** Owners of the categories above a project (nearest first, distinct users). */
export async function inheritedOwners(db: Db, project: Project): Promise<User[]> {
  const out: User[] = [];
  for (const anc of await ancestors(db, project)) {
    if (anc.type !== PROJECT_TYPE_CATEGORY) continue;
    const owner = await getOwner(db, anc.uuid);
    if (owner && !out.some((u) => u.uuid === owner.user.uuid)) out.push(owner.user);
  }
  return out;
}
