import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SiteApi, SiteApiError } from '../../src/host/client.js';
import { dumpDb, openDb } from '../../src/host/db/index.js';
import type { Db } from '../../src/host/db/types.js';
import { openStore } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import { pgSchema } from '../support/host-postgres.js';
import { runCli, startHostSystem, type HostSystem } from '../support/host-processes.js';

let dir: string;
let sys: HostSystem;
let pg: Awaited<ReturnType<typeof pgSchema>>;
let db: Db;
let store: FlowStore & StoreAdmin;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-pg-'));
  pg = await pgSchema();
  sys = await startHostSystem(dir, { DATABASE_URL: pg.url });
  db = await openDb({ dataDir: dir, databaseUrl: pg.url });
  store = await openStore(loadConfig({ TASKFLOW_DATA_DIR: dir }));
});

afterAll(async () => {
  await store?.close();
  await db?.close();
  await sys?.stop();
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the site on PostgreSQL (DATABASE_URL)', () => {
  it('keeps its rows in PostgreSQL, not in SQLite', async () => {
    const users = await db.query<{ username: string }>('SELECT username FROM users');
    expect(users.map((u) => u.username)).toContain('admin');
    expect(sys.site.output()).toMatch(/Database: postgres:\/\/.*schema=/);
  });

  it('runs projects, roles, sheets and a landing zone, and rolls back a forced failure', async () => {
    const api = new SiteApi(sys.siteUrl, sys.adminToken);
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    const proj = await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid });
    const pu = String(proj.sodar_uuid);
    const bob = await api.post('project/api/users/create', { username: 'bob' });
    await api.post(`project/api/roles/create/${pu}`, { role: 'project contributor', user: bob.sodar_uuid });
    const sheet = await api.post(`samplesheets/api/create/${pu}`, { studies: [{ assays: [{}] }] });
    const study = Object.values(sheet.studies as Record<string, Record<string, unknown>>)[0];
    const assay = Object.values(study.assays as Record<string, Record<string, unknown>>)[0];
    await api.post(`samplesheets/api/irods/collections/create/${pu}`);
    const bobApi = new SiteApi(sys.siteUrl, String(bob.token));
    const zone = await bobApi.post(`landingzones/api/create/${pu}`, { assay: assay.sodar_uuid });
    const active = await bobApi.waitZone(String(zone.sodar_uuid), ['ACTIVE', 'NOT CREATED']);
    expect(active.status).toBe('ACTIVE');
    expect((await store.stat(String(active.irods_path)))?.type === 'collection').toBe(true);

    const before = { site: await dumpDb(db, ['timeline_events', 'timeline_statuses']), store: await store.dump() };
    const err = await api.request('PATCH', `project/api/update/${pu}?force_fail=1`, { title: 'Renamed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SiteApiError);
    expect((err as SiteApiError).detail).toMatch(/Taskflow "project_update" failed!/);
    expect(await dumpDb(db, ['timeline_events', 'timeline_statuses'])).toEqual(before.site);
    expect(await store.dump()).toEqual(before.store);

    // An async zone flow forced to fail: the zone ends NOT CREATED and the store is as before.
    const doomed = await bobApi.post(`landingzones/api/create/${pu}?force_fail=true`, { assay: assay.sodar_uuid, title: 'doomed' });
    const notCreated = await bobApi.waitZone(String(doomed.sodar_uuid), ['NOT CREATED', 'ACTIVE']);
    expect(notCreated.status).toBe('NOT CREATED');
    expect(await store.dump()).toEqual(before.store);
    expect((await bobApi.post(`landingzones/api/submit/delete/${String(doomed.sodar_uuid)}`).catch((e: unknown) => e)) as SiteApiError).toMatchObject({
      status: 400,
    });

    await bobApi.post(`landingzones/api/submit/delete/${String(zone.sodar_uuid)}`);
    const deleted = await bobApi.waitZone(String(zone.sodar_uuid), ['DELETED', 'FAILED']);
    expect(deleted.status).toBe('DELETED');
    expect((await store.stat(String(active.irods_path)))?.type === 'collection').toBe(false);

    const events = await api.get<Record<string, unknown>[]>(`timeline/api/list/${pu}`);
    expect(events.filter((e) => e.event_name === 'zone_create').map((e) => e.status_type).sort()).toEqual(['FAILED', 'OK']);
    expect(events.find((e) => e.event_name === 'zone_delete')?.status_type).toBe('OK');
  });

  it('synctaskflow reads the PostgreSQL database', async () => {
    const res = await runCli(['manage', 'synctaskflow'], { ...sys.env, DATABASE_URL: pg.url });
    expect(res.code, res.output).toBe(0);
    expect(res.output).toMatch(/Synced project "Proj"/);
  });
});
