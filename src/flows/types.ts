/**
 * What a flow module exports: its validation spec and its build. One file per
 * flow in this folder; `index.ts` maps flow names to them.
 *
 * @module
 */
import type { Config } from '../config.js';
import type { LinearFlow } from '../engine/flow.js';
import type { Json } from '../engine/types.js';
import type { SiteClient } from '../site/client.js';
import type { FlowStore } from '../store/types.js';
import type { TaskContext } from '../tasks/context.js';

/** Request modes of protocol section 2. */
export type RequestMode = 'sync' | 'async';

/** A submit, as the service hands it to a flow. */
export interface FlowInput {
  /** The project's UUID, or the string `None` for flows about no project. */
  projectUuid: string;
  flowName: string;
  flowData: Record<string, Json>;
  targets: string[];
  requestMode: RequestMode;
  forceFail: boolean;
  /** Timeline event to update, or undefined when `None`. */
  timelineUuid: string | undefined;
  /** Callback base URL for this submit. */
  sodarUrl: string;
}

/** What flows read while validating and building. */
export interface FlowDeps {
  store: FlowStore;
  site: SiteClient;
  config: Config;
}

/**
 * Where a run waits for its turn: `run`, the project's turn (async runs
 * also in the async queue); `validation`, the bounded queue of lock-free
 * checks (a `validate_only` zone move), which never waits behind a project's runs.
 */
export type FlowQueue = 'run' | 'validation';

/** One flow of protocol section 5: its checks, its lock need, its queue and its task list. */
export interface FlowDefinition {
  name: string;
  /** Request modes the flow accepts. */
  modes: readonly RequestMode[];
  /** Whether the run takes the project lock. */
  needsLock(input: FlowInput): boolean;
  /**
   * For a run without the project lock: the lane it runs in, if any. Runs of
   * one lane never overlap (a lease of the lane's own, never the project's):
   * they share what none of them may take back from another, such as the
   * landing zone root the first zones of a project create.
   */
  lane(input: FlowInput): string | undefined;
  /** The queue a run of this input waits in (called on validated input). */
  queue(input: FlowInput): FlowQueue;
  /** Required fields, mode and path rules. Throws FlowValidationError; changes nothing. */
  validate(input: FlowInput, deps: FlowDeps): Promise<void>;
  /** The tasks to run, limited to the input's targets. Throws FlowBuildError (or anything). */
  build(input: FlowInput, deps: FlowDeps): Promise<LinearFlow<TaskContext>>;
  /** Landing zone flows: set the zone's failure status with the failure's reason. Never throws. */
  onFailure?(input: FlowInput, deps: FlowDeps, failure: FlowFailure): Promise<void>;
}

/** Where a submit failed, and why: what a flow's `onFailure` reports. */
export interface FlowFailure {
  /**
   * `validate`: the flow data was refused; `lock`: the project lock could not
   * be had; `build`: building the task list failed; `run`: a task failed and
   * the run was rolled back (or recovered after a crash).
   */
  stage: 'validate' | 'lock' | 'build' | 'run';
  /** The reason, without the service's answer prefix (`Error running flow: ` and the like). */
  reason: string;
}
