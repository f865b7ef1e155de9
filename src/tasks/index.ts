/**
 * Tasks of the service: store tasks (`irods`) and site tasks (`sodar`), all
 * defined in {@link taskRegistry} (which the service also uses to rebuild
 * journaled tasks for recovery).
 *
 * @module
 */
export { taskRegistry, defineTask } from './define.js';
export type { ServiceTaskDefinition, TaskMaker } from './define.js';
export type { TaskContext } from './context.js';
export { Target } from './context.js';
export { ProgressKey } from './progress.js';
export type { TaskProgress, ProgressArgs } from './progress.js';
export * as storeTasks from './store-tasks.js';
export * as siteTasks from './site-tasks.js';
export { FORCED_FAILURE_MESSAGE } from '../engine/runner.js';
export { checkLandingZone, ZoneValidationError, MD5_SUFFIX } from './zone-check.js';
