/**
 * projectroles API for roles: add, change and remove a member's role and
 * transfer a project's ownership. The site's rows change first and are
 * undone when the flow fails, so a failed submit leaves them as they were.
 * The pages act through the same functions.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { OWNER_ROLE_PK, PROJECT_TYPE_PROJECT, ROLE_CONTRIBUTOR, roleByName } from '../constants.js';
import type { SiteContext } from '../context.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { inheritedItems, projectUpdateData, roleData, roleItemChanges, type RoleItem } from '../flow-data.js';
import {
  assertRoleFits,
  deleteRole,
  descendants,
  getAssignment,
  getAssignmentFor,
  getOwner,
  getUser,
  getUserByName,
  inheritedOwners,
  isProject,
  restoreAssignment,
  setRole,
  type Assignment,
  type Project,
  type User,
} from '../repo.js';
import type { Db } from '../db/types.js';
import { projectLockShown, submitFlow, withCompensation, type Applied } from '../submit.js';
import { tracked } from '../timeline.js';
import { NEED, assertMayBecomeOwner, assertMayChangeRole, assertMayTransferOwner, projectFor } from '../api/access.js';
import { bodyOf, forceFailOf, optString, requireString, requireUser } from '../api/request.js';
import { projectJson, roleJson } from '../api/serialize.js';

type Params = Record<string, string>;

/** The row of an assignment, without what a query joined to it. */
const plainAssignment = (a: Assignment): Assignment => ({ uuid: a.uuid, project_uuid: a.project_uuid, user_uuid: a.user_uuid, role_pk: a.role_pk });

/** The pending step giving `users` exactly `assignments` in the project (see undo/repository.ts). */
function rolesUndo(eventUuid: string, projectUuid: string, users: string[], assignments: Assignment[]): Omit<Applied<unknown>, 'value'> {
  return { eventUuid, projectUuid, undo: { kind: 'roles_restore', project_uuid: projectUuid, users, assignments: assignments.map(plainAssignment) } };
}

/** Registers the role routes under `project/api/roles/`. */
export function roleRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;
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
    return { detail: `Ownership transferred to "${newOwner.username}"`, ...(await projectJson(db, project, await projectLockShown(ctx, project))) };
  });
}

/**
 * A category's owner changed: inherited owners of every project below change
 * too, in the store only (role_update_irods_batch, as SODAR Core does).
 */
async function submitCategoryOwnerChange(
  ctx: SiteContext,
  category: Project,
  oldOwner: User,
  newOwner: User,
  forceFail: boolean,
  timelineUuid: string,
): Promise<void> {
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
  await submitFlow(ctx, { projectUuid: null, flowName: 'role_update_irods_batch', flowData: { roles_add: rolesAdd, roles_delete: rolesDelete }, forceFail, timelineUuid });
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
  await assertRoleFits(db, project, target.uuid, role.pk);
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_create', description: `add role "${role.name}" for "${target.username}"` };
  const assignment = await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      async (tx) => ({
        value: await setRole(tx, project.uuid, target.uuid, role.pk),
        ...rolesUndo(event.uuid, project.uuid, [target.uuid], []),
      }),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_update', flowData: roleData(target, role.pk), forceFail, checkLock: true, timelineUuid: event.uuid });
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
  await assertRoleFits(db, project, target.uuid, role.pk);
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_update', description: `update role of "${target.username}" to "${role.name}"` };
  const a = await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      async (tx) => ({
        value: await setRole(tx, project.uuid, target.uuid, role.pk),
        ...rolesUndo(event.uuid, project.uuid, [target.uuid], [before]),
      }),
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_update', flowData: roleData(target, role.pk), forceFail, checkLock: true, timelineUuid: event.uuid });
      },
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
  await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      async (tx) => {
        await deleteRole(tx, project.uuid, target.uuid);
        return { value: undefined, ...rolesUndo(event.uuid, project.uuid, [target.uuid], [before]) };
      },
      async () => {
        if (!isProject(project)) return;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_delete', flowData: roleData(target, before.role_pk), forceFail, checkLock: true, timelineUuid: event.uuid });
      },
    ),
  );
}

/**
 * Makes `body.new_owner` (a user name, a member of the project: see
 * {@link assertMayBecomeOwner}) the project's owner; the old owner keeps
 * `body.old_owner_role` (default: contributor). As `user`.
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
  await assertMayBecomeOwner(db, project, newOwner);
  // the new owner leaves whatever role they held, so it does not count against the old owner's new one
  await assertRoleFits(db, project, oldOwnerRow.user_uuid, oldRole.pk, [newOwner.uuid]);
  const newOwnerBefore = await getAssignmentFor(db, project.uuid, newOwner.uuid);
  const inheritedBefore = isProject(project) ? await inheritedItems(db, project) : [];
  // the old owner's assignment itself stays (same uuid), as when SODAR Core changes a role
  const kept: Assignment = { uuid: oldOwnerRow.uuid, project_uuid: project.uuid, user_uuid: oldOwnerRow.user_uuid, role_pk: oldRole.pk };
  const apply = async (tx: Db, eventUuid: string): Promise<Applied<undefined>> => {
    // project_update removes the old owner's site role and sets the new owner's: with the rows already
    // as the flow leaves them, its role callbacks change nothing here, and no callback can take away
    // the role the old owner keeps (it comes back once the flow is done)
    if (isProject(project)) await deleteRole(tx, project.uuid, oldOwnerRow.user_uuid);
    else await restoreAssignment(tx, kept);
    await setRole(tx, project.uuid, newOwner.uuid, OWNER_ROLE_PK);
    const assignmentsBefore = [...(newOwnerBefore ? [newOwnerBefore] : []), plainAssignment(oldOwnerRow)];
    return {
      value: undefined,
      ...rolesUndo(eventUuid, project.uuid, [newOwner.uuid, oldOwnerRow.user_uuid], assignmentsBefore),
      // recorded with the change, so a crash after the flow cannot cost the old owner the role they keep
      ...(isProject(project) ? { onOk: rolesUndo(eventUuid, project.uuid, [oldOwnerRow.user_uuid], [kept]).undo } : {}),
    };
  };
  const info = { projectUuid: project.uuid, app: 'projectroles', userUuid: user.uuid, eventName: 'role_owner_transfer', description: `transfer ownership from "${oldOwnerRow.user.username}" to "${newOwner.username}"` };
  const submit = async (eventUuid: string): Promise<void> => {
    if (isProject(project)) {
      const roles = roleItemChanges(inheritedBefore, await inheritedItems(db, project));
      // project_update drops the old owner from the group and the site; as a
      // member with old_owner_role they must stay in the group, so add them back.
      roles.add.push({ project_uuid: project.uuid, username: oldOwnerRow.user.username });
      const flowData = await projectUpdateData(db, project, oldOwnerRow.user, roles);
      await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'project_update', flowData, forceFail, checkLock: true, timelineUuid: eventUuid });
    } else {
      await submitCategoryOwnerChange(ctx, project, oldOwnerRow.user, newOwner, forceFail, eventUuid);
    }
  };
  await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      (tx) => apply(tx, event.uuid),
      () => submit(event.uuid),
    ),
  );
  return { project, newOwner };
}
