/**
 * The site and its backend in front of a service like the original SODAR
 * Taskflow v0.6.2: it serves `/submit`, `/cleanup` and `/hello` only (Flask
 * answers 404 to `GET /locks/<uuid>`), takes the project lock itself, answers
 * `True` when a flow ran and 503 `Unable to acquire project lock` when it
 * cannot lock. The double is a recording HTTP server; the backend is the real one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskflowAPI } from '../../src/backend/index.js';
import { loadBackendSettings } from '../../src/config.js';
import { dumpDb } from '../../src/host/db/index.js';
import { startRecorder, type Recorder } from '../backend/recording-server.js';
import { injectSite, TEST_SECRET, type InjectSite } from '../support/host-inject-site.js';

const FLASK_404 = '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>';

let site: InjectSite;
let service: Recorder;
/** When set, the next submits answer 503 as the original does when its lock is taken. */
let lockTaken = false;

beforeEach(async () => {
  lockTaken = false;
  service = await startRecorder((req) => {
    if (req.method === 'POST' && req.url === '/submit') return lockTaken ? { status: 503, body: 'Unable to acquire project lock' } : { status: 200, body: 'True' };
    return { status: 404, body: FLASK_404 };
  });
  site = await injectSite();
  const api = new TaskflowAPI({ ...loadBackendSettings({}), backendHost: 'http://127.0.0.1', backendPort: service.port, sodarSecret: TEST_SECRET, testMode: true });
  site.ctx.taskflow = async () => api;
});
afterEach(async () => {
  await site.close();
  await service.close();
});

const submitted = (): string[] => service.requests.filter((r) => r.url === '/submit').map((r) => (r.json as { flow_name: string }).flow_name);

describe('a service without the lock query', () => {
  it('gets every operation submitted, and the site shows the lock as unknown', async () => {
    const cat = (await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' })).json.sodar_uuid;
    const created = await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat });
    expect(created.status, created.text).toBe(201);
    const proj = created.json.sodar_uuid as string;
    const bob = (await site.call('POST', 'project/api/users/create', { username: 'bob' })).json;

    const role = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid });
    expect(role.status, role.text).toBe(201);
    const updated = await site.call('PATCH', `project/api/update/${proj}`, { description: 'changed' });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json.locked).toBe('unknown');

    const sheet = await site.call('POST', `samplesheets/api/create/${proj}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] });
    expect((await site.call('POST', `samplesheets/api/irods/collections/create/${proj}`)).status).toBe(200);
    const study: any = Object.values(sheet.json.studies)[0];
    const assay = (Object.values(study.assays)[0] as any).sodar_uuid as string;
    const zone = (await site.call('POST', `landingzones/api/create/${proj}`, { assay })).json.sodar_uuid as string;
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone, status: 'ACTIVE', status_info: 'ok' });
    const move = await site.call('POST', `landingzones/api/submit/move/${zone}`);
    expect(move.status, move.text).toBe(200);

    expect(submitted()).toEqual(['project_create', 'role_update', 'project_update', 'sheet_colls_create', 'landing_zone_create', 'landing_zone_move']);
    expect(service.requests.some((r) => r.method === 'GET' && r.url === `/locks/${proj}`)).toBe(true);

    const got = await site.call('GET', `project/api/retrieve/${proj}`);
    expect(got.json.locked).toBe('unknown');
    expect((await site.call('GET', `project/api/retrieve/${cat}`)).json.locked).toBe(false);
    expect((await site.call('GET', 'project/api/list')).json.find((p: any) => p.sodar_uuid === proj).locked).toBe('unknown');
  });

  it("lets the service's own lock refuse: 503 with its reason, and the site's rows as before", async () => {
    const cat = (await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' })).json.sodar_uuid;
    const proj = (await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat })).json.sodar_uuid as string;
    const bob = (await site.call('POST', 'project/api/users/create', { username: 'bob' })).json;
    const before = await dumpDb(site.db, ['timeline_events', 'timeline_statuses']);
    lockTaken = true;
    const res = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid });
    expect(res.status).toBe(503);
    expect(res.json.detail).toBe('Taskflow "role_update" failed! Reason: "Unable to acquire project lock"');
    expect(submitted().at(-1)).toBe('role_update');
    expect(await dumpDb(site.db, ['timeline_events', 'timeline_statuses'])).toEqual(before);
  });
});
