/**
 * The shape every flow file follows: required fields, modes, a `parse` that
 * checks and types the flow data (used by both validate and build), the
 * queue its runs wait in, and a `build` that reads like the flow's list of steps.
 *
 * @module
 */
import type { LinearFlow } from '../engine/flow.js';
import type { TaskContext } from '../tasks/context.js';
import { Target } from '../tasks/context.js';
import { Endpoint } from '../tasks/site-tasks.js';
import { FlowPlan } from './plan.js';
import type { FlowDefinition, FlowDeps, FlowInput, FlowQueue, RequestMode } from './types.js';
import { bool, checkMode, requireFields, str } from './validate.js';
import { STATUS_INFO_MAX, ZoneExtra, zoneFailureInfo } from './zone-status.js';

/** What a flow file declares. */
export interface FlowSpec<P> {
  name: string;
  modes: readonly RequestMode[];
  /** flow_data fields that must be present and not an empty string. */
  required: readonly string[];
  /** Default true: the run takes the project lock. */
  needsLock?: (input: FlowInput) => boolean;
  /** Default `run`: see {@link FlowQueue}. */
  queue?: (input: FlowInput) => FlowQueue;
  /** Default none: see {@link FlowDefinition.lane}. */
  lane?: (input: FlowInput) => string | undefined;
  /** Checks and types the flow data (throws FlowValidationError); may read the store, changes nothing. */
  parse(input: FlowInput, deps: FlowDeps): P | Promise<P>;
  /** Adds the flow's tasks in order (reads of the store only to decide which tasks there are). */
  build(plan: FlowPlan, params: P): Promise<void> | void;
  onFailure?: FlowDefinition['onFailure'];
}

/** Turns a flow file's spec into the {@link FlowDefinition} the service uses. */
export function defineFlow<P>(spec: FlowSpec<P>): FlowDefinition {
  const parse = async (input: FlowInput, deps: FlowDeps): Promise<P> => {
    checkMode(input, spec.modes);
    requireFields(input.flowData, spec.required);
    return spec.parse(input, deps);
  };
  return {
    name: spec.name,
    modes: spec.modes,
    needsLock: spec.needsLock ?? (() => true),
    queue: spec.queue ?? (() => 'run'),
    lane: spec.lane ?? (() => undefined),
    async validate(input, deps) {
      await parse(input, deps);
    },
    async build(input, deps): Promise<LinearFlow<TaskContext>> {
      const params = await parse(input, deps);
      const plan = new FlowPlan(input, deps);
      await spec.build(plan, params);
      return plan.done();
    },
    onFailure: spec.onFailure,
  };
}

/**
 * onFailure of landing zone flows: sets the zone to `status` (`NOT CREATED`
 * or `FAILED`) with the original's text for the failure (see
 * {@link zoneFailureInfo}), when the request includes the site. Never throws.
 */
export function setZoneStatusOnFailure(status: string): NonNullable<FlowDefinition['onFailure']> {
  return async (input, deps, failure) => {
    if (!input.targets.includes(Target.site)) return;
    try {
      const zoneUuid = str(input.flowData, 'zone_uuid');
      if (zoneUuid === '') return;
      let validateOnly = false;
      try {
        validateOnly = bool(input.flowData, 'validate_only');
      } catch {
        // an invalid validate_only is the failure being reported: say "move"
      }
      const isMove = input.flowName === 'landing_zone_move';
      await deps.site.post(input.sodarUrl, Endpoint.zoneStatusSet, {
        zone_uuid: zoneUuid,
        status,
        status_info: zoneFailureInfo(input.flowName, validateOnly, failure).slice(0, STATUS_INFO_MAX),
        flow_name: input.flowName,
        ...(isMove ? ZoneExtra.moveFailed(validateOnly) : {}),
      });
    } catch {
      // the zone keeps its status; the run's own outcome already says what failed
    }
  };
}
