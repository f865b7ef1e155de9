/**
 * Pages of projects and categories: the home tree, a project with its
 * members and timeline, its sample sheet; and their forms, each calling the
 * REST API's own function for the action.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NEED, effectiveRank, ownerCandidates, projectFor } from '../api/access.js';
import { createProject } from '../projects/routes.js';
import { addRole, changeRole, removeRole, transferOwner } from '../roles/routes.js';
import { createCollections, importSheet } from '../sheets/routes.js';
import {
  LOCK_UNKNOWN,
  PROJECT_TYPE_CATEGORY,
  PROJECT_TYPE_PROJECT,
  ROLES,
  ROLE_CONTRIBUTOR,
  ROLE_DELEGATE,
  ROLE_GUEST,
  ROLE_OWNER,
  roleByPk,
  type LockShown,
} from '../constants.js';
import type { SiteContext } from '../context.js';
import { badRequest } from '../errors.js';
import { getAssignment, getInvestigation, listAssays, listAssignments, listProjects, listStudies, listUsers, type Project, type User } from '../repo.js';
import { lockState } from '../submit.js';
import type { PageView, Pages } from './index.js';
import { pageNumber, timelinePage } from './queries.js';

type Params = Record<string, string>;
type Body = Record<string, unknown>;

/** The role name a rank stands for; superusers are named as such. */
export function roleLabel(user: User, rank: number): string {
  if (user.is_superuser) return 'superuser';
  return ROLES.find((r) => r.rank === rank)?.name ?? 'no role';
}

/** What the user may do in a project, for showing only the forms that can succeed. */
export interface Abilities {
  role: string;
  contribute: boolean;
  manage: boolean;
  own: boolean;
}

/** The user's abilities in `project` (the actions check again: these only hide forms). */
export async function abilities(ctx: SiteContext, user: User, project: Project): Promise<Abilities> {
  const rank = await effectiveRank(ctx.db, user, project);
  return { role: roleLabel(user, rank), contribute: rank <= NEED.contribute, manage: rank <= NEED.manage, own: rank <= NEED.own };
}

/** A tree node of the home page. */
interface TreeNode {
  project: Project;
  role: string;
  children: TreeNode[];
}

/** Reads a study list typed one study a line: `Study title: Assay A, Assay B`. */
export function parseSheetText(text: string): { title: string; assays: { title: string }[] }[] {
  const studies = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line, i) => {
      const at = line.indexOf(':');
      const title = (at < 0 ? line : line.slice(0, at)).trim() || `Study ${i + 1}`;
      const assays = at < 0 ? [] : line.slice(at + 1).split(',').map((a) => a.trim()).filter((a) => a !== '');
      return { title, assays: assays.map((a) => ({ title: a })) };
    });
  if (studies.length === 0) throw badRequest('Type at least one study, one a line: "Study title: Assay A, Assay B"');
  return studies;
}

/**
 * The label of the ownership form's role select: the role the current
 * owner keeps after the transfer, which is the viewer's own only when the
 * viewer owns the project (`owner`: its owner, if any).
 */
export function oldOwnerLabel(owner: Pick<User, 'uuid' | 'username'> | undefined, viewer: Pick<User, 'uuid'>): string {
  return owner === undefined || owner.uuid === viewer.uuid ? 'Your role after' : `Role of ${owner.username} after`;
}

const str = (body: Body, key: string): string => (typeof body[key] === 'string' ? (body[key] as string) : '');

