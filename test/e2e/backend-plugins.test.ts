/**
 * The plugin registry persisted in the host site's database: `taskflow manage
 * syncplugins` run twice as a process, then `getBackendApi` over that same
 * database, and the API it returns used against the real service.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBackendSettings } from '../../src/config.js';
import { TaskflowAPI } from '../../src/backend/index.js';
import { openDb } from '../../src/host/db/index.js';
import { DbPluginStore } from '../../src/host/plugin-store.js';
import { PluginRegistry, TaskflowBackendPlugin, getBackendApi } from '../../src/host/plugins/index.js';
import { cleanEnv, cliPath, repoRoot, startServiceProcess } from '../backend/service-process.js';

const run = promisify(execFile);
let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tf-plugins-e2e-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function syncplugins(): Promise<string[]> {
  const { stdout } = await run(process.execPath, [cliPath, 'manage', 'syncplugins'], {
    cwd: repoRoot,
    env: cleanEnv({ TASKFLOW_DATA_DIR: dataDir, TASKFLOW_TEST_MODE: '1' }),
  });
  return stdout.split('\n').filter((l) => l !== '');
}

async function withStore<T>(use: (store: DbPluginStore) => Promise<T>): Promise<T> {
  const db = await openDb({ dataDir, databaseUrl: undefined });
  try {
    return await use(new DbPluginStore(db));
  } finally {
    await db.close();
  }
}

describe('taskflow manage syncplugins', () => {
  it('registers the taskflow backend once, and says so the second time', async () => {
    const first = await syncplugins();
    expect(first).toContain('Registering Plugin for taskflowbackend.plugins.BackendPlugin');
    expect(first.every((l) => l.startsWith('Registering Plugin for '))).toBe(true);
    expect(await syncplugins()).toEqual(['No new plugins to register']);
    await expect(withStore((s) => s.registeredNames())).resolves.toContain('taskflow');
  });
});

describe('getBackendApi over the site database', () => {
  it('gives the API only once registered and while enabled, and that API talks to the service', async () => {
    const secret = 'plugins-e2e-secret';
    const svc = await startServiceProcess({ TASKFLOW_TEST_MODE: '1', TASKFLOW_SODAR_SECRET: secret });
    try {
      const settings = { ...loadBackendSettings({}), backendHost: 'http://127.0.0.1', backendPort: svc.port, sodarSecret: secret, testMode: true };
      const registry = new PluginRegistry([new TaskflowBackendPlugin(settings)]);

      await withStore(async (store) => {
        await expect(registry.getBackendApi('taskflow', { store, enabled: ['taskflow'] })).resolves.toBeNull();
      });
      await syncplugins();
      await withStore(async (store) => {
        await expect(registry.getBackendApi('taskflow', { store, enabled: [] })).resolves.toBeNull();
        await expect(getBackendApi('taskflow', { store, enabled: ['timeline'] })).resolves.toBeNull();
        await expect(getBackendApi('taskflow', { store, enabled: ['taskflow'] })).resolves.toBeInstanceOf(TaskflowAPI);
        const api = await registry.getBackendApi('taskflow', { store, enabled: ['timeline', 'taskflow'] });
        expect(api).toBeInstanceOf(TaskflowAPI);
        await expect(api!.submit(null, 'role_update_irods_batch', { roles_add: [], roles_delete: [] }, { targets: ['irods'] })).resolves.toBe(true);
        await expect(api!.cleanup()).resolves.toBe(true);
      });
    } finally {
      await svc.stop();
    }
  });
});
