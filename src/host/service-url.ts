/**
 * Where and how the site asks the taskflow service what the backend API
 * does not ask (the runs and queue views, the outcomes of runs whose answer
 * the site never got).
 *
 * @module
 */
import type { Config } from '../config.js';
import { SECRET_HEADER } from '../secret-match.js';

/** The service's base URL from the backend settings, `TASKFLOW_BACKEND_HOST:TASKFLOW_BACKEND_PORT`, without a trailing slash. */
export function serviceBaseUrl(config: Pick<Config, 'backendHost' | 'backendPort'>): string {
  return `${config.backendHost.replace(/\/+$/, '')}:${config.backendPort}`;
}

/** The service's answer to {@link askService}. */
export interface ServiceAnswer {
  /** A 2xx status. */
  ok: boolean;
  status: number;
  text: string;
}

/**
 * Asks `path` (with its query) of the service with the shared secret
 * (`method`: GET unless given), within the backend's timeout. Throws when
 * the service cannot be reached or does not answer in time; any status is
 * the caller's to judge.
 */
export async function askService(
  config: Pick<Config, 'backendHost' | 'backendPort' | 'sodarSecret' | 'backendTimeoutMs'>,
  path: string,
  method: 'GET' | 'PUT' = 'GET',
): Promise<ServiceAnswer> {
  const res = await fetch(`${serviceBaseUrl(config)}${path}`, { method, headers: { [SECRET_HEADER]: config.sodarSecret }, signal: AbortSignal.timeout(config.backendTimeoutMs) });
  return { ok: res.ok, status: res.status, text: await res.text() };
}
