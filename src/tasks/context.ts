/**
 * What every task runs against: the data store (the `irods` target), the host
 * site client (the `sodar` target) and the settings.
 *
 * @module
 */
import type { Config } from '../config.js';
import type { SiteClient } from '../site/client.js';
import type { FlowStore } from '../store/types.js';
import type { TaskProgress } from './progress.js';

/** The context the engine hands to every task's execute and revert. */
export interface TaskContext {
  store: FlowStore;
  site: SiteClient;
  config: Config;
  /** Where the run's tasks report progress; absent when nobody follows it (a recovery, a retried revert, tests). */
  progress?: TaskProgress;
}

/** Task targets of protocol section 1. */
export const Target = { store: 'irods', site: 'sodar' } as const;
