/**
 * Tasks of the service: store tasks (`irods`), site tasks (`sodar`) and the
 * forced-failure task, all defined in {@link taskRegistry} (which the service
 * also uses to rebuild journaled tasks for recovery).
 *
 * @module
 */
export { taskRegistry, defineTask, PartialTaskError } from './define.js';
export type { AtomicTaskDefinition, TaskMaker } from './define.js';
export type { TaskContext } from './context.js';
export { Target } from './context.js';
export * as storeTasks from './store-tasks.js';
export * as siteTasks from './site-tasks.js';
export { forcedFailure, FORCED_FAILURE_MESSAGE } from './forced-failure.js';
export { checkLandingZone, ZoneValidationError, MD5_SUFFIX } from './zone-check.js';
