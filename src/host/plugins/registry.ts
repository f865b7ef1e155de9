/**
 * The plugin registry: which plugins the host knows (in code), which are
 * registered (in the host's database, through a {@link PluginStore}) and which
 * are active (registered, and for backends enabled in ENABLED_BACKEND_PLUGINS),
 * as SODAR Core's `syncplugins`, `get_backend_api` and `get_active_plugins`.
 *
 * @module
 */
import { loadBackendSettings } from '../../config.js';
import type { TaskflowAPI } from '../../backend/index.js';
import { TASKFLOW_PLUGIN_NAME, TaskflowBackendPlugin } from './taskflow-plugin.js';
import type { BackendPluginPoint, Plugin, PluginStore, PluginType, ProjectAppPluginPoint } from './types.js';

/** What `syncPlugins` prints when every known plugin is already registered. */
export const NO_NEW_PLUGINS = 'No new plugins to register';

/** The line `syncPlugins` prints for a newly registered plugin. */
export function registeringLine(plugin: Plugin): string {
  return `Registering Plugin for ${plugin.path}`;
}

/** A plugin's name is already taken in a registry. */
export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(readonly pluginName: string) {
    super(`A plugin named "${pluginName}" is already known`);
  }
}

/** Where to look and what is enabled; shared by the lookups. */
export interface ActiveOptions {
  /** The host's registered plugins. */
  store: PluginStore;
  /** Enabled backend plugin names; default: the ENABLED_BACKEND_PLUGINS setting. */
  enabled?: readonly string[];
}

/** Options of {@link PluginRegistry.getBackendApi}. */
export interface BackendApiOptions extends ActiveOptions {
  /** Told why the answer is null when that is because of an error (store, settings, getApi). */
  onError?: (err: unknown) => void;
}

/** The plugins a host knows, in the order they were added. */
export class PluginRegistry {
  readonly #plugins = new Map<string, Plugin>();

  /** @param plugins - Plugins known from the start. */
  constructor(plugins: Iterable<Plugin> = []) {
    for (const p of plugins) this.add(p);
  }

  /** Makes a plugin known. Throws {@link DuplicatePluginError} if its name is taken. */
  add(plugin: Plugin): this {
    if (this.#plugins.has(plugin.name)) throw new DuplicatePluginError(plugin.name);
    this.#plugins.set(plugin.name, plugin);
    return this;
  }

  /** Known plugins, all or of one type. */
  known(type?: PluginType): Plugin[] {
    const all = [...this.#plugins.values()];
    return type === undefined ? all : all.filter((p) => p.type === type);
  }

  /** The known plugin named `name`, if any. */
  get(name: string): Plugin | undefined {
    return this.#plugins.get(name);
  }

  /**
   * Registers every known plugin the store does not have yet, printing one
   * line per new plugin (`Registering Plugin for <path>`), or
   * {@link NO_NEW_PLUGINS} when there is none.
   *
   * @returns Names of the newly registered plugins.
   */
  async syncPlugins(store: PluginStore, print: (line: string) => void): Promise<string[]> {
    const registered = new Set(await store.registeredNames());
    const added: string[] = [];
    for (const plugin of this.#plugins.values()) {
      if (registered.has(plugin.name)) continue;
      await store.register(plugin.name, plugin.type, plugin.path);
      print(registeringLine(plugin));
      added.push(plugin.name);
    }
    if (added.length === 0) print(NO_NEW_PLUGINS);
    return added;
  }

  /**
   * Known plugins of `type` that are registered in the store and, for
   * backends, enabled. Errors of the store or settings propagate.
   */
  async getActivePlugins(type: 'backend', opts: ActiveOptions): Promise<BackendPluginPoint[]>;
  async getActivePlugins(type: 'project_app', opts: ActiveOptions): Promise<ProjectAppPluginPoint[]>;
  async getActivePlugins(type: PluginType, opts: ActiveOptions): Promise<Plugin[]>;
  async getActivePlugins(type: PluginType, opts: ActiveOptions): Promise<Plugin[]> {
    const registered = new Set(await opts.store.registeredNames());
    const enabled = type === 'backend' ? new Set(opts.enabled ?? loadBackendSettings().enabledBackendPlugins) : undefined;
    return this.known(type).filter((p) => registered.has(p.name) && (enabled === undefined || enabled.has(p.name)));
  }

  /**
   * The API of backend plugin `name` when it is known, registered and enabled;
   * otherwise `null`. Never throws: a failing store, a bad setting or a
   * failing `getApi()` also give `null` (reported to `onError`).
   */
  async getBackendApi(name: typeof TASKFLOW_PLUGIN_NAME, opts: BackendApiOptions): Promise<TaskflowAPI | null>;
  async getBackendApi<Api = unknown>(name: string, opts: BackendApiOptions): Promise<Api | null>;
  async getBackendApi(name: string, opts: BackendApiOptions): Promise<unknown> {
    try {
      const plugin = this.#plugins.get(name);
      if (!plugin || plugin.type !== 'backend') return null;
      const enabled = opts.enabled ?? loadBackendSettings().enabledBackendPlugins;
      if (!enabled.includes(name)) return null;
      if (!(await opts.store.registeredNames()).includes(name)) return null;
      return plugin.getApi();
    } catch (err) {
      opts.onError?.(err);
      return null;
    }
  }
}

/** The plugins this package ships: the taskflow backend. Hosts add their app plugins to it. */
export const defaultRegistry = new PluginRegistry([new TaskflowBackendPlugin()]);

/** {@link PluginRegistry.syncPlugins} on `registry` (default {@link defaultRegistry}). */
export function syncPlugins(
  store: PluginStore,
  print: (line: string) => void,
  registry: PluginRegistry = defaultRegistry,
): Promise<string[]> {
  return registry.syncPlugins(store, print);
}

/** {@link PluginRegistry.getBackendApi} on `opts.registry` (default {@link defaultRegistry}). */
export function getBackendApi(
  name: typeof TASKFLOW_PLUGIN_NAME,
  opts: BackendApiOptions & { registry?: PluginRegistry },
): Promise<TaskflowAPI | null>;
export function getBackendApi<Api = unknown>(
  name: string,
  opts: BackendApiOptions & { registry?: PluginRegistry },
): Promise<Api | null>;
export function getBackendApi(name: string, opts: BackendApiOptions & { registry?: PluginRegistry }): Promise<unknown> {
  return (opts.registry ?? defaultRegistry).getBackendApi(name, opts);
}

/** {@link PluginRegistry.getActivePlugins} on `opts.registry` (default {@link defaultRegistry}). */
export function getActivePlugins(type: 'backend', opts: ActiveOptions & { registry?: PluginRegistry }): Promise<BackendPluginPoint[]>;
export function getActivePlugins(type: 'project_app', opts: ActiveOptions & { registry?: PluginRegistry }): Promise<ProjectAppPluginPoint[]>;
export function getActivePlugins(type: PluginType, opts: ActiveOptions & { registry?: PluginRegistry }): Promise<Plugin[]>;
export function getActivePlugins(type: PluginType, opts: ActiveOptions & { registry?: PluginRegistry }): Promise<Plugin[]> {
  return (opts.registry ?? defaultRegistry).getActivePlugins(type, opts);
}
