/**
 * The thirteen flows of protocol section 5, by name.
 *
 * @module
 */
import { dataDelete } from './data-delete.js';
import { landingZoneCreate } from './landing-zone-create.js';
import { landingZoneDelete } from './landing-zone-delete.js';
import { landingZoneMove } from './landing-zone-move.js';
import { projectCreate } from './project-create.js';
import { projectUpdate } from './project-update.js';
import { publicAccessUpdate } from './public-access-update.js';
import { roleDelete } from './role-delete.js';
import { roleSyncDeleteAll } from './role-sync-delete-all.js';
import { roleUpdate } from './role-update.js';
import { roleUpdateIrodsBatch } from './role-update-irods-batch.js';
import { sheetCollsCreate } from './sheet-colls-create.js';
import { sheetDelete } from './sheet-delete.js';
import type { FlowDefinition } from './types.js';

const flows: ReadonlyMap<string, FlowDefinition> = new Map(
  [
    projectCreate,
    projectUpdate,
    roleUpdate,
    roleDelete,
    roleSyncDeleteAll,
    roleUpdateIrodsBatch,
    publicAccessUpdate,
    sheetCollsCreate,
    sheetDelete,
    landingZoneCreate,
    landingZoneDelete,
    landingZoneMove,
    dataDelete,
  ].map((f) => [f.name, f]),
);

/** Names of every flow, in protocol order. */
export const flowNames: readonly string[] = [...flows.keys()];

/** The flow called `name`, or undefined when there is none. */
export function getFlow(name: string): FlowDefinition | undefined {
  return flows.get(name);
}

export { FlowBuildError, FlowValidationError } from './errors.js';
export type { FlowDefinition, FlowDeps, FlowInput, FlowQueue, RequestMode } from './types.js';
export * as layout from './layout.js';
export { ZoneInfo, ZoneStatus } from './zone-status.js';
