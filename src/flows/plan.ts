/**
 * Building a flow: a thin layer over LinearFlow that makes each task with the
 * snapshot its crash-revert needs (read from the store or the site while
 * building), skips reads for targets the request does not include, and puts
 * the forced-failure point before the flow's irreversible tail.
 *
 * @module
 */
import { LinearFlow } from '../engine/flow.js';
import type { Json, Task } from '../engine/types.js';
import { SiteCallError } from '../site/client.js';
import type { AccessLevel } from '../store/types.js';
import { Target, type TaskContext } from '../tasks/context.js';
import { forcedFailure } from '../tasks/forced-failure.js';
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { FlowBuildError } from './errors.js';
import type { LayoutBase } from './layout.js';
import type { FlowDeps, FlowInput } from './types.js';

/** The store layout base of these deps. */
export function layoutOf(deps: FlowDeps): LayoutBase {
  return { zone: deps.store.zone, rootPath: deps.config.irodsRootPath };
}

/** Accumulates a flow's tasks in the order of protocol section 5. */
export class FlowPlan {
  private readonly flow: LinearFlow<TaskContext>;
  private readonly tail: Task<TaskContext>[] = [];
  private readonly usersPlanned = new Set<string>();
  /** Reads of the world before the flow, shared by the tasks' snapshots (keeps building linear). */
  private readonly trashListings = new Map<string, string[]>();
  readonly layout: LayoutBase;

  constructor(
    readonly input: FlowInput,
    readonly deps: FlowDeps,
  ) {
    this.flow = new LinearFlow<TaskContext>(input.flowName, input.targets);
    this.layout = layoutOf(deps);
  }

  /** Whether the request includes the data store. */
  get irods(): boolean {
    return this.input.targets.includes(Target.store);
  }

  /** Whether the request includes the host site. */
  get sodar(): boolean {
    return this.input.targets.includes(Target.site);
  }

  private get url(): string {
    return this.input.sodarUrl;
  }

  /** Appends a task (dropped by the flow when its target is not requested). */
  add(task: Task<TaskContext>): this {
    this.flow.add(task);
    return this;
  }

  /**
   * Appends a closing task: one the site cannot undo (a final zone status, a
   * sheet deletion) or a status announcing success. These run after the
   * forced-failure point, so a forced failure never shows or does them.
   */
  addFinal(task: Task<TaskContext>): this {
    this.tail.push(task);
    return this;
  }

  /** The finished flow: the tasks, the forced failure when asked for, then the irreversible tail. */
  done(): LinearFlow<TaskContext> {
    if (this.input.forceFail && this.input.targets.length > 0) this.flow.add(forcedFailure(this.input.targets[0]));
    for (const t of this.tail) this.flow.add(t);
    return this.flow;
  }

  // ------------------------------------------------------------- store tasks

  async createCollections(name: string, paths: string[]): Promise<this> {
    if (!this.irods) return this;
    const new_paths = await store.missingCollections(this.deps.store, paths);
    return this.add(store.createCollections(name, { paths, new_paths }));
  }

  /** `before`: the principal's access before the flow when already read (else read here). */
  async setAccess(
    name: string,
    path: string,
    principal: string,
    level: AccessLevel,
    recursive: boolean,
    before?: store.AccessSnapshot | null,
  ): Promise<this> {
    if (!this.irods) return this;
    if (before === undefined) before = await store.snapshotAccess(this.deps.store, path, principal, recursive);
    return this.add(store.setAccess(name, { path, name: principal, level, recursive, before }));
  }

  async setInheritance(name: string, path: string, inherit: boolean): Promise<this> {
    if (!this.irods) return this;
    const entry = await this.deps.store.stat(path);
    const before = entry?.type === 'collection' ? entry.inherit : null;
    return this.add(store.setInheritance(name, { path, inherit, before }));
  }

  /** Creates the user unless this flow already planned to. */
  async createUser(name: string, user: string): Promise<this> {
    if (!this.irods || this.usersPlanned.has(user)) return this;
    this.usersPlanned.add(user);
    const existed = (await this.deps.store.getUser(user)) !== null;
    return this.add(store.createUser(name, { name: user, user_type: 'rodsuser', existed }));
  }

  async createGroup(name: string, group: string): Promise<this> {
    if (!this.irods) return this;
    const existed = (await this.deps.store.getGroup(group)) !== null;
    return this.add(store.createGroup(name, { name: group, existed }));
  }

  /** One indexed lookup per call: linear in the memberships planned, not in the group's size. */
  private wasMember(group: string, user: string): Promise<boolean> {
    return this.deps.store.isGroupMember(group, user);
  }

