/**
 * What every part of the site shares: the database, settings, the taskflow
 * backend (when enabled) and the site's own callback URL.
 *
 * @module
 */
import type { TaskflowAPI } from '../backend/index.js';
import type { Config } from '../config.js';
import type { Db } from './db/types.js';

/** The part of the backend API the site uses. */
export type TaskflowBackend = Pick<TaskflowAPI, 'submit' | 'isLocked' | 'useTaskflow' | 'cleanup'>;

/** Shared state of a running site. */
export interface SiteContext {
  db: Db;
  config: Config;
  /** The taskflow backend API, or null when the plugin is not registered and enabled. */
  taskflow(): Promise<TaskflowBackend | null>;
  /** Base URL the service calls back (this site's address). */
  siteUrl(): string;
}
