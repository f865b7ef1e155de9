/**
 * The taskflow service (protocol section 2): `startService` and its parts.
 *
 * @module
 */
export { startService, journalPath, ServiceConfigError, type RunningService, type ServiceOptions } from './server.js';
export { SubmitPipeline, failureReason, type Answer } from './submit-pipeline.js';
export { parseSubmitBody, REQUIRED_FIELDS, type SubmitRequest } from './submit-request.js';
export { SECRET_HEADER, secretMatches } from './auth.js';
export { cleanupStore, PERMANENT_PRINCIPALS } from './cleanup.js';
export { WorkQueue, QueueClosedError } from './work-queue.js';
export * from './messages.js';
