/**
 * The `flow_data` the site sends for each flow (protocol section 5), built
 * from the site's rows. One place, used by the API and by synctaskflow.
 *
 * @module
 */
import { OWNER_ROLE_PK } from './constants.js';
import type { Db } from './db/types.js';
import { getAssignmentFor, getOwner, getSettings, getUserByName, inheritedOwners, type Project, type User } from './repo.js';

/** A `{project_uuid, username}` item of roles_add / roles_delete. */
export interface RoleItem {
  project_uuid: string;
  username: string;
}

/** Settings as flows carry them: `{"settings.<app>.<name>": value}`. */
export async function flowSettings(db: Db, projectUuid: string): Promise<Record<string, unknown>> {
  const s = await getSettings(db, projectUuid);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [`settings.${k}`, v]));
}

/** The owner of a project, or an error naming the project. */
export async function requireOwner(db: Db, project: Project): Promise<User> {
  const owner = await getOwner(db, project.uuid);
  if (!owner) throw new Error(`Project "${project.title}" (${project.uuid}) has no owner`);
  return owner.user;
}

/** Inherited category owners of a project as role items (the project owner excluded). */
export async function inheritedOwnerItems(db: Db, project: Project, ownerUuid: string): Promise<RoleItem[]> {
  return (await inheritedOwners(db, project))
    .filter((u) => u.uuid !== ownerUuid)
    .map((u) => ({ project_uuid: project.uuid, username: u.username }));
}

/** Owners inherited from categories by the project, as role items (its current owner left out). */
export async function inheritedItems(db: Db, project: Project): Promise<RoleItem[]> {
  const owner = await getOwner(db, project.uuid);
  return inheritedOwnerItems(db, project, owner?.user_uuid ?? '');
}

/** The role items to add and to delete to go from `before` to `after`. */
export function roleItemChanges(before: RoleItem[], after: RoleItem[]): { add: RoleItem[]; delete: RoleItem[] } {
  const key = (i: RoleItem): string => `${i.project_uuid}/${i.username}`;
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return { add: after.filter((i) => !b.has(key(i))), delete: before.filter((i) => !a.has(key(i))) };
}

/** flow_data of project_create. */
export async function projectCreateData(db: Db, project: Project): Promise<Record<string, unknown>> {
  const owner = await requireOwner(db, project);
  return {
    project_title: project.title,
    project_description: project.description,
    parent_uuid: project.parent_uuid ?? '',
    owner_username: owner.username,
    owner_uuid: owner.uuid,
    owner_role_pk: OWNER_ROLE_PK,
    settings: await flowSettings(db, project.uuid),
    roles_add: await inheritedOwnerItems(db, project, owner.uuid),
  };
}

/** `items` with each `{project_uuid, username}` once: the original service builds one task per item and refuses duplicate task names. */
export function uniqueItems(items: readonly RoleItem[]): RoleItem[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = JSON.stringify([i.project_uuid, i.username]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `items` without the users who hold a role of their own in the item's
 * project (the owner included): they stay in its group, so roles_delete must
 * never name them, or site and store disagree.
 */
export async function withoutDirectMembers(db: Db, items: readonly RoleItem[]): Promise<RoleItem[]> {
  const out: RoleItem[] = [];
  for (const i of items) {
    const user = await getUserByName(db, i.username);
    if (!user || !(await getAssignmentFor(db, i.project_uuid, user.uuid))) out.push(i);
  }
  return out;
}

/**
 * flow_data of project_update, from the rows as they are after the change.
 * Whatever `roles` holds, each item is sent once and roles_delete names no
 * direct member of the project.
 */
export async function projectUpdateData(
  db: Db,
  project: Project,
  oldOwner: User,
  roles: { add: RoleItem[]; delete: RoleItem[] },
): Promise<Record<string, unknown>> {
  const owner = await requireOwner(db, project);
  return {
    project_title: project.title,
    project_description: project.description,
    project_readme: project.readme,
    public_guest_access: project.public_guest_access,
    parent_uuid: project.parent_uuid ?? '',
    owner_username: owner.username,
    owner_uuid: owner.uuid,
    owner_role_pk: OWNER_ROLE_PK,
    old_owner_username: oldOwner.username,
    old_owner_uuid: oldOwner.uuid,
    settings: await flowSettings(db, project.uuid),
    roles_add: uniqueItems(roles.add),
    roles_delete: uniqueItems(await withoutDirectMembers(db, roles.delete)),
  };
}

/** flow_data of role_update and role_delete. */
export function roleData(user: User, rolePk: number): Record<string, unknown> {
  return { username: user.username, user_uuid: user.uuid, role_pk: rolePk };
}
