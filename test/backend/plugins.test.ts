import { describe, expect, it } from 'vitest';
import { loadBackendSettings } from '../../src/config.js';
import { TaskflowAPI } from '../../src/backend/index.js';
import {
  BackendPlugin,
  DuplicatePluginError,
  MemoryPluginStore,
  NO_NEW_PLUGINS,
  PluginRegistry,
  TaskflowBackendPlugin,
  defaultRegistry,
  getActivePlugins,
  getBackendApi,
  syncPlugins,
  type BackendPluginPoint,
  type PluginStore,
  type ProjectAppPluginPoint,
} from '../../src/host/plugins/index.js';

function capture(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return { lines, print: (line) => lines.push(line) };
}

const sheets: ProjectAppPluginPoint = {
  type: 'project_app',
  name: 'samplesheets',
  title: 'Sample Sheets',
  path: 'samplesheets.plugins.ProjectAppPlugin',
  async getTaskflowSyncData() {
    return [{ project_uuid: 'p', flow_name: 'sheet_colls_create', flow_data: { colls: [] } }];
  },
};

describe('TaskflowBackendPlugin', () => {
  it('describes itself as the seed does and gives the API', () => {
    const plugin = new TaskflowBackendPlugin(loadBackendSettings({ TASKFLOW_BACKEND_PORT: '6111' }));
    expect(plugin).toMatchObject({
      type: 'backend',
      name: 'taskflow',
      title: 'Taskflow',
      icon: 'mdi:database',
      description: 'SODAR Taskflow backend for data transactions',
      path: 'taskflowbackend.plugins.BackendPlugin',
    });
    const api = plugin.getApi();
    expect(api).toBeInstanceOf(TaskflowAPI);
    expect(api.url).toBe('http://0.0.0.0:6111');
    expect(BackendPlugin).toBe(TaskflowBackendPlugin);
  });
});

describe('syncPlugins', () => {
  it('registers every known plugin once and says when nothing is new', async () => {
    const store = new MemoryPluginStore();
    const first = capture();
    await expect(syncPlugins(store, first.print)).resolves.toEqual(['taskflow']);
    expect(first.lines).toEqual(['Registering Plugin for taskflowbackend.plugins.BackendPlugin']);
    expect(store.records()).toEqual([{ name: 'taskflow', type: 'backend', path: 'taskflowbackend.plugins.BackendPlugin' }]);

    const second = capture();
    await expect(syncPlugins(store, second.print)).resolves.toEqual([]);
    expect(second.lines).toEqual([NO_NEW_PLUGINS]);
    expect(store.records()).toHaveLength(1);
  });

  it('registers only the plugins added since the last sync', async () => {
    const store = new MemoryPluginStore();
    const registry = new PluginRegistry([new TaskflowBackendPlugin()]);
    await syncPlugins(store, () => {}, registry);
    registry.add(sheets);
    const out = capture();
    await syncPlugins(store, out.print, registry);
    expect(out.lines).toEqual(['Registering Plugin for samplesheets.plugins.ProjectAppPlugin']);
    expect(() => registry.add(sheets)).toThrow(DuplicatePluginError);
  });
});

describe('getBackendApi', () => {
  it('returns the API only when registered and enabled', async () => {
    const store = new MemoryPluginStore();
    await expect(getBackendApi('taskflow', { store, enabled: ['taskflow'] })).resolves.toBeNull();
    await syncPlugins(store, () => {});
    const api = await getBackendApi('taskflow', { store, enabled: ['taskflow'] });
    expect(api).toBeInstanceOf(TaskflowAPI);
    await expect(getBackendApi('taskflow', { store, enabled: [] })).resolves.toBeNull();
    await expect(getBackendApi('taskflow', { store, enabled: ['other'] })).resolves.toBeNull();
    await expect(getBackendApi('nosuch', { store, enabled: ['nosuch'] })).resolves.toBeNull();
  });

  it('reads ENABLED_BACKEND_PLUGINS when not told', async () => {
    const store = new MemoryPluginStore();
    await syncPlugins(store, () => {});
    const saved = process.env.ENABLED_BACKEND_PLUGINS;
    try {
      process.env.ENABLED_BACKEND_PLUGINS = 'timeline,taskflow';
      await expect(getBackendApi('taskflow', { store })).resolves.toBeInstanceOf(TaskflowAPI);
      process.env.ENABLED_BACKEND_PLUGINS = 'timeline';
      await expect(getBackendApi('taskflow', { store })).resolves.toBeNull();
    } finally {
      if (saved === undefined) delete process.env.ENABLED_BACKEND_PLUGINS;
      else process.env.ENABLED_BACKEND_PLUGINS = saved;
    }
  });

  it('never throws: a failing store or bad settings give null and are reported', async () => {
    const errors: unknown[] = [];
    const broken: PluginStore = {
      registeredNames: () => Promise.reject(new Error('database is gone')),
      register: () => Promise.reject(new Error('database is gone')),
    };
    await expect(getBackendApi('taskflow', { store: broken, enabled: ['taskflow'], onError: (e) => errors.push(e) })).resolves.toBeNull();
    expect(String(errors[0])).toMatch(/database is gone/);

    const store = new MemoryPluginStore();
    await syncPlugins(store, () => {});
    const badSettings = { ...loadBackendSettings({}), backendPort: -1 };
    const registry = new PluginRegistry([new TaskflowBackendPlugin(badSettings)]);
    await expect(registry.getBackendApi('taskflow', { store, enabled: ['taskflow'], onError: (e) => errors.push(e) })).resolves.toBeNull();
    expect(String(errors[1])).toMatch(/TASKFLOW_BACKEND_PORT/);
  });
});

describe('getActivePlugins', () => {
  it('lists registered plugins of a type, backends only when enabled', async () => {
    const store = new MemoryPluginStore();
    const registry = new PluginRegistry([new TaskflowBackendPlugin(), sheets]);
    await expect(getActivePlugins('backend', { store, enabled: ['taskflow'], registry })).resolves.toEqual([]);
    await syncPlugins(store, () => {}, registry);
    const backends: BackendPluginPoint[] = await getActivePlugins('backend', { store, enabled: ['taskflow'], registry });
    expect(backends.map((p) => p.name)).toEqual(['taskflow']);
    await expect(getActivePlugins('backend', { store, enabled: [], registry })).resolves.toEqual([]);
    const apps = await getActivePlugins('project_app', { store, enabled: [], registry });
    expect(apps.map((p) => p.name)).toEqual(['samplesheets']);
    await expect(apps[0].getTaskflowSyncData?.()).resolves.toEqual([
      { project_uuid: 'p', flow_name: 'sheet_colls_create', flow_data: { colls: [] } },
    ]);
    expect(defaultRegistry.known().map((p) => p.name)).toEqual(['taskflow']);
  });
});
