/**
 * Where the site reaches the taskflow service for what the backend API
 * does not ask (the runs and queue views, the runs' outcomes at start-up).
 *
 * @module
 */
import type { Config } from '../config.js';

/** The service's base URL from the backend settings, `TASKFLOW_BACKEND_HOST:TASKFLOW_BACKEND_PORT`, without a trailing slash. */
export function serviceBaseUrl(config: Pick<Config, 'backendHost' | 'backendPort'>): string {
  return `${config.backendHost.replace(/\/+$/, '')}:${config.backendPort}`;
}
