/**
 * projectroles API: projects, categories and users (roles: ../roles/routes.ts).
 * Every change to a PROJECT is written to the site's rows first and undone
 * when its flow fails, so a failed submit leaves the rows as they were.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  OWNER_ROLE_PK,
  PROJECT_TYPE_PROJECT,
  PROJECT_TYPES,
  LOCK_UNKNOWN,
  TITLE_MAX,
  type ProjectType,
} from '../constants.js';
import type { SiteContext } from '../context.js';
import type { Db } from '../db/types.js';
import { HttpError, badRequest, forbidden } from '../errors.js';
import { inheritedItems, projectCreateData, projectUpdateData, roleItemChanges } from '../flow-data.js';
import {
  createToken,
  createUser,
  descendants,
  getOwner,
  getProject,
  getSettings,
  getUser,
  getUserByName,
  insertProject,
  isProject,
  listProjects,
  listUsers,
  setRole,
  setSettings,
  updateProject,
  assertParentFits,
  assertTitleFree,
  type Project,
  type User,
} from '../repo.js';
import { projectLockShown, submitFlow, withCompensation } from '../submit.js';
import { tracked } from '../timeline.js';
import {
  NEED,
  assertMayCreateIn,
  assertMayMoveTo,
  assertMayUpdate,
  effectiveRank,
  projectFor,
} from '../api/access.js';
import { bodyOf, forceFailOf, limited, optBool, optString, requireString, requireUser } from '../api/request.js';
import { projectJson, userJson } from '../api/serialize.js';

type Params = Record<string, string>;

function settingsOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const s = body.settings;
  if (s === undefined || s === null) return undefined;
  if (typeof s !== 'object' || Array.isArray(s)) throw badRequest('Field "settings" must be an object of "<app>.<name>": value');
  for (const k of Object.keys(s)) if (!/^[^.]+\..+$/.test(k)) throw badRequest(`Setting "${k}" is not "<app>.<name>"`);
  return s as Record<string, unknown>;
}

/**
 * The parent named by `parentUuid` (null: top level), checked for existence
 * only: whether it is a category is told by `assertMayCreateIn`, and only to
 * users who may view it.
 */
async function checkParent(db: Db, type: ProjectType, parentUuid: string | null): Promise<Project | null> {
  if (parentUuid === null) {
    if (type === PROJECT_TYPE_PROJECT) throw badRequest('A project must have a parent category');
    return null;
  }
  const parent = await getProject(db, parentUuid);
  if (!parent) throw badRequest(`Parent category ${parentUuid} not found`);
  return parent;
}

/** Registers the projectroles API under `project/api/`. */
export function projectRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;

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
    return projectJson(db, p, await projectLockShown(ctx, p));
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
      const parent = await assertMayMoveTo(db, user, before, parentUuid, () => checkParent(db, before.type, parentUuid));
      if (parent) await assertParentFits(db, before, parent);
    }
    const after: Project = {
      ...before,
      parent_uuid: parentUuid,
      title: limited('title', optString(body, 'title')?.trim() || before.title, TITLE_MAX),
      description: optString(body, 'description') ?? before.description,
      readme: optString(body, 'readme') ?? before.readme,
      public_guest_access: optBool(body, 'public_guest_access') ?? before.public_guest_access,
    };
    await assertTitleFree(db, after.title, after.parent_uuid, after.uuid);
    const settingsBefore = await getSettings(db, before.uuid);
    const newSettings = settingsOf(body);
    const inheritedBefore = await inheritedItems(db, before);
    const info = { projectUuid: after.uuid, app: 'projectroles', userUuid: user.uuid, eventName: `${after.type.toLowerCase()}_update`, description: `update ${after.type.toLowerCase()} "${after.title}"` };
    await tracked(ctx, info, (event) =>
      withCompensation(
        db,
        async (tx) => {
          await updateProject(tx, after);
          if (newSettings) await setSettings(tx, after.uuid, newSettings);
          return { value: undefined, eventUuid: event.uuid, projectUuid: after.uuid, undo: { kind: 'project_restore', project: before, settings: settingsBefore } };
        },
        async () => {
          if (!isProject(after)) return;
          const owner = await getOwner(db, after.uuid);
          if (!owner) throw new HttpError(500, `Project ${after.uuid} has no owner`);
          const roles = roleItemChanges(inheritedBefore, await inheritedItems(db, after));
          const flowData = await projectUpdateData(db, after, owner.user, roles);
          await submitFlow(ctx, { projectUuid: after.uuid, flowName: 'project_update', flowData, forceFail, checkLock: true, timelineUuid: event.uuid });
        },
      ),
    );
    return projectJson(db, after, await projectLockShown(ctx, after));
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
  await assertTitleFree(db, title, parentUuid);
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
  await tracked(ctx, info, (event) =>
    withCompensation(
      db,
      async (tx) => {
        await insertProject(tx, project);
        await setRole(tx, project.uuid, owner.uuid, OWNER_ROLE_PK);
        await setSettings(tx, project.uuid, settings);
        return { value: undefined, eventUuid: event.uuid, projectUuid: project.uuid, undo: { kind: 'project_delete', project_uuid: project.uuid } };
      },
      async () => {
        if (!isProject(project)) return;
        const flowData = await projectCreateData(db, project);
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'project_create', flowData, forceFail, timelineUuid: event.uuid });
      },
    ),
  );
  return project;
}
