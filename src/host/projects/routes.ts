/**
 * projectroles API: projects, categories, roles, owner transfer, users.
 * Every change to a PROJECT is written to the site's rows first and undone
 * when its flow fails, so a failed submit leaves the rows as they were.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  OWNER_ROLE_PK,
  PROJECT_TYPE_CATEGORY,
  PROJECT_TYPE_PROJECT,
  PROJECT_TYPES,
  LOCK_UNKNOWN,
  ROLE_CONTRIBUTOR,
  TITLE_MAX,
  roleByName,
  type LockShown,
  type ProjectType,
} from '../constants.js';
import type { SiteContext } from '../context.js';
import type { Db } from '../db/types.js';
import { HttpError, badRequest, forbidden, notFound } from '../errors.js';
import { inheritedOwnerItems, projectCreateData, projectUpdateData, roleData, type RoleItem } from '../flow-data.js';
import {
  createToken,
  createUser,
  deleteProjectCascade,
  deleteRole,
  descendants,
  getAssignment,
  getAssignmentFor,
  getOwner,
  getProject,
  getSettings,
  getUser,
  getUserByName,
  inheritedOwners,
  insertProject,
  listProjects,
  listUsers,
  replaceSettings,
  restoreAssignment,
  setRole,
  setSettings,
  updateProject,
  type Assignment,
  type Project,
  type User,
} from '../repo.js';
import { lockState, submitFlow, withCompensation } from '../submit.js';
import { tracked } from '../timeline.js';
import {
  NEED,
  assertMayChangeRole,
  assertMayCreateIn,
  assertMayMoveTo,
  assertMayTransferOwner,
  assertMayUpdate,
  effectiveRank,
  projectFor,
} from '../api/access.js';
import { bodyOf, forceFailOf, limited, optBool, optString, requireString, requireUser } from '../api/request.js';
import { projectJson, roleJson, userJson } from '../api/serialize.js';

type Params = Record<string, string>;

function settingsOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const s = body.settings;
  if (s === undefined || s === null) return undefined;
  if (typeof s !== 'object' || Array.isArray(s)) throw badRequest('Field "settings" must be an object of "<app>.<name>": value');
  for (const k of Object.keys(s)) if (!/^[^.]+\..+$/.test(k)) throw badRequest(`Setting "${k}" is not "<app>.<name>"`);
  return s as Record<string, unknown>;
}

async function checkTitle(db: Db, title: string, parent: string | null, except?: string): Promise<void> {
  const clash = (await listProjects(db)).find((p) => p.parent_uuid === parent && p.title === title && p.uuid !== except);
  if (clash) throw badRequest(`A project or category titled "${title}" already exists in this category`);
}

/** The parent category named by `parentUuid` (null: top level), checked for shape only; permissions are access.ts's. */
async function checkParent(db: Db, type: ProjectType, parentUuid: string | null): Promise<Project | null> {
  if (parentUuid === null) {
    if (type === PROJECT_TYPE_PROJECT) throw badRequest('A project must have a parent category');
    return null;
  }
  const parent = await getProject(db, parentUuid);
  if (!parent) throw badRequest(`Parent category ${parentUuid} not found`);
  if (parent.type !== PROJECT_TYPE_CATEGORY) throw badRequest('The parent must be a category');
  return parent;
}

const isProject = (p: Project): boolean => p.type === PROJECT_TYPE_PROJECT;

/** Owners inherited from categories, as role items (the project owner left out). */
async function inheritedItems(db: Db, project: Project): Promise<RoleItem[]> {
  const owner = await getOwner(db, project.uuid);
  return inheritedOwnerItems(db, project, owner?.user_uuid ?? '');
}

function diffItems(before: RoleItem[], after: RoleItem[]): { add: RoleItem[]; delete: RoleItem[] } {
  const key = (i: RoleItem): string => `${i.project_uuid}/${i.username}`;
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return { add: after.filter((i) => !b.has(key(i))), delete: before.filter((i) => !a.has(key(i))) };
}

