/**
 * `sodar-taskflow/backend`: what a host app imports to talk to the taskflow
 * service (SODAR Core's `taskflowbackend`). Loads only Node built-ins and the
 * settings module: no SQLite, Redis or server code, no native addon.
 *
 * @example
 * ```ts
 * import { TaskflowAPI } from 'sodar-taskflow/backend';
 * const taskflow = new TaskflowAPI(); // settings from the environment
 * try {
 *   await taskflow.submit(project.uuid, 'role_update', { username, user_uuid, role_pk });
 * } catch (err) {
 *   if (err instanceof TaskflowAPI.FlowSubmitException) showError(err.message);
 *   else throw err;
 * }
 * ```
 *
 * @module
 */
export {
  TaskflowAPI,
  PROJECT_TYPE_PROJECT,
  ERROR_INFO_LENGTH,
  type RequestMode,
  type UuidLike,
  type FlowData,
  type ProjectLike,
  type ProjectRef,
  type SubmitOptions,
  type SubmitBody,
  type TaskflowAPIOptions,
  type ProjectQueue,
  type QueuedRunInfo,
} from './api.js';
export {
  TaskflowBackendError,
  FlowSubmitException,
  SubmitDataError,
  CleanupException,
  LockQueryException,
  QueueQueryException,
  InvalidProjectError,
  ImproperlyConfigured,
  type ServiceFailure,
} from './errors.js';
export { type RequestLike, sodarUrlFromRequest } from './request.js';
export { type JsonValue, UUID_PATTERN } from './flow-data.js';
export { ConfigError, loadBackendSettings, type BackendSettings } from '../config.js';
