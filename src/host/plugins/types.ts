/**
 * Plugin points of the host site, as in SODAR Core's projectroles: backend
 * plugins offer an API to other apps; project app plugins may offer data for
 * `synctaskflow`. The registry persists which plugins are registered through
 * a {@link PluginStore} the host implements over its database.
 *
 * @module
 */

/** Kinds of plugin, named as SODAR Core's plugin points. */
export type PluginType = 'backend' | 'project_app';

/** What every plugin has. */
export interface PluginPoint {
  /** Which plugin point this plugin belongs to. */
  readonly type: PluginType;
  /** Unique name, used to look the plugin up and in ENABLED_BACKEND_PLUGINS. */
  readonly name: string;
  /** Display title. */
  readonly title: string;
  /** Dotted location in SODAR's `app.module.Class` form, printed by `syncplugins`. */
  readonly path: string;
}

/** A backend plugin: no views, an API for other apps. */
export interface BackendPluginPoint<Api = unknown> extends PluginPoint {
  readonly type: 'backend';
  /** Icon name, e.g. `mdi:database`. */
  readonly icon: string;
  /** One line saying what the backend does. */
  readonly description: string;
  /** Returns the backend's API object. May throw (e.g. a bad setting); the registry turns that into null. */
  getApi(): Api;
}

/** One submit `synctaskflow` makes for an app (protocol section 5). */
export interface TaskflowSyncItem {
  /** UUID of the project, or `None`-equivalent for flows not about one project. */
  project_uuid: string;
  /** Name of the flow to submit. */
  flow_name: string;
  /** Input of the flow. */
  flow_data: Record<string, unknown>;
}

/** A project app plugin (sample sheets, landing zones, …). */
export interface ProjectAppPluginPoint extends PluginPoint {
  readonly type: 'project_app';
  /** Icon name. */
  readonly icon?: string;
  /** One line saying what the app does. */
  readonly description?: string;
  /** Submits the app needs to bring the taskflow service in sync with the site's data. */
  getTaskflowSyncData?(): Promise<TaskflowSyncItem[]>;
}

/** Any plugin. */
export type Plugin = BackendPluginPoint | ProjectAppPluginPoint;

/**
 * Where registered plugins are remembered: the host site's database
 * (SQLite or PostgreSQL), hence async.
 */
export interface PluginStore {
  /** Names of every registered plugin. */
  registeredNames(): Promise<string[]>;
  /** Records a plugin; registering a name that is already there changes nothing. */
  register(name: string, type: string, path: string): Promise<void>;
}