  async addGroupMember(name: string, group: string, user: string): Promise<this> {
    if (!this.irods) return this;
    const was_member = await this.wasMember(group, user);
    return this.add(store.addGroupMember(name, { group, user, was_member }));
  }

  async removeGroupMember(name: string, group: string, user: string): Promise<this> {
    if (!this.irods) return this;
    const was_member = await this.wasMember(group, user);
    return this.add(store.removeGroupMember(name, { group, user, was_member }));
  }

  /** Sets one metadata attribute to `value`, or removes it when `value` is null. */
  async setMetadata(name: string, path: string, attribute: string, value: string | null): Promise<this> {
    if (!this.irods) return this;
    const exists = (await this.deps.store.stat(path)) !== null;
    const before = exists
      ? (await this.deps.store.getMetadata(path))
          .filter((a) => a.attribute === attribute)
          .map((a) => ({ attribute: a.attribute, value: a.value, unit: a.unit }))
      : null;
    return this.add(store.setMetadata(name, { path, attribute, value, unit: '', before }));
  }

  async trash(name: string, path: string, refuseObjects = false): Promise<this> {
    if (!this.irods) return this;
    const known_trash = await store.trashedBefore(this.deps.store, path, this.trashListings);
    return this.add(store.trash(name, { path, refuse_objects: refuseObjects, known_trash }));
  }

  // -------------------------------------------------------------- site tasks

  /** A site read while building; its failure is a build failure naming the call. */
  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const detail = err instanceof SiteCallError ? err.message : String(err);
      throw new FlowBuildError(`Could not read ${what} from the site: ${detail}`, { cause: err });
    }
  }

  async setRole(name: string, projectUuid: string, userUuid: string, rolePk: number): Promise<this> {
    if (!this.sodar) return this;
    const before = await this.read('the role', () => site.getRole(this.deps.site, this.url, projectUuid, userUuid));
    return this.add(
      site.setRole(name, { sodar_url: this.url, project_uuid: projectUuid, user_uuid: userUuid, role_pk: rolePk, before }),
    );
  }

  async deleteRole(name: string, projectUuid: string, userUuid: string): Promise<this> {
    if (!this.sodar) return this;
    const before = await this.read('the role', () => site.getRole(this.deps.site, this.url, projectUuid, userUuid));
    return this.add(site.deleteRole(name, { sodar_url: this.url, project_uuid: projectUuid, user_uuid: userUuid, before }));
  }

  /** The project fields the site reports (null when the request does not include the site). */
  async projectFields(projectUuid: string): Promise<site.ReportedProject | null> {
    if (!this.sodar) return null;
    return this.read('the project', () => site.getProject(this.deps.site, this.url, projectUuid));
  }

  async updateProject(name: string, projectUuid: string, fields: site.ProjectFields, before: site.ReportedProject): Promise<this> {
    if (!this.sodar) return this;
    return this.add(site.updateProject(name, { sodar_url: this.url, project_uuid: projectUuid, fields, before }));
  }

  async setSettings(name: string, projectUuid: string, settings: Record<string, Json>): Promise<this> {
    if (!this.sodar || Object.keys(settings).length === 0) return this;
    const before = await this.read('the settings', () =>
      site.getSettings(this.deps.site, this.url, projectUuid, Object.keys(settings)),
    );
    return this.add(site.setSettings(name, { sodar_url: this.url, project_uuid: projectUuid, settings, before }));
  }

  async setDirStatus(name: string, projectUuid: string, dirStatus: boolean): Promise<this> {
    if (!this.sodar) return this;
    const before = await this.read('the sample sheet status', () => site.getDirStatus(this.deps.site, this.url, projectUuid));
    return this.add(site.setDirStatus(name, { sodar_url: this.url, project_uuid: projectUuid, dir_status: dirStatus, before }));
  }

  /**
   * A zone status task; `revertTo` is what a rollback sets (the site cannot be
   * asked for the current status); `extra`: fields sent along (ZoneExtra).
   */
  zoneStatus(
    zoneUuid: string,
    status: string,
    statusInfo: string,
    revertTo: { status: string; status_info: string } | null,
    extra?: Record<string, number>,
  ): Task<TaskContext> {
    return site.setZoneStatus(`Set landing zone status to ${status}`, {
      sodar_url: this.url,
      zone_uuid: zoneUuid,
      flow_name: this.input.flowName,
      status,
      status_info: statusInfo,
      revert_to: revertTo,
      ...(extra ? { extra } : {}),
    });
  }

  deleteSheet(name: string, projectUuid: string): Task<TaskContext> {
    return site.deleteSheet(name, { sodar_url: this.url, project_uuid: projectUuid });
  }
}
