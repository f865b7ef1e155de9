import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SiteApi, SiteApiError } from '../../src/host/client.js';
import { dumpDb, openDb } from '../../src/host/db/index.js';
import type { Db } from '../../src/host/db/types.js';
import { createLockManager } from '../../src/locks/index.js';
import { openStore } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import { startHostSystem, type HostSystem } from '../support/host-processes.js';

let dir: string;
let sys: HostSystem;
let api: SiteApi;
let siteDb: Db;
let store: FlowStore & StoreAdmin;
let ids: { cat: string; proj: string; bob: string; bobRole: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-rollback-'));
  sys = await startHostSystem(dir);
  api = new SiteApi(sys.siteUrl, sys.adminToken);
  const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
  const proj = await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid, description: 'before' });
  const bob = await api.post('project/api/users/create', { username: 'bob' });
  await api.post('project/api/users/create', { username: 'carol' });
  const role = await api.post(`project/api/roles/create/${String(proj.sodar_uuid)}`, { role: 'project contributor', user: bob.sodar_uuid });
  await api.post(`samplesheets/api/create/${String(proj.sodar_uuid)}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] });
  ids = { cat: String(cat.sodar_uuid), proj: String(proj.sodar_uuid), bob: String(bob.sodar_uuid), bobRole: String(role.sodar_uuid) };
  siteDb = await openDb(loadConfig({ TASKFLOW_DATA_DIR: dir }));
  store = await openStore(loadConfig({ TASKFLOW_DATA_DIR: dir }));
});

afterAll(async () => {
  await store?.close();
  await siteDb?.close();
  await sys?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Site rows (the timeline records the failures, so it is left out) and the whole store. */
async function state(): Promise<{ site: string[]; store: string[] }> {
  return { site: await dumpDb(siteDb, ['timeline_events', 'timeline_statuses']), store: await store.dump() };
}

async function failing(method: string, path: string, body?: unknown): Promise<SiteApiError> {
  const err = await api.request(method, `${path}${path.includes('?') ? '&' : '?'}force_fail=true`, body).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SiteApiError);
  return err as SiteApiError;
}

describe('forced failures through the site API (real service, site and store)', () => {
  const cases: [string, () => [string, string, unknown?]][] = [
    ['project create', () => ['POST', 'project/api/create', { title: 'Doomed', type: 'PROJECT', parent: ids.cat }]],
    ['project update', () => ['PATCH', `project/api/update/${ids.proj}`, { title: 'Renamed', description: 'after', settings: { 'app.x': 1 } }]],
    ['role create', () => ['POST', `project/api/roles/create/${ids.proj}`, { role: 'project guest', user: 'carol-placeholder' }]],
    ['role update', () => ['PATCH', `project/api/roles/update/${ids.bobRole}`, { role: 'project guest' }]],
    ['role destroy', () => ['DELETE', `project/api/roles/destroy/${ids.bobRole}`]],
    ['owner transfer', () => ['POST', `project/api/roles/owner-transfer/${ids.proj}`, { new_owner: 'bob', old_owner_role: 'project delegate' }]],
    ['sheet collections', () => ['POST', `samplesheets/api/irods/collections/create/${ids.proj}`]],
  ];

  it.each(cases)('%s leaves the site database and the store dump unchanged', async (_name, make) => {
    let [method, path, body] = make();
    if (body && typeof body === 'object' && (body as Record<string, unknown>).user === 'carol-placeholder') {
      const carol = (await api.get<Record<string, unknown>[]>('project/api/users/list')).find((u) => u.username === 'carol')!;
      body = { ...(body as object), user: carol.sodar_uuid };
    }
    const before = await state();
    const err = await failing(method, path, body);
    expect(err.status).toBe(400);
    expect(err.detail).toMatch(/^Taskflow "\w+" failed! Reason: "/);
    const after = await state();
    expect(after.site).toEqual(before.site);
    expect(after.store).toEqual(before.store);
  });

  it('the same changes succeed without force_fail', async () => {
    const updated = await api.patch(`project/api/update/${ids.proj}`, { description: 'after' });
    expect(updated.description).toBe('after');
    const colls = await api.post<Record<string, unknown>>(`samplesheets/api/irods/collections/create/${ids.proj}`);
    expect((colls.collections as string[]).length).toBe(2);
    const events = await api.get<Record<string, unknown>[]>(`timeline/api/list/${ids.proj}`);
    expect(events.filter((e) => e.status_type === 'FAILED').length).toBeGreaterThanOrEqual(6);
  });

  it('an owner transfer leaves one owner, and the old owner their own assignment with the role they keep', async () => {
    const assignments = async () =>
      (await siteDb.query<{ uuid: string; user_uuid: string; role_pk: number }>('SELECT uuid, user_uuid, role_pk FROM role_assignments WHERE project_uuid = ? ORDER BY role_pk', [ids.proj]));
    const [owner, bob] = await assignments();
    expect([owner.role_pk, bob]).toEqual([1, { uuid: ids.bobRole, user_uuid: ids.bob, role_pk: 3 }]);
    await api.post(`project/api/roles/owner-transfer/${ids.proj}`, { new_owner: 'bob', old_owner_role: 'project delegate' });
    expect(await assignments()).toEqual([
      { uuid: ids.bobRole, user_uuid: ids.bob, role_pk: 1 },
      { ...owner, role_pk: 2 },
    ]);
  });

  it('answers 503 while another holder has the project lock, shows it, and changes nothing', async () => {
    const locks = createLockManager(loadConfig({ TASKFLOW_DATA_DIR: dir }));
    const handle = await locks.acquire(ids.proj, { retryCount: 0, retryIntervalMs: 0 });
    try {
      expect((await api.get(`project/api/retrieve/${ids.proj}`)).locked).toBe(true);
      const before = await state();
      const err = await api.patch(`project/api/update/${ids.proj}`, { title: 'While locked' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SiteApiError);
      expect((err as SiteApiError).status).toBe(503);
      expect(await state()).toEqual(before);
    } finally {
      await handle.release();
      await locks.close();
    }
    expect((await api.get(`project/api/retrieve/${ids.proj}`)).locked).toBe(false);
  });
});
