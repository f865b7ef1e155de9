import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbPluginStore, siteRegistry } from '../../src/host/plugin-store.js';
import { syncTaskflow, TaskflowNotEnabledError, SyncProjectError } from '../../src/host/synctaskflow.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite({ env: { TASKFLOW_TARGETS: 'sodar,irods' } });
});
afterEach(async () => {
  await site.close();
});

describe('syncplugins', () => {
  it('registers each plugin once, printing the SODAR line for ours', async () => {
    const registry = siteRegistry(site.config, site.db);
    const store = new DbPluginStore(site.db);
    const first: string[] = [];
    await registry.syncPlugins(store, (l) => first.push(l));
    expect(first).toContain('Registering Plugin for taskflowbackend.plugins.BackendPlugin');
    expect(first).toHaveLength(3);
    const second: string[] = [];
    await registry.syncPlugins(store, (l) => second.push(l));
    expect(second).toEqual(['No new plugins to register']);
    expect(await store.registeredNames()).toEqual(['landingzones', 'samplesheets', 'taskflow']);
  });
});

describe('synctaskflow', () => {
  it('fails clearly when the taskflow plugin is not enabled', async () => {
    site.enabled.value = false;
    await expect(syncTaskflow(site.ctx, siteRegistry(site.config, site.db), () => undefined)).rejects.toThrow(TaskflowNotEnabledError);
  });

  it('submits project_create, role_sync_delete_all and role_update per project, then inherited owners and app data, without sodar', async () => {
    const registry = siteRegistry(site.config, site.db);
    await registry.syncPlugins(new DbPluginStore(site.db), () => undefined);
    const carol = (await site.call('POST', 'project/api/users/create', { username: 'carol' })).json;
    const cat = (await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY', owner: carol.sodar_uuid })).json;
    const p1 = (await site.call('POST', 'project/api/create', { title: 'P1', type: 'PROJECT', parent: cat.sodar_uuid })).json;
    const p2 = (await site.call('POST', 'project/api/create', { title: 'P2', type: 'PROJECT', parent: cat.sodar_uuid })).json;
    const bob = (await site.call('POST', 'project/api/users/create', { username: 'bob' })).json;
    await site.call('POST', `project/api/roles/create/${p1.sodar_uuid}`, { role: 'project guest', user: bob.sodar_uuid });
    await site.call('POST', `samplesheets/api/create/${p2.sodar_uuid}`, { studies: [{ assays: [{}] }] });
    await site.call('POST', `samplesheets/api/irods/collections/create/${p2.sodar_uuid}`);
    site.backend.submits.length = 0;

    const lines: string[] = [];
    const summary = await syncTaskflow(site.ctx, registry, (l) => lines.push(l));
    const seq = site.backend.submits.map((s) => `${s.flowName}:${s.projectUuid}`);
    expect(seq).toEqual([
      `project_create:${p1.sodar_uuid}`,
      `role_sync_delete_all:${p1.sodar_uuid}`,
      `role_update:${p1.sodar_uuid}`,
      `project_create:${p2.sodar_uuid}`,
      `role_sync_delete_all:${p2.sodar_uuid}`,
      'role_update_irods_batch:null',
      `sheet_colls_create:${p2.sodar_uuid}`,
    ]);
    expect(site.backend.submits.every((s) => JSON.stringify(s.targets) === '["irods"]')).toBe(true);
    expect(site.backend.submits[0].flowData.roles_add).toEqual([{ project_uuid: p1.sodar_uuid, username: 'carol' }]);
    expect(site.backend.submits[5].flowData).toEqual({
      roles_add: [
        { project_uuid: p1.sodar_uuid, username: 'carol' },
        { project_uuid: p2.sodar_uuid, username: 'carol' },
      ],
      roles_delete: [],
    });
    expect(lines.filter((l) => l.startsWith('Synced project'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^Sync done: 2 project\(s\), 1 member role\(s\), 2 inherited owner\(s\), 1 app submit\(s\), 0 failure\(s\)/);
    expect(summary.failures).toEqual([]);
  });

  it('stops with the project named when project_create fails', async () => {
    const registry = siteRegistry(site.config, site.db);
    await registry.syncPlugins(new DbPluginStore(site.db), () => undefined);
    const cat = (await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' })).json;
    await site.call('POST', 'project/api/create', { title: 'P1', type: 'PROJECT', parent: cat.sodar_uuid });
    site.backend.failWith.set('project_create', [500, 'Error running flow: broken']);
    await expect(syncTaskflow(site.ctx, registry, () => undefined)).rejects.toThrow(SyncProjectError);
    await expect(syncTaskflow(site.ctx, registry, () => undefined)).rejects.toThrow(/P1.*broken/);
  });
});