/** Registers the projectroles API under `project/api/`. */
export function projectRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;
  const shownLock = async (p: Project): Promise<LockShown> => (isProject(p) ? lockState(ctx, p.uuid) : false);

  app.get('/project/api/list', async (req) => {
    const user = await requireUser(ctx, req);
    const out = [];
    for (const p of await listProjects(db)) {
      // one lock query per project would make a list as slow as the service: lists do not ask
      if ((await effectiveRank(db, user, p)) <= NEED.view) out.push(await projectJson(db, p, isProject(p) ? LOCK_UNKNOWN : false));
    }
    return out;
  });

  app.get<{ Params: Params }>('/project/api/retrieve/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const p = await projectFor(db, user, req.params.project, NEED.view);
    return projectJson(db, p, await shownLock(p));
  });

  app.post('/project/api/create', async (req, reply) => {
    const user = await requireUser(ctx, req);
    const body = bodyOf(req);
    const project = await createProject(ctx, user, body, forceFailOf(ctx, req));
    reply.code(201);
    return projectJson(db, project, false);
  });

  const update = async (req: { params: Params }, user: User, body: Record<string, unknown>, forceFail: boolean): Promise<Record<string, unknown>> => {
    const before = await projectFor(db, user, req.params.project, NEED.view);
    await assertMayUpdate(db, user, before);
    if (body.type !== undefined && body.type !== before.type) throw badRequest('The type of a project or category cannot change');
    if (body.owner !== undefined) throw badRequest('Use project/api/roles/owner-transfer to change the owner');
    const parentUuid = body.parent === undefined ? before.parent_uuid : optString(body, 'parent') || null;
    if (parentUuid !== before.parent_uuid) {
      await assertMayMoveTo(db, user, before, parentUuid, () => checkParent(db, before.type, parentUuid));
      if (parentUuid !== null && (parentUuid === before.uuid || (await descendants(db, before.uuid)).some((d) => d.uuid === parentUuid))) {
        throw badRequest('A category cannot be moved inside itself');
      }
    }
    const after: Project = {
      ...before,
      parent_uuid: parentUuid,
      title: limited('title', optString(body, 'title')?.trim() || before.title, TITLE_MAX),
      description: optString(body, 'description') ?? before.description,
      readme: optString(body, 'readme') ?? before.readme,
      public_guest_access: optBool(body, 'public_guest_access') ?? before.public_guest_access,
    };
    await checkTitle(db, after.title, after.parent_uuid, after.uuid);
    const settingsBefore = await getSettings(db, before.uuid);
    const newSettings = settingsOf(body);
    const inheritedBefore = await inheritedItems(db, before);
    const info = { projectUuid: after.uuid, app: 'projectroles', userUuid: user.uuid, eventName: `${after.type.toLowerCase()}_update`, description: `update ${after.type.toLowerCase()} "${after.title}"` };
    await tracked(ctx, info, () =>
      withCompensation(
        () =>
          db.transaction(async (tx) => {
            await updateProject(tx, after);
            if (newSettings) await setSettings(tx, after.uuid, newSettings);
          }),
        async () => {
          if (!isProject(after)) return;
          const owner = await getOwner(db, after.uuid);
          if (!owner) throw new HttpError(500, `Project ${after.uuid} has no owner`);
          const roles = diffItems(inheritedBefore, await inheritedItems(db, after));
          const flowData = await projectUpdateData(db, after, owner.user, roles);
          await submitFlow(ctx, { projectUuid: after.uuid, flowName: 'project_update', flowData, forceFail, checkLock: true });
        },
        () =>
          db.transaction(async (tx) => {
            await updateProject(tx, before);
            await replaceSettings(tx, before.uuid, settingsBefore);
          }),
      ),
    );
    return projectJson(db, after, await shownLock(after));
  };

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: Params }>({
      method,
      url: '/project/api/update/:project',
      handler: async (req) => {
        const user = await requireUser(ctx, req);
        return update(req, user, bodyOf(req), forceFailOf(ctx, req));
      },
    });
  }

  app.post<{ Params: Params }>('/project/api/roles/create/:project', async (req, reply) => {
    const user = await requireUser(ctx, req);
    const forceFail = forceFailOf(ctx, req);
    const { assignment, target } = await addRole(ctx, user, req.params.project, () => bodyOf(req), forceFail);
    reply.code(201);
    return roleJson(assignment, target);
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route<{ Params: Params }>({
      method,
      url: '/project/api/roles/update/:role',
      handler: async (req) => {
        const user = await requireUser(ctx, req);
        const forceFail = forceFailOf(ctx, req);
        const { assignment, target } = await changeRole(ctx, user, req.params.role, () => bodyOf(req), forceFail);
        return roleJson(assignment, target);
      },
    });
  }

  app.delete<{ Params: Params }>('/project/api/roles/destroy/:role', async (req, reply) => {
    const user = await requireUser(ctx, req);
    await removeRole(ctx, user, req.params.role, forceFailOf(ctx, req));
    reply.code(204);
    return null;
  });

  app.post<{ Params: Params }>('/project/api/roles/owner-transfer/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const forceFail = forceFailOf(ctx, req);
    const { project, newOwner } = await transferOwner(ctx, user, req.params.project, () => bodyOf(req), forceFail);
    return { detail: `Ownership transferred to "${newOwner.username}"`, ...(await projectJson(db, project, await shownLock(project))) };
  });

  app.get('/project/api/users/list', async (req) => {
    await requireUser(ctx, req);
    return (await listUsers(db)).map(userJson);
  });

  // Not in SODAR (users come from LDAP or the admin there): lets the demo and tests add users.
  app.post('/project/api/users/create', async (req, reply) => {
    const user = await requireUser(ctx, req);
    if (!user.is_superuser) throw forbidden('Only superusers may create users');
    const body = bodyOf(req);
    const username = requireString(body, 'username').trim();
    if (!/^[A-Za-z0-9_.@-]+$/.test(username)) throw badRequest('Field "username" may hold letters, digits and _ . @ - only');
    if (await getUserByName(db, username)) throw badRequest(`User "${username}" already exists`);
    const created = await createUser(db, { username, name: optString(body, 'name'), email: optString(body, 'email') });
    const token = await createToken(db, created.uuid, 'api');
    reply.code(201);
    return { ...userJson(created), token };
  });
}

