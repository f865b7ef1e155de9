/**
 * The `flow_data` the site sends for each flow (protocol section 5), built
 * from the site's rows. One place, used by the API and by synctaskflow.
 *
 * @module
 */
import { OWNER_ROLE_PK } from './constants.js';
import type { Db } from './db/types.js';
import { getOwner, getSettings, inheritedOwners, type Project, type User } from './repo.js';

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

/** flow_data of project_update, from the rows as they are after the change. */
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
    public_guest_access: project.public_guest_access === 1,
    parent_uuid: project.parent_uuid ?? '',
    owner_username: owner.username,
    owner_uuid: owner.uuid,
    owner_role_pk: OWNER_ROLE_PK,
    old_owner_username: oldOwner.username,
    old_owner_uuid: oldOwner.uuid,
    settings: await flowSettings(db, project.uuid),
    roles_add: roles.add,
    roles_delete: roles.delete,
  };
}

/** flow_data of role_update and role_delete. */
export function roleData(user: User, rolePk: number): Record<string, unknown> {
  return { username: user.username, user_uuid: user.uuid, role_pk: rolePk };
}
