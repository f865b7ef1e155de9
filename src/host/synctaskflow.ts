/**
 * `synctaskflow` (protocol section 5): brings the taskflow service's data
 * store in line with the site. For each PROJECT: project_create (a failure
 * stops the sync), role_sync_delete_all, and role_update per non-owner role;
 * then role_update_irods_batch for owners inherited from categories; then
 * each active app plugin's own sync data. Targets are TASKFLOW_TARGETS
 * without `sodar`: the site already has its data.
 *
 * @module
 */
import { OWNER_ROLE_PK, PROJECT_TYPE_PROJECT } from './constants.js';
import type { SiteContext } from './context.js';
import { HttpError } from './errors.js';
import { inheritedOwnerItems, projectCreateData, requireOwner, roleData, type RoleItem } from './flow-data.js';
import { DbPluginStore } from './plugin-store.js';
import type { PluginRegistry } from './plugins/index.js';
import { getUser, listAssignments, listProjects } from './repo.js';
import { submitFlow } from './submit.js';

/** The taskflow backend plugin is not registered or not enabled. */
export class TaskflowNotEnabledError extends Error {
  override readonly name = 'TaskflowNotEnabledError';
  constructor() {
    super(
      'Taskflow backend plugin is not enabled: run "taskflow manage syncplugins" and include "taskflow" in ENABLED_BACKEND_PLUGINS',
    );
  }
}

/** A project's project_create failed: the sync stopped there. */
export class SyncProjectError extends Error {
  override readonly name = 'SyncProjectError';
  constructor(
    readonly projectUuid: string,
    readonly title: string,
    reason: string,
  ) {
    super(`Sync of project "${title}" (${projectUuid}) failed: ${reason}`);
  }
}

/** What a sync did. */
export interface SyncSummary {
  projects: number;
  roles: number;
  inheritedOwners: number;
  appSubmits: number;
  /** Messages of app sync submits that failed (the sync goes on after those, as SODAR's does). */
  failures: string[];
}

const reasonOf = (err: unknown): string => (err instanceof HttpError ? err.detail : err instanceof Error ? err.message : String(err));

/** Runs the sync, printing a line per project and a summary. */
export async function syncTaskflow(ctx: SiteContext, registry: PluginRegistry, print: (line: string) => void): Promise<SyncSummary> {
  if (!(await ctx.taskflow())) throw new TaskflowNotEnabledError();
  const { db } = ctx;
  const targets = ctx.config.targets.filter((t) => t !== 'sodar');
  const summary: SyncSummary = { projects: 0, roles: 0, inheritedOwners: 0, appSubmits: 0, failures: [] };
  const inherited: RoleItem[] = [];
  const projects = (await listProjects(db)).filter((p) => p.type === PROJECT_TYPE_PROJECT);
  print(`Syncing ${projects.length} project(s) to targets: ${targets.join(', ') || '(none)'}`);

  for (const project of projects) {
    try {
      const owner = await requireOwner(db, project);
      await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'project_create', flowData: await projectCreateData(db, project), targets });
      await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_sync_delete_all', flowData: { owner_username: owner.username }, targets });
      let roles = 0;
      for (const a of await listAssignments(db, project.uuid)) {
        if (a.role_pk === OWNER_ROLE_PK) continue;
        const user = await getUser(db, a.user_uuid);
        if (!user) continue;
        await submitFlow(ctx, { projectUuid: project.uuid, flowName: 'role_update', flowData: roleData(user, a.role_pk), targets });
        roles++;
      }
      inherited.push(...(await inheritedOwnerItems(db, project, owner.uuid)));
      summary.projects++;
      summary.roles += roles;
      print(`Synced project "${project.title}" (${project.uuid}): owner ${owner.username}, ${roles} member role(s)`);
    } catch (err) {
      throw new SyncProjectError(project.uuid, project.title, reasonOf(err));
    }
  }

  if (inherited.length > 0) {
    await submitFlow(ctx, { projectUuid: null, flowName: 'role_update_irods_batch', flowData: { roles_add: inherited, roles_delete: [] }, targets });
    summary.inheritedOwners = inherited.length;
    print(`Synced ${inherited.length} inherited category owner membership(s)`);
  }

  const store = new DbPluginStore(db);
  for (const plugin of await registry.getActivePlugins('project_app', { store })) {
    if (!plugin.getTaskflowSyncData) continue;
    const items = await plugin.getTaskflowSyncData();
    let ok = 0;
    for (const item of items) {
      try {
        await submitFlow(ctx, { projectUuid: item.project_uuid, flowName: item.flow_name, flowData: item.flow_data, targets });
        ok++;
      } catch (err) {
        summary.failures.push(`${plugin.name}: ${item.flow_name} for project ${item.project_uuid}: ${reasonOf(err)}`);
      }
    }
    summary.appSubmits += ok;
    print(`Synced app "${plugin.name}": ${ok} of ${items.length} submit(s) OK`);
  }

  print(
    `Sync done: ${summary.projects} project(s), ${summary.roles} member role(s), ${summary.inheritedOwners} inherited owner(s), ` +
      `${summary.appSubmits} app submit(s), ${summary.failures.length} failure(s)`,
  );
  for (const f of summary.failures) print(`FAILED ${f}`);
  return summary;
}
