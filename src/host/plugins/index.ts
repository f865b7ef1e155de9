/**
 * The host's plugin points and registry (SODAR Core's projectroles plugins).
 *
 * @module
 */
export * from './types.js';
export { TaskflowBackendPlugin, TaskflowBackendPlugin as BackendPlugin, TASKFLOW_PLUGIN_NAME } from './taskflow-plugin.js';
export {
  PluginRegistry,
  DuplicatePluginError,
  defaultRegistry,
  syncPlugins,
  getBackendApi,
  getActivePlugins,
  registeringLine,
  NO_NEW_PLUGINS,
  type ActiveOptions,
  type BackendApiOptions,
} from './registry.js';
export { MemoryPluginStore, type PluginRecord } from './memory-store.js';