/**
 * A category's owner changed: inherited owners of every project below change
 * too, in the store only (role_update_irods_batch, as SODAR Core does).
 */
async function submitCategoryOwnerChange(ctx: SiteContext, category: Project, oldOwner: User, newOwner: User, forceFail: boolean): Promise<void> {
  const { db } = ctx;
  const rolesAdd: RoleItem[] = [];
  const rolesDelete: RoleItem[] = [];
  for (const p of await descendants(db, category.uuid)) {
    if (p.type !== PROJECT_TYPE_PROJECT) continue;
    const inherited = (await inheritedOwners(db, p)).map((u) => u.uuid);
    const direct = async (u: User): Promise<boolean> => (await getAssignmentFor(db, p.uuid, u.uuid)) !== undefined;
    if (!(await direct(newOwner))) rolesAdd.push({ project_uuid: p.uuid, username: newOwner.username });
    if (!inherited.includes(oldOwner.uuid) && !(await direct(oldOwner))) rolesDelete.push({ project_uuid: p.uuid, username: oldOwner.username });
  }
  if (rolesAdd.length === 0 && rolesDelete.length === 0) return;
  await submitFlow(ctx, { projectUuid: null, flowName: 'role_update_irods_batch', flowData: { roles_add: rolesAdd, roles_delete: rolesDelete }, forceFail });
}


/**
 * Creates a project or category from API fields (`title`, `type`, `parent`,
 * `owner`, `description`, `readme`, `public_guest_access`, `settings`) as
 * `user`; a project's flow runs before this returns. The REST API and the
 * pages both create through here.
 */