/** Registers the project pages; returns the home page handler (served at `/`). */
export function projectPages(app: FastifyInstance, ctx: SiteContext, pages: Pages): { home: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> } {
  const { db } = ctx;
  const projectUrl = (uuid: string): string => `/project/${uuid}`;

  const homeView = async (user: User): Promise<PageView> => {
    const all = await listProjects(db);
    const nodes = new Map<string, TreeNode>();
    const creatable: Project[] = [];
    for (const p of all) {
      const rank = await effectiveRank(db, user, p);
      if (rank > NEED.view) continue;
      nodes.set(p.uuid, { project: p, role: roleLabel(user, rank), children: [] });
      if (p.type === PROJECT_TYPE_CATEGORY && rank <= NEED.contribute) creatable.push(p);
    }
    const roots: TreeNode[] = [];
    for (const node of nodes.values()) {
      const parent = node.project.parent_uuid ? nodes.get(node.project.parent_uuid) : undefined;
      (parent ? parent.children : roots).push(node);
    }
    const byTitle = (a: TreeNode, b: TreeNode): number => a.project.title.localeCompare(b.project.title);
    const sort = (list: TreeNode[]): void => {
      list.sort(byTitle);
      for (const n of list) sort(n.children);
    };
    sort(roots);
    return { name: 'home.njk', data: { title: 'Projects', roots, creatable: creatable.sort((a, b) => a.title.localeCompare(b.title)) } };
  };

  const home = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { name, data } = await homeView(await pages.user(req));
    return pages.show(req, reply, name, data);
  };

  app.post('/project/create', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const body = (req.body ?? {}) as Body;
    return pages.form(req, reply, 'project-create', () => homeView(user), async () => {
      const project = await createProject(ctx, user, { ...body, parent: str(body, 'parent') || undefined }, false);
      return pages.done(req, reply, projectUrl(project.uuid), `Created ${project.type.toLowerCase()} "${project.title}".`);
    });
  });

  /** A project's page; `timelineAt` is the timeline page asked for (1 when shown again under a refused form). */
  const projectView = async (user: User, uuid: string, timelineAt = 1): Promise<PageView> => {
    const project = await projectFor(db, user, uuid, NEED.view);
    const can = await abilities(ctx, user, project);
    const users = await listUsers(db);
    const byUuid = new Map(users.map((u) => [u.uuid, u]));
    const members = (await listAssignments(db, project.uuid))
      .map((a) => ({ uuid: a.uuid, user: byUuid.get(a.user_uuid), role: roleByPk(a.role_pk)?.name ?? '', isOwner: roleByPk(a.role_pk)?.name === ROLE_OWNER }))
      .sort((a, b) => Number(b.isOwner) - Number(a.isOwner) || (a.user?.username ?? '').localeCompare(b.user?.username ?? ''));
    const memberUuids = new Set(members.map((m) => m.user?.uuid));
    const grantable = [ROLE_CONTRIBUTOR, ROLE_GUEST, ...(can.own ? [ROLE_DELEGATE] : [])];
    const locked: LockShown = project.type === PROJECT_TYPE_PROJECT ? await lockState(ctx, project.uuid) : false;
    const timeline = await timelinePage(db, project.uuid, timelineAt);
    const parent = project.parent_uuid ? (await listProjects(db)).find((p) => p.uuid === project.parent_uuid) : undefined;
    return {
      name: 'project.njk',
      data: {
        title: project.title,
        project,
        parent,
        can,
        members,
        outsiders: users.filter((u) => !memberUuids.has(u.uuid)),
        // the transfer takes only these: offering anyone else would only lead to its refusal
        newOwners: can.own ? await ownerCandidates(db, project) : [],
        // a superuser or a category's owner may transfer too: the role chosen is the current owner's, not theirs
        oldOwnerLabel: oldOwnerLabel(members.find((m) => m.isOwner)?.user, user),
        grantable,
        oldOwnerRoles: [ROLE_DELEGATE, ROLE_CONTRIBUTOR, ROLE_GUEST],
        locked,
        lockUnknown: locked === LOCK_UNKNOWN,
        timeline,
        isProject: project.type === PROJECT_TYPE_PROJECT,
      },
    };
  };

  app.get<{ Params: Params; Querystring: Record<string, string> }>('/project/:project', async (req, reply) => {
    const { name, data } = await projectView(await pages.user(req), req.params.project, pageNumber(req.query.page));
    return pages.show(req, reply, name, data);
  });

  app.post<{ Params: Params }>('/project/:project/roles/add', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const body = (req.body ?? {}) as Body;
    return pages.form(req, reply, 'role-add', () => projectView(user, req.params.project), async () => {
      const { target, assignment } = await addRole(ctx, user, req.params.project, () => body, false);
      return pages.done(req, reply, projectUrl(req.params.project), `Added ${target.username} as ${roleByPk(assignment.role_pk)?.name ?? ''}.`);
    });
  });

  app.post<{ Params: Params }>('/project/role/:role/change', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const before = await getAssignment(db, req.params.role);
    // Without the assignment the action answers 404, which never shows a page again.
    const view = (): Promise<PageView> => projectView(user, before?.project_uuid ?? '');
    return pages.form(req, reply, `role-change-${req.params.role}`, view, async () => {
      const { target, assignment } = await changeRole(ctx, user, req.params.role, () => (req.body ?? {}) as Body, false);
      return pages.done(req, reply, projectUrl(before?.project_uuid ?? assignment.project_uuid), `${target.username} is now ${roleByPk(assignment.role_pk)?.name ?? ''}.`);
    });
  });

  app.post<{ Params: Params }>('/project/role/:role/remove', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const before = await getAssignment(db, req.params.role);
    await removeRole(ctx, user, req.params.role, false);
    return pages.done(req, reply, before ? projectUrl(before.project_uuid) : '/', 'Removed the member.');
  });

  app.post<{ Params: Params }>('/project/:project/owner', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    return pages.form(req, reply, 'owner-transfer', () => projectView(user, req.params.project), async () => {
      const { newOwner } = await transferOwner(ctx, user, req.params.project, () => (req.body ?? {}) as Body, false);
      return pages.done(req, reply, projectUrl(req.params.project), `Ownership transferred to ${newOwner.username}.`);
    });
  });

  app.get<{ Params: Params; Querystring: Record<string, string> }>('/timeline/:project', async (req, reply) => {
    const user = await pages.user(req);
    const project = await projectFor(db, user, req.params.project, NEED.view);
    const timeline = await timelinePage(db, project.uuid, pageNumber(req.query.page));
    return pages.show(req, reply, 'timeline.njk', { title: `Timeline of ${project.title}`, project, timeline });
  });

  const sheetView = async (user: User, uuid: string): Promise<PageView> => {
    const project = await projectFor(db, user, uuid, NEED.view);
    const can = await abilities(ctx, user, project);
    const inv = await getInvestigation(db, project.uuid);
    const studies = [];
    if (inv) for (const s of await listStudies(db, inv.uuid)) studies.push({ ...s, assays: await listAssays(db, s.uuid) });
    return { name: 'sheet.njk', data: { title: `Sample sheet of ${project.title}`, project, can, inv, studies } };
  };

  app.get<{ Params: Params }>('/samplesheets/:project', async (req, reply) => {
    const { name, data } = await sheetView(await pages.user(req), req.params.project);
    return pages.show(req, reply, name, data);
  });

  app.post<{ Params: Params }>('/samplesheets/:project/import', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const body = (req.body ?? {}) as Body;
    return pages.form(req, reply, 'sheet-import', () => sheetView(user, req.params.project), async () => {
      await importSheet(ctx, user, req.params.project, () => ({ title: str(body, 'title') || undefined, studies: parseSheetText(str(body, 'studies')) }));
      return pages.done(req, reply, `/samplesheets/${req.params.project}`, 'Imported the sample sheet.');
    });
  });

  app.post<{ Params: Params }>('/samplesheets/:project/collections', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const colls = await createCollections(ctx, user, req.params.project, false);
    return pages.done(req, reply, `/samplesheets/${req.params.project}`, `Created ${colls.length} collections in the store.`);
  });

  return { home };
}
