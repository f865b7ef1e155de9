/**
 * Building a flow: a thin layer over LinearFlow. A flow's build is a plain
 * list of `plan.add(task)`; tasks read what they change in their own
 * prepare, so building reads nothing for undo. The plan knows the request
 * (targets, callback URL), the store layout, and the landing zone status the
 * flow last set, from which each zone status task's revert status follows.
 *
 * @module
 */
import { LinearFlow } from '../engine/flow.js';
import type { Task } from '../engine/types.js';
import { SiteCallError } from '../site/client.js';
import { Target, type TaskContext } from '../tasks/context.js';
import * as site from '../tasks/site-tasks.js';
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
  private readonly planned = new Set<string>();
  private zoneLast: site.ZoneStatusValue | null = null;
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

  /** The site's callback base URL for this request: every site task's `sodar_url`. */
  get sodarUrl(): string {
    return this.input.sodarUrl;
  }

  /** Appends a task (dropped by the flow when its target is not requested). */
  add(task: Task<TaskContext>): this {
    this.flow.add(task);
    return this;
  }

  /**
   * Appends a task unless the same one (kind and args) is already planned,
   * e.g. creating a user a flow names twice.
   */
  addOnce(task: Task<TaskContext>): this {
    const key = `${task.kind}\u0000${JSON.stringify(task.args)}`;
    if (this.planned.has(key)) return this;
    this.planned.add(key);
    return this.add(task);
  }

  /**
   * Appends a closing task: one the site cannot undo (a final zone status, a
   * sheet deletion) or a status announcing success. A forced failure stops
   * before the first of them, so it never shows or does them.
   */
  addClosing(task: Task<TaskContext>): this {
    this.flow.addClosing(task);
    return this;
  }

  /** The finished flow. */
  done(): LinearFlow<TaskContext> {
    return this.flow;
  }

  // ----------------------------------------------------------- zone statuses

  /** The status the landing zone has when the flow starts: what its first status task reverts to. */
  zoneFoundAt(status: string, statusInfo: string): this {
    this.zoneLast = { status, status_info: statusInfo };
    return this;
  }

  /**
   * A zone status task. Its revert sets the status the flow set before (or
   * found, see {@link zoneFoundAt}); one that sets the status the zone
   * already has has nothing to revert; `final`: a status the zone never
   * leaves (MOVED, DELETED), never reverted. `extra`: fields sent along
   * (ZoneExtra).
   */
  zoneStatus(
    zoneUuid: string,
    status: string,
    statusInfo: string,
    opts: { final?: boolean; extra?: Record<string, number> } = {},
  ): Task<TaskContext> {
    const last = opts.final ? null : this.zoneLast;
    if (last === null && !opts.final) throw new Error(`zone status ${status}: call zoneFoundAt first`);
    const revertTo = last !== null && last.status === status && last.status_info === statusInfo ? null : last;
    this.zoneLast = { status, status_info: statusInfo };
    return site.setZoneStatus(`Set landing zone status to ${status}`, {
      sodar_url: this.sodarUrl,
      zone_uuid: zoneUuid,
      flow_name: this.input.flowName,
      status,
      status_info: statusInfo,
      revert_to: revertTo,
      ...(opts.extra ? { extra: opts.extra } : {}),
    });
  }

  // ------------------------------------------------------------- site reads

  /**
   * The project fields the site reports (null when the request does not
   * include the site): a project update sends every field, so the ones the
   * request leaves out come from here. A failed read fails the build, naming the call.
   */
  async projectFields(projectUuid: string): Promise<site.ReportedProject | null> {
    if (!this.sodar) return null;
    try {
      return await site.getProject(this.deps.site, this.sodarUrl, projectUuid);
    } catch (err) {
      const detail = err instanceof SiteCallError ? err.message : String(err);
      throw new FlowBuildError(`Could not read the project from the site: ${detail}`, { cause: err });
    }
  }
}
