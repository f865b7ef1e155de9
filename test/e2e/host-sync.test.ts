import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SiteApi } from '../../src/host/client.js';
import { openStore } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import { runCli, startHostSystem, type HostSystem } from '../support/host-processes.js';

let dir: string;
let sys: HostSystem;
let store: FlowStore & StoreAdmin;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-sync-'));
  sys = await startHostSystem(dir);
  store = await openStore(loadConfig({ TASKFLOW_DATA_DIR: dir }));
});

afterAll(async () => {
  await store?.close();
  await sys?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('taskflow manage synctaskflow', () => {
  it('recreates every project and membership after the store was wiped', async () => {
    const api = new SiteApi(sys.siteUrl, sys.adminToken);
    const carol = await api.post('project/api/users/create', { username: 'carol' });
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY', owner: carol.sodar_uuid });
    const sub = await api.post('project/api/create', { title: 'Sub', type: 'CATEGORY', parent: cat.sodar_uuid });
    const p1 = await api.post('project/api/create', { title: 'P1', type: 'PROJECT', parent: cat.sodar_uuid, description: 'first' });
    const p2 = await api.post('project/api/create', { title: 'P2', type: 'PROJECT', parent: sub.sodar_uuid });
    for (const [name, project, role] of [
      ['bob', p1, 'project contributor'],
      ['dave', p1, 'project guest'],
      ['erin', p2, 'project delegate'],
    ] as const) {
      const u = await api.post('project/api/users/create', { username: name });
      await api.post(`project/api/roles/create/${String(project.sodar_uuid)}`, { role, user: u.sodar_uuid });
    }
    const sheet = await api.post(`samplesheets/api/create/${String(p2.sodar_uuid)}`, { studies: [{ assays: [{}] }] });
    expect(sheet.sodar_uuid).toBeDefined();
    await api.post(`samplesheets/api/irods/collections/create/${String(p2.sodar_uuid)}`);
    const before = await store.dump();
    expect(before.some((l) => l.includes('carol'))).toBe(true);

    const cleanup = await fetch(`${sys.serviceUrl}/cleanup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ test_mode: true }),
    });
    expect(cleanup.status).toBe(200);
    const wiped = await store.dump();
    expect(wiped.some((l) => l.includes(String(p1.sodar_uuid)))).toBe(false);
    expect(wiped.some((l) => l.includes('carol'))).toBe(false);

    const sync = await runCli(['manage', 'synctaskflow'], sys.env);
    expect(sync.code, sync.output).toBe(0);
    expect(sync.output).toMatch(/Synced project "P1" \(\S+\): owner admin, 2 member role\(s\)/);
    expect(sync.output).toMatch(/Synced project "P2" \(\S+\): owner admin, 1 member role\(s\)/);
    expect(sync.output).toMatch(/Synced 2 inherited category owner membership\(s\)/);
    expect(sync.output).toMatch(/Sync done: 2 project\(s\), 3 member role\(s\), 2 inherited owner\(s\), 1 app submit\(s\), 0 failure\(s\)/);

    const after = await store.dump();
    expect(after).toEqual(before);
  });

  it('fails clearly when the taskflow plugin is not registered', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'host-sync-empty-'));
    try {
      const res = await runCli(['manage', 'synctaskflow'], { ...sys.env, TASKFLOW_DATA_DIR: empty });
      expect(res.code).toBe(1);
      expect(res.output).toMatch(/Taskflow backend plugin is not enabled: run "taskflow manage syncplugins"/);
      const off = await runCli(['manage', 'synctaskflow'], { ...sys.env, ENABLED_BACKEND_PLUGINS: 'other' });
      expect(off.code).toBe(1);
      expect(off.output).toMatch(/not enabled/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('syncplugins registers once, then says nothing is new', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'host-syncplugins-'));
    try {
      const first = await runCli(['manage', 'syncplugins'], { TASKFLOW_DATA_DIR: fresh });
      expect(first.code).toBe(0);
      expect(first.output).toContain('Registering Plugin for taskflowbackend.plugins.BackendPlugin\n');
      const second = await runCli(['manage', 'syncplugins'], { TASKFLOW_DATA_DIR: fresh });
      expect(second.output.trim()).toBe('No new plugins to register');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
