/**
 * What a flow module exports: its validation spec and its build. One file per
 * flow in this folder; `index.ts` maps flow names to them.
 *
 * @module
 */
import type { Json } from '../engine/types.js';

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
