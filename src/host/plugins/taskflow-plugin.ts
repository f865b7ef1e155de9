/**
 * The taskflow backend plugin (SODAR Core's `taskflowbackend.plugins.BackendPlugin`).
 *
 * @module
 */
import type { BackendSettings } from '../../config.js';
import { TaskflowAPI, type TaskflowAPIOptions } from '../../backend/index.js';
import type { BackendPluginPoint } from './types.js';

/** Name of the taskflow backend plugin, as listed in ENABLED_BACKEND_PLUGINS. */
export const TASKFLOW_PLUGIN_NAME = 'taskflow';

/** Backend plugin giving apps the {@link TaskflowAPI}. */
export class TaskflowBackendPlugin implements BackendPluginPoint<TaskflowAPI> {
  /** A backend plugin. */
  readonly type = 'backend' as const;
  /** `taskflow` */
  readonly name = TASKFLOW_PLUGIN_NAME;
  /** `Taskflow` */
  readonly title = 'Taskflow';
  /** `mdi:database` */
  readonly icon = 'mdi:database';
  /** `SODAR Taskflow backend for data transactions` */
  readonly description = 'SODAR Taskflow backend for data transactions';
  /** Location printed by `syncplugins`, as in SODAR Core. */
  readonly path = 'taskflowbackend.plugins.BackendPlugin';

  /**
   * @param settings - Settings for the API; default: read from the environment at each {@link getApi}.
   * @param options - API options such as the timeout.
   */
  constructor(
    private readonly settings?: BackendSettings,
    private readonly options?: TaskflowAPIOptions,
  ) {}

  /** Returns a new {@link TaskflowAPI}. Throws ConfigError on a bad setting. */
  getApi(): TaskflowAPI {
    return new TaskflowAPI(this.settings, this.options);
  }
}
