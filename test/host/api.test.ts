import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dumpDb } from '../../src/host/db/index.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';
import { PageClient } from '../support/page-client.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite();
});
afterEach(async () => {
  await site.close();
});

const TIMELINE = ['timeline_events', 'timeline_statuses'];
const snapshot = (): Promise<string[]> => dumpDb(site.db, TIMELINE);

async function setup(): Promise<{ cat: string; proj: string; bob: { sodar_uuid: string; username: string; token: string } }> {
  const cat = await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' });
  expect(cat.status).toBe(201);
  const proj = await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.json.sodar_uuid, settings: { 'landingzones.member_access': true } });
  expect(proj.status).toBe(201);
  const bob = await site.call('POST', 'project/api/users/create', { username: 'bob' });
  expect(bob.status).toBe(201);
  return { cat: cat.json.sodar_uuid, proj: proj.json.sodar_uuid, bob: bob.json };
}

async function sheetWithColls(proj: string): Promise<string> {
  const sheet = await site.call('POST', `samplesheets/api/create/${proj}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] });
  expect(sheet.status).toBe(201);
  expect((await site.call('POST', `samplesheets/api/irods/collections/create/${proj}`)).status).toBe(200);
  const study: any = Object.values(sheet.json.studies)[0];
  return (Object.values(study.assays)[0] as any).sodar_uuid;
}

describe('site API with token auth', () => {
  it('refuses requests without a valid token', async () => {
    const res = await site.app.inject({ method: 'GET', url: '/project/api/list' });
    expect(res.statusCode).toBe(401);
    expect((await site.call('GET', 'project/api/list', undefined, 'bogus')).status).toBe(401);
  });

  it('creates a category without a flow and a project with project_create', async () => {
    const { cat, proj } = await setup();
    const creates = site.backend.submits.filter((s) => s.flowName === 'project_create');
    expect(creates).toHaveLength(1);
    const admin = (await site.call('GET', 'project/api/users/list')).json.find((u: any) => u.username === 'admin');
    expect(creates[0]).toMatchObject({
      projectUuid: proj,
      requestMode: 'sync',
      sodarUrl: 'http://site.test',
      flowData: {
        project_title: 'Proj',
        parent_uuid: cat,
        owner_username: 'admin',
        owner_uuid: admin.sodar_uuid,
        owner_role_pk: 1,
        settings: { 'settings.landingzones.member_access': true },
        roles_add: [],
      },
    });
    const got = await site.call('GET', `project/api/retrieve/${proj}`);
    expect(got.json).toMatchObject({ title: 'Proj', type: 'PROJECT', parent: cat, locked: false });
    expect(Object.values(got.json.roles).map((r: any) => [r.user.username, r.role])).toEqual([['admin', 'project owner']]);
  });

  it('requires a category parent for a project and unique titles', async () => {
    expect((await site.call('POST', 'project/api/create', { title: 'P', type: 'PROJECT' })).status).toBe(400);
    const { cat } = await setup();
    const dup = await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat });
    expect(dup.status).toBe(400);
  });

  it('leaves the site rows unchanged and answers the backend message when a flow fails', async () => {
    const { cat, proj, bob } = await setup();
    // only a member can become the owner: carol is one, so her transfer reaches the flow
    const carol = (await site.call('POST', 'project/api/users/create', { username: 'carol' })).json;
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: carol.sodar_uuid })).status).toBe(201);
    const before = await snapshot();
    site.backend.failWith.set('project_create', [500, 'Error running flow: disk full']);
    const res = await site.call('POST', 'project/api/create', { title: 'Second', type: 'PROJECT', parent: cat });
    expect(res.status).toBe(400);
    expect(res.json.detail).toBe('Taskflow "project_create" failed! Reason: "Error running flow: disk full"');
    expect(await snapshot()).toEqual(before);

    site.backend.failWith.set('project_update', [500, 'Error running flow: nope']);
    expect((await site.call('PATCH', `project/api/update/${proj}`, { title: 'Renamed', settings: { 'x.y': 1 } })).status).toBe(400);
    expect(await snapshot()).toEqual(before);

    site.backend.failWith.set('role_update', [500, 'Error running flow: nope']);
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid })).status).toBe(400);
    expect(await snapshot()).toEqual(before);

    const transfer = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'carol', old_owner_role: 'project guest' });
    expect([transfer.status, transfer.json.detail]).toEqual([400, 'Taskflow "project_update" failed! Reason: "Error running flow: nope"']);
    expect(await snapshot()).toEqual(before);

    // force_fail (test mode) reaches the backend as forceFail and rolls back the same way
    site.backend.failWith.clear();
    const forced = await site.call('POST', `project/api/roles/create/${proj}?force_fail=true`, { role: 'project guest', user: bob.sodar_uuid });
    expect(forced.status).toBe(400);
    expect(site.backend.submits.at(-1)).toMatchObject({ flowName: 'role_update', forceFail: true });
    expect(await snapshot()).toEqual(before);

    const events = (await site.call('GET', `timeline/api/list/${proj}`)).json;
    expect(events.filter((e: any) => e.status_type === 'FAILED').length).toBeGreaterThanOrEqual(3);
  });

  it('answers 503 for a locked project before submitting, and shows the lock', async () => {
    const { proj, bob } = await setup();
    site.backend.locked = true;
    const n = site.backend.submits.length;
    const res = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid });
    expect(res.status).toBe(503);
    expect(site.backend.submits.length).toBe(n);
    expect((await site.call('GET', `project/api/retrieve/${proj}`)).json.locked).toBe(true);
    site.backend.locked = false;
    site.backend.failWith.set('role_update', [503, 'Unable to acquire project lock']);
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid })).status).toBe(503);
  });

  it('creates, updates and destroys roles through role_update and role_delete', async () => {
    const { proj, bob } = await setup();
    const created = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid });
    expect(created.status).toBe(201);
    expect(site.backend.submits.at(-1)).toMatchObject({ flowName: 'role_update', flowData: { username: 'bob', user_uuid: bob.sodar_uuid, role_pk: 3 } });
    const updated = await site.call('PATCH', `project/api/roles/update/${created.json.sodar_uuid}`, { role: 'project guest' });
    expect(updated.json.role).toBe('project guest');
    expect(site.backend.submits.at(-1)).toMatchObject({ flowName: 'role_update', flowData: { role_pk: 4 } });
    expect((await site.call('PATCH', `project/api/roles/update/${created.json.sodar_uuid}`, { role: 'project owner' })).status).toBe(400);
    const gone = await site.call('DELETE', `project/api/roles/destroy/${created.json.sodar_uuid}`);
    expect(gone.status).toBe(204);
    expect(site.backend.submits.at(-1)).toMatchObject({ flowName: 'role_delete', flowData: { username: 'bob', role_pk: 4 } });
  });

  it('transfers ownership with project_update', async () => {
    const { proj, bob } = await setup();
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: bob.sodar_uuid })).status).toBe(201);
    const res = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'bob', old_owner_role: 'project delegate' });
    expect(res.status).toBe(200);
    expect(site.backend.submits.at(-1)).toMatchObject({
      flowName: 'project_update',
      flowData: { owner_username: 'bob', owner_uuid: bob.sodar_uuid, old_owner_username: 'admin' },
    });
    const roles = Object.values((await site.call('GET', `project/api/retrieve/${proj}`)).json.roles).map((r: any) => [r.user.username, r.role]);
    expect(roles.sort()).toEqual([
      ['admin', 'project delegate'],
      ['bob', 'project owner'],
    ]);
  });

  it('refuses a delegate over the limit when adding, changing or transferring, before anything changes', async () => {
    const { proj, bob } = await setup();
    const carol = (await site.call('POST', 'project/api/users/create', { username: 'carol' })).json;
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project delegate', user: bob.sodar_uuid })).status).toBe(201);
    const guest = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: carol.sodar_uuid });
    const dave = (await site.call('POST', 'project/api/users/create', { username: 'dave' })).json;
    const before = await snapshot();
    const submits = site.backend.submits.length;
    const limit = '"Proj" already has 1 delegate(s) ("bob"), the most it may have: change their role first';
    expect(await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project delegate', user: dave.sodar_uuid })).toMatchObject({ status: 400, json: { detail: limit } });
    expect(await site.call('PATCH', `project/api/roles/update/${guest.json.sodar_uuid}`, { role: 'project delegate' })).toMatchObject({ status: 400, json: { detail: limit } });
    const transfer = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'carol', old_owner_role: 'project delegate' });
    expect(transfer).toMatchObject({ status: 400, json: { detail: limit } });
    expect(await snapshot()).toEqual(before);
    expect(site.backend.submits.length).toBe(submits);
    // the delegate who becomes owner leaves room for the old owner
    const moved = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'bob', old_owner_role: 'project delegate' });
    expect(moved.status, moved.text).toBe(200);
  });

  it('creates sheet collections once with sheet_colls_create', async () => {
    const { proj } = await setup();
    await sheetWithColls(proj);
    const submit = site.backend.submits.at(-1)!;
    expect(submit.flowName).toBe('sheet_colls_create');
    const colls = submit.flowData.colls as string[];
    expect(colls).toHaveLength(2);
    expect(colls[1].startsWith(`${colls[0]}/assay_`)).toBe(true);
    expect((await site.call('POST', `samplesheets/api/irods/collections/create/${proj}`)).status).toBe(400);
  });

  it('runs zone flows async with a timeline event and refuses busy or finished zones before submitting', async () => {
    const { proj } = await setup();
    const assay = await sheetWithColls(proj);
    const created = await site.call('POST', `landingzones/api/create/${proj}`, { assay, title: 'mine', description: 'd' });
    expect(created.status).toBe(201);
    const zone = created.json;
    expect(zone.status).toBe('CREATING');
    const submit = site.backend.submits.at(-1)!;
    expect(submit).toMatchObject({ flowName: 'landing_zone_create', requestMode: 'async', flowData: { zone_uuid: zone.sodar_uuid, user_name: 'admin', colls: [] } });
    expect(submit.timelineUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(zone.irods_path).toContain(`/landing_zones/admin/${zone.assay_path}/${zone.title}`);

    const n = site.backend.submits.length;
    const busy = await site.call('POST', `landingzones/api/submit/move/${zone.sodar_uuid}`);
    expect(busy.status).toBe(400);
    expect(busy.json.detail).toMatch(/busy/);
    expect(site.backend.submits.length).toBe(n);

    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone.sodar_uuid, status: 'ACTIVE', status_info: 'ok' });
    const val = await site.call('POST', `landingzones/api/submit/validate/${zone.sodar_uuid}`);
    expect(val.status).toBe(200);
    expect(site.backend.submits.at(-1)).toMatchObject({ flowName: 'landing_zone_move', requestMode: 'async', flowData: { validate_only: true } });
    // the status and text the flow's reverts stop at (flows/zone-status.ts ZoneAtStart), spelled here as the original's flow sends them
    expect((await site.call('GET', `landingzones/api/retrieve/${zone.sodar_uuid}`)).json).toMatchObject({ status: 'PREPARING', status_info: 'Preparing transaction for validation' });
    expect((await site.call('POST', `landingzones/api/submit/validate/${zone.sodar_uuid}`)).status).toBe(400);

    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone.sodar_uuid, status: 'ACTIVE', status_info: 'valid' });
    site.backend.failWith.set('landing_zone_move', [400, 'Error validating flow: nope']);
    expect((await site.call('POST', `landingzones/api/submit/move/${zone.sodar_uuid}`)).status).toBe(400);
    expect((await site.call('GET', `landingzones/api/retrieve/${zone.sodar_uuid}`)).json).toMatchObject({ status: 'ACTIVE', status_info: 'valid' });
    site.backend.failWith.clear();

    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone.sodar_uuid, status: 'MOVED', status_info: 'moved' });
    const m = site.backend.submits.length;
    for (const op of ['validate', 'move', 'delete']) {
      const res = await site.call('POST', `landingzones/api/submit/${op}/${zone.sodar_uuid}`);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(/finished/);
    }
    expect(site.backend.submits.length).toBe(m);
    expect((await site.call('GET', `landingzones/api/list/${proj}`)).json.map((z: any) => z.status)).toEqual(['MOVED']);
  });

  it("shows a moving zone's progress in its API and its live status fragment; a moved zone keeps its final status", async () => {
    const { proj } = await setup();
    const assay = await sheetWithColls(proj);
    const zone = (await site.call('POST', `landingzones/api/create/${proj}`, { assay, title: 'progress', description: '' })).json;
    const status = (s: string, info: string) => site.callback('landingzones/taskflow/status/set', { zone_uuid: zone.sodar_uuid, status: s, status_info: info, flow_name: 'landing_zone_move' });
    const moving = 'Validation OK, moving 3000 files into sample_data';
    await status('MOVING', moving);
    await status('MOVING', `${moving} (1500/3000: 50%)`);
    expect((await site.call('GET', `landingzones/api/retrieve/${zone.sodar_uuid}`)).json).toMatchObject({ status: 'MOVING', status_info: `${moving} (1500/3000: 50%)` });
    const admin = new PageClient(site.app);
    await admin.signIn('admin', site.adminPassword);
    const fragment = await admin.get(`/landingzones/zone/${zone.sodar_uuid}/status`);
    expect(fragment.text).toContain(`${moving} (1500/3000: 50%)`);
    expect(fragment.text).toContain('hx-trigger="every'); // polled while busy: the progress shows as it comes

    await status('MOVED', 'Successfully moved 3000 files, landing zone removed');
    await status('MOVING', `${moving} (3000/3000: 100%)`); // a late progress callback
    expect((await site.call('GET', `landingzones/api/retrieve/${zone.sodar_uuid}`)).json).toMatchObject({
      status: 'MOVED',
      status_info: 'Successfully moved 3000 files, landing zone removed',
    });
    expect((await admin.get(`/landingzones/zone/${zone.sodar_uuid}/status`)).text).not.toContain('hx-trigger');
  });

  it('removes a zone whose create submit fails', async () => {
    const { proj } = await setup();
    const assay = await sheetWithColls(proj);
    site.backend.failWith.set('landing_zone_create', [400, 'Error validating flow: bad']);
    const before = await snapshot();
    const res = await site.call('POST', `landingzones/api/create/${proj}`, { assay });
    expect(res.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses force_fail outside test mode', async () => {
    site.ctx.config.testMode = false;
    const res = await site.call('POST', 'project/api/create?force_fail=1', { title: 'C', type: 'CATEGORY' });
    expect(res.status).toBe(400);
    expect(res.json.detail).toMatch(/TASKFLOW_TEST_MODE/);
  });

  it('answers 503 for project changes while the taskflow plugin is disabled', async () => {
    const { cat } = await setup();
    site.enabled.value = false;
    const before = await snapshot();
    const res = await site.call('POST', 'project/api/create', { title: 'X', type: 'PROJECT', parent: cat });
    expect(res.status).toBe(503);
    expect(res.json.detail).toMatch(/syncplugins/);
    expect(await snapshot()).toEqual(before);
  });

  it('starts only one flow when many requests hit one zone at once', async () => {
    const { proj } = await setup();
    const assay = await sheetWithColls(proj);
    const zone = (await site.call('POST', `landingzones/api/create/${proj}`, { assay })).json;
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone.sodar_uuid, status: 'ACTIVE', status_info: '' });
    const n = site.backend.submits.length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => site.call('POST', `landingzones/api/submit/move/${zone.sodar_uuid}`)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
    expect(site.backend.submits.length).toBe(n + 1);
  });

  it('moves a project to another category with inherited owner changes in project_update', async () => {
    const carol = (await site.call('POST', 'project/api/users/create', { username: 'carol' })).json;
    const dave = (await site.call('POST', 'project/api/users/create', { username: 'dave' })).json;
    const a = (await site.call('POST', 'project/api/create', { title: 'A', type: 'CATEGORY', owner: carol.sodar_uuid })).json;
    const b = (await site.call('POST', 'project/api/create', { title: 'B', type: 'CATEGORY', owner: dave.sodar_uuid })).json;
    const p = (await site.call('POST', 'project/api/create', { title: 'P', type: 'PROJECT', parent: a.sodar_uuid })).json;
    expect(site.backend.submits.at(-1)!.flowData.roles_add).toEqual([{ project_uuid: p.sodar_uuid, username: 'carol' }]);
    const moved = await site.call('PATCH', `project/api/update/${p.sodar_uuid}`, { parent: b.sodar_uuid });
    expect(moved.status).toBe(200);
    expect(site.backend.submits.at(-1)).toMatchObject({
      flowName: 'project_update',
      flowData: {
        parent_uuid: b.sodar_uuid,
        roles_add: [{ project_uuid: p.sodar_uuid, username: 'dave' }],
        roles_delete: [{ project_uuid: p.sodar_uuid, username: 'carol' }],
      },
    });
    expect((await site.call('PATCH', `project/api/update/${b.sodar_uuid}`, { parent: b.sodar_uuid })).status).toBe(400);
  });
});