export async function createProject(ctx: SiteContext, user: User, body: Record<string, unknown>, forceFail: boolean): Promise<Project> {
  const { db } = ctx;
  const title = limited('title', requireString(body, 'title').trim(), TITLE_MAX);
  const type = requireString(body, 'type') as ProjectType;
  if (!PROJECT_TYPES.includes(type)) throw badRequest(`Field "type" must be one of ${PROJECT_TYPES.join(', ')}`);
  const parentUuid = optString(body, 'parent') || null;
  const ownerUuid = optString(body, 'owner') || user.uuid;
  const owner = await getUser(db, ownerUuid);
  if (!owner) throw badRequest(`Owner user ${ownerUuid} not found`);
  const settings = settingsOf(body) ?? {};
  await assertMayCreateIn(db, user, await checkParent(db, type, parentUuid), true);
  await checkTitle(db, title, parentUuid);
  const project: Project = {
    uuid: randomUUID(),
    type,
    parent_uuid: parentUuid,
    title,
    description: optString(body, 'description') ?? '',
    readme: optString(body, 'readme') ?? '',
    public_guest_access: optBool(body, 'public_guest_access') ?? false,
  };
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: `${type.toLowerCase()}_create`, description: `create ${type.toLowerCase()} "${title}"` };
  await tracked(ctx, info, () =>
    withCompensation(
      () =>
        db.transaction(async (tx) => {
          await insertProject(tx, project);
          await setRole(tx, project.uuid, owner.uuid, OWNER_ROLE_PK);
          await setSettings(tx, project.uuid, settings);
        }),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'project_create', flowData: await projectCreateData(db, project), forceFail });
      },
      () => deleteProjectCascade(db, project.uuid),
    ),
  );
  return project;
}

/**
 * Gives user `body.user` (uuid) the role `body.role` (a name) in the project,
 * as `user`. `body` is read after the project's visibility is checked, as the
 * API always did.
 */
export async function addRole(
  ctx: SiteContext,
  user: User,
  projectUuid: string,
  body: () => Record<string, unknown>,
  forceFail: boolean,
): Promise<{ assignment: Assignment; target: User }> {
  const { db } = ctx;
  const project = await projectFor(db, user, projectUuid, NEED.view);
  const fields = body();
  const role = roleByName(requireString(fields, 'role'));
  if (!role) throw badRequest(`Unknown role "${String(fields.role)}"`);
  await assertMayChangeRole(db, user, project, undefined, role.pk);
  if (role.pk === OWNER_ROLE_PK) throw badRequest('Use project/api/roles/owner-transfer to set the owner');
  const target = await getUser(db, requireString(fields, 'user'));
  if (!target) throw badRequest(`User ${String(fields.user)} not found`);
  if (await getAssignmentFor(db, project.uuid, target.uuid)) throw badRequest(`User "${target.username}" already has a role in this project`);
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_create', description: `add role "${role.name}" for "${target.username}"` };
  const assignment = await tracked(ctx, info, () =>
    withCompensation(
      () => setRole(db, project.uuid, target.uuid, role.pk),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_update', flowData: roleData(target, role.pk), forceFail, checkLock: true });
      },
      async () => {
        await deleteRole(db, project.uuid, target.uuid);
      },
    ),
  );
  return { assignment, target };
}

/** Changes role assignment `roleUuid` to the role named `body.role`, as `user`. */
export async function changeRole(
  ctx: SiteContext,
  user: User,
  roleUuid: string,
  body: () => Record<string, unknown>,
  forceFail: boolean,
): Promise<{ assignment: Assignment; target: User }> {
  const { db } = ctx;
  const before = await getAssignment(db, roleUuid);
  if (!before) throw notFound('Role assignment');
  const project = await projectFor(db, user, before.project_uuid, NEED.view);
  const role = roleByName(requireString(body(), 'role'));
  if (!role) throw badRequest(`Unknown role "${String(body().role)}"`);
  await assertMayChangeRole(db, user, project, before.role_pk, role.pk);
  if (role.pk === OWNER_ROLE_PK || before.role_pk === OWNER_ROLE_PK) throw badRequest('Use project/api/roles/owner-transfer to change the owner');
  const target = await getUser(db, before.user_uuid);
  if (!target) throw notFound('User');
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_update', description: `update role of "${target.username}" to "${role.name}"` };
  const a = await tracked(ctx, info, () =>
    withCompensation(
      () => setRole(db, project.uuid, target.uuid, role.pk),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_update', flowData: roleData(target, role.pk), forceFail, checkLock: true });
      },
      () => restoreAssignment(db, before),
    ),
  );
  return { assignment: a, target };
}

/** Removes role assignment `roleUuid`, as `user`. */
export async function removeRole(ctx: SiteContext, user: User, roleUuid: string, forceFail: boolean): Promise<void> {
  const { db } = ctx;
  const before = await getAssignment(db, roleUuid);
  if (!before) throw notFound('Role assignment');
  const project = await projectFor(db, user, before.project_uuid, NEED.view);
  await assertMayChangeRole(db, user, project, before.role_pk, undefined);
  if (before.role_pk === OWNER_ROLE_PK) throw badRequest('The owner role cannot be removed: transfer ownership first');
  const target = await getUser(db, before.user_uuid);
  if (!target) throw notFound('User');
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_delete', description: `remove role of "${target.username}"` };
  await tracked(ctx, info, () =>
    withCompensation(
      () => deleteRole(db, project.uuid, target.uuid),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_delete', flowData: roleData(target, before.role_pk), forceFail, checkLock: true });
      },
      () => restoreAssignment(db, before),
    ),
  );
}

/**
 * Makes `body.new_owner` (a user name) the project's owner; the old owner
 * keeps `body.old_owner_role` (default: contributor). As `user`.
 */
export async function transferOwner(
  ctx: SiteContext,
  user: User,
  projectUuid: string,
  fields: () => Record<string, unknown>,
  forceFail: boolean,
): Promise<{ project: Project; newOwner: User }> {
  const { db } = ctx;
  const project = await projectFor(db, user, projectUuid, NEED.view);
  await assertMayTransferOwner(db, user, project);
  const body = fields();
  const newOwner = await getUserByName(db, requireString(body, 'new_owner'));
  if (!newOwner) throw badRequest(`User "${String(body.new_owner)}" not found`);
  const oldRole = roleByName(optString(body, 'old_owner_role') ?? ROLE_CONTRIBUTOR);
  if (!oldRole || oldRole.pk === OWNER_ROLE_PK) throw badRequest('Field "old_owner_role" must be a role other than the owner');
  const oldOwnerRow = await getOwner(db, project.uuid);
  if (!oldOwnerRow) throw new HttpError(500, `Project ${project.uuid} has no owner`);
  if (oldOwnerRow.user_uuid === newOwner.uuid) throw badRequest(`User "${newOwner.username}" is already the owner`);
  const newOwnerBefore = await getAssignmentFor(db, project.uuid, newOwner.uuid);
  const inheritedBefore = isProject(project) ? await inheritedItems(db, project) : [];
  const apply = async (): Promise<void> => {
    await db.transaction(async (tx) => {
      await setRole(tx, project.uuid, oldOwnerRow.user_uuid, oldRole.pk);
      await setRole(tx, project.uuid, newOwner.uuid, OWNER_ROLE_PK);
    });
  };
  const undo = async (): Promise<void> => {
    await db.transaction(async (tx) => {
      await deleteRole(tx, project.uuid, newOwner.uuid);
      if (newOwnerBefore) await restoreAssignment(tx, newOwnerBefore);
      await restoreAssignment(tx, oldOwnerRow);
    });
  };
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_owner_transfer', description: `transfer ownership from "${oldOwnerRow.user.username}" to "${newOwner.username}"` };
  const submit = async (): Promise<void> => {
    if (isProject(project)) {
      const roles = diffItems(inheritedBefore, await inheritedItems(db, project));
      // project_update drops the old owner from the group and the site; as a
      // member with old_owner_role they must stay in the group, so add them back.
      roles.add.push({ project_uuid: project.uuid, username: oldOwnerRow.user.username });
      const flowData = await projectUpdateData(db, project, oldOwnerRow.user, roles);
      await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'project_update', flowData, forceFail, checkLock: true });
      // ...and the flow's callback removed the old owner's role: set the new one.
      await setRole(db, project.uuid, oldOwnerRow.user_uuid, oldRole.pk);
    } else {
      await submitCategoryOwnerChange(ctx, project, oldOwnerRow.user, newOwner, forceFail);
    }
  };
  await tracked(ctx, info, () => withCompensation(apply, submit, undo));
  return { project, newOwner };
}
