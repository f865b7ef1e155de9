import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertProject, insertZone, setRole, createUser, addEvent, eventStatuses, getZone, getProject, getSettings, setSettings } from '../../src/host/repo.js';
import { dumpDb } from '../../src/host/db/index.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite();
});
afterEach(async () => {
  await site.close();
});

const P = '11111111-1111-1111-1111-111111111111';
const C = '22222222-2222-2222-2222-222222222222';

async function seed(): Promise<{ userUuid: string; zoneUuid: string; assayUuid: string }> {
  const { db } = site;
  await insertProject(db, { uuid: C, type: 'CATEGORY', parent_uuid: null, title: 'Cat', description: '', readme: '', public_guest_access: false });
  await insertProject(db, { uuid: P, type: 'PROJECT', parent_uuid: C, title: 'Proj', description: 'd', readme: 'r', public_guest_access: false });
  const user = await createUser(db, { username: 'alice' });
  await setRole(db, P, user.uuid, 1);
  await db.exec("INSERT INTO investigations (uuid, project_uuid, title, irods_status) VALUES ('inv', ?, 'i', 0)", [P]);
  await db.exec("INSERT INTO studies (uuid, investigation_uuid, title, path) VALUES ('st', 'inv', 's', 'study_st')");
  await db.exec("INSERT INTO assays (uuid, study_uuid, title, path) VALUES ('as', 'st', 'a', 'study_st/assay_as')");
  const zoneUuid = '33333333-3333-3333-3333-333333333333';
  await insertZone(db, {
    uuid: zoneUuid,
    project_uuid: P,
    user_uuid: user.uuid,
    assay_uuid: 'as',
    title: 'z',
    configuration: '',
    description: '',
    status: 'CREATING',
    status_info: '',
    modified: new Date().toISOString(),
  });
  return { userUuid: user.uuid, zoneUuid, assayUuid: 'as' };
}

describe('site callbacks (protocol section 3)', () => {
  it('refuses a missing or wrong secret with 403 Not authorized', async () => {
    await seed();
    expect(await site.callback('project/taskflow/get', { project_uuid: P }, { secret: null })).toEqual({ status: 403, text: 'Not authorized' });
    expect(await site.callback('project/taskflow/get', { project_uuid: P }, { secret: 'wrong' })).toEqual({ status: 403, text: 'Not authorized' });
    expect((await site.callback('project/taskflow/get', { project_uuid: P }, { json: true, secret: 'wrong' })).status).toBe(403);
  });

  it('serves callbacks only while the taskflow plugin is enabled', async () => {
    await seed();
    site.enabled.value = false;
    expect((await site.callback('project/taskflow/get', { project_uuid: P })).status).toBe(404);
    site.enabled.value = true;
    expect((await site.callback('project/taskflow/get', { project_uuid: P })).status).toBe(200);
  });

  it('gets and updates a project from form and JSON bodies; 404 for an unknown one', async () => {
    await seed();
    for (const json of [false, true]) {
      const got = await site.callback('project/taskflow/get', { project_uuid: P }, { json });
      expect(JSON.parse(got.text)).toEqual({ project_uuid: P, title: 'Proj', description: 'd', parent_uuid: C, readme: 'r', public_guest_access: false });
    }
    expect((await site.callback('project/taskflow/get', { project_uuid: 'nope' })).status).toBe(404);
    const upd = await site.callback('project/taskflow/update', { project_uuid: P, title: 'New', parent_uuid: C, description: 'nd', readme: 'nr', public_guest_access: 'True' });
    expect(upd).toEqual({ status: 200, text: 'ok' });
    expect(await getProject(site.db, P)).toMatchObject({ title: 'New', description: 'nd', readme: 'nr', public_guest_access: true, parent_uuid: C });
    expect((await site.callback('project/taskflow/update', { project_uuid: 'nope', title: 'x' }, { json: true })).status).toBe(404);
  });

  it('moves a project only into a category: 404 for an unknown parent, 400 for a project, itself or a category below it', async () => {
    await seed();
    const Q = '44444444-4444-4444-4444-444444444444';
    const SUB = '55555555-5555-5555-5555-555555555555';
    await insertProject(site.db, { uuid: Q, type: 'PROJECT', parent_uuid: C, title: 'Other', description: '', readme: '', public_guest_access: false });
    await insertProject(site.db, { uuid: SUB, type: 'CATEGORY', parent_uuid: C, title: 'Sub', description: '', readme: '', public_guest_access: false });
    const before = await dumpDb(site.db);
    const move = (project_uuid: string, title: string, parent_uuid: string) => site.callback('project/taskflow/update', { project_uuid, title, parent_uuid, description: '', readme: '' });
    const unknown = '99999999-9999-9999-9999-999999999999';
    expect(await move(P, 'Proj', unknown)).toEqual({ status: 404, text: `Parent project ${unknown} not found` });
    expect(await move(P, 'Proj', Q)).toEqual({ status: 400, text: 'The parent must be a category' });
    expect(await move(P, 'Proj', P)).toEqual({ status: 400, text: '"Proj" cannot be moved inside itself' });
    expect(await move(C, 'Cat', SUB)).toEqual({ status: 400, text: '"Cat" cannot be moved inside itself' });
    expect(await dumpDb(site.db)).toEqual(before);
    expect(await move(P, 'Other', C)).toEqual({ status: 400, text: 'A project or category titled "Other" already exists in this category' });
    expect(await move(P, 'Sub', C)).toMatchObject({ status: 400 });
    expect(await dumpDb(site.db)).toEqual(before);
    expect(await move(P, 'Proj', SUB)).toEqual({ status: 200, text: 'ok' });
    expect((await getProject(site.db, P))?.parent_uuid).toBe(SUB);
  });

  it('gets, sets and deletes roles with the specified 404s', async () => {
    const { userUuid } = await seed();
    const bob = await createUser(site.db, { username: 'bob' });
    expect((await site.callback('project/taskflow/role/get', { project_uuid: P, user_uuid: bob.uuid })).status).toBe(404);
    expect(await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 3 })).toEqual({ status: 200, text: 'ok' });
    const got = JSON.parse((await site.callback('project/taskflow/role/get', { project_uuid: P, user_uuid: bob.uuid })).text);
    expect(got).toMatchObject({ project_uuid: P, user_uuid: bob.uuid, role_pk: 3, role_name: 'project contributor' });
    expect(typeof got.assignment_uuid).toBe('string');
    expect((await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 4 }, { json: true })).status).toBe(200);
    expect(JSON.parse((await site.callback('project/taskflow/role/get', { project_uuid: P, user_uuid: bob.uuid })).text).role_pk).toBe(4);
    expect((await site.callback('project/taskflow/role/set', { project_uuid: 'nope', user_uuid: bob.uuid, role_pk: 3 })).status).toBe(404);
    expect(await site.callback('project/taskflow/role/delete', { project_uuid: P, user_uuid: bob.uuid })).toEqual({ status: 200, text: 'ok' });
    expect((await site.callback('project/taskflow/role/delete', { project_uuid: P, user_uuid: bob.uuid })).status).toBe(404);
    expect((await site.callback('project/taskflow/role/get', { project_uuid: P, user_uuid: userUuid })).status).toBe(200);
  });

  it('refuses to set a second owner or a delegate over the limit (400 naming the holder, where SODAR Core answers 500)', async () => {
    const { userUuid } = await seed();
    const bob = await createUser(site.db, { username: 'bob' });
    const carol = await createUser(site.db, { username: 'carol' });
    const before = await dumpDb(site.db);
    const owner = await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 1 });
    expect(owner).toEqual({ status: 400, text: '"Proj" already has an owner ("alice"): transfer the ownership instead' });
    expect(await dumpDb(site.db)).toEqual(before);
    expect((await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: userUuid, role_pk: 1 })).status).toBe(200);
    expect((await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 2 })).status).toBe(200);
    const delegates = await dumpDb(site.db);
    for (const [user, rolePk] of [[carol.uuid, 2], [userUuid, 2]] as const) {
      const refused = await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: user, role_pk: rolePk });
      expect(refused).toEqual({ status: 400, text: '"Proj" already has 1 delegate(s) ("bob"), the most it may have: change their role first' });
    }
    expect(await dumpDb(site.db)).toEqual(delegates);
    // the category's owner holding the delegate role is no local delegate (SODAR Core get_delegates(exclude_inherited=True))
    await setRole(site.db, C, carol.uuid, 1);
    await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 3 });
    expect((await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: carol.uuid, role_pk: 2 })).status).toBe(200);
    expect((await site.callback('project/taskflow/role/set', { project_uuid: P, user_uuid: bob.uuid, role_pk: 2 })).status).toBe(200);
  });

  it('sets settings from a JSON string of settings.<app>.<name> and gets them with dict values JSON-encoded', async () => {
    await seed();
    const settings = { 'settings.landingzones.member_access': true, 'settings.samplesheets.display': { a: 1 } };
    expect(await site.callback('project/taskflow/settings/set', { project_uuid: P, settings: JSON.stringify(settings) })).toEqual({ status: 200, text: 'ok' });
    expect(await getSettings(site.db, P)).toEqual({ 'landingzones.member_access': true, 'samplesheets.display': { a: 1 } });
    const got = JSON.parse((await site.callback('project/taskflow/settings/get', { project_uuid: P })).text);
    expect(got).toEqual({ project_uuid: P, settings: { 'settings.landingzones.member_access': true, 'settings.samplesheets.display': '{"a":1}' } });
    expect((await site.callback('project/taskflow/settings/set', { project_uuid: P, settings: 'not json' })).status).toBe(400);
    // a JSON field is parsed as request bodies are: no key that could reach a prototype
    expect(await site.callback('project/taskflow/settings/set', { project_uuid: P, settings: '{"__proto__":{"projectroles.x":1}}' })).toEqual({
      status: 400,
      text: 'Field "settings": key "__proto__" is not allowed',
    });
    expect((await site.callback('project/taskflow/settings/get', { project_uuid: 'nope' })).status).toBe(404);
  });

  it('takes back what settings/get handed out: a dict sent as its JSON string is stored as the dict, a list stays a list', async () => {
    await seed();
    await setSettings(site.db, P, { 'samplesheets.display': { a: 1 }, 'projectroles.ip_allowlist': ['10.0.0.1'], 'app.note': '{"not":"json setting"}' });
    const got = JSON.parse((await site.callback('project/taskflow/settings/get', { project_uuid: P })).text).settings;
    expect(got).toEqual({ 'settings.samplesheets.display': '{"a":1}', 'settings.projectroles.ip_allowlist': ['10.0.0.1'], 'settings.app.note': '{"not":"json setting"}' });
    await setSettings(site.db, P, { 'samplesheets.display': { b: 2 }, 'projectroles.ip_allowlist': [], 'app.note': 'changed' });
    expect(await site.callback('project/taskflow/settings/set', { project_uuid: P, settings: JSON.stringify(got) })).toEqual({ status: 200, text: 'ok' });
    // a string setting keeps a string that happens to be JSON
    expect(await getSettings(site.db, P)).toEqual({ 'samplesheets.display': { a: 1 }, 'projectroles.ip_allowlist': ['10.0.0.1'], 'app.note': '{"not":"json setting"}' });
  });

  it('sets timeline statuses; 404 unknown event, 400 bad status', async () => {
    await seed();
    const e = await addEvent(site.db, { projectUuid: P, app: 'x', userUuid: null, eventName: 'e', description: '', status: 'SUBMIT' });
    expect(await site.callback('timeline/taskflow/status/set', { event_uuid: e.uuid, status_type: 'OK', status_desc: 'fine', extra_data: '{"k":1}' })).toEqual({
      status: 200,
      text: 'ok',
    });
    const statuses = await eventStatuses(site.db, e.uuid);
    expect(statuses.map((s) => [s.status_type, s.status_desc, JSON.parse(s.extra_data)])).toEqual([
      ['SUBMIT', '', {}],
      ['OK', 'fine', { k: 1 }],
    ]);
    expect((await site.callback('timeline/taskflow/status/set', { event_uuid: 'nope', status_type: 'OK' })).status).toBe(404);
    expect((await site.callback('timeline/taskflow/status/set', { event_uuid: e.uuid, status_type: 'BOGUS' })).status).toBe(400);
  });

  it('sets zone statuses, cuts the info to 1024 characters, and never changes a finished zone', async () => {
    const { zoneUuid } = await seed();
    expect(await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'ACTIVE', status_info: 'x'.repeat(2000), flow_name: 'landing_zone_create' })).toEqual({
      status: 200,
      text: 'ok',
    });
    expect((await getZone(site.db, zoneUuid))?.status_info.length).toBe(1024);
    expect((await site.callback('landingzones/taskflow/status/set', { zone_uuid: 'nope', status: 'ACTIVE' })).status).toBe(404);
    expect((await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'WEIRD' })).status).toBe(400);
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'MOVED', status_info: 'done' }, { json: true });
    expect(await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'FAILED', status_info: 'late lock error' })).toEqual({ status: 200, text: 'ok' });
    expect(await getZone(site.db, zoneUuid)).toMatchObject({ status: 'MOVED', status_info: 'done' });
  });

  it("reads booleans as SODAR's Django fields do and refuses other spellings", async () => {
    await seed();
    const dirs = async () => JSON.parse((await site.callback('samplesheets/taskflow/dirs/get', { project_uuid: P })).text).dir_status;
    for (const [spelling, value] of [['t', true], ['0', false], ['1', true], ['f', false], ['True', true], ['False', false]] as const) {
      expect(await site.callback('samplesheets/taskflow/dirs/set', { project_uuid: P, dir_status: spelling })).toEqual({ status: 200, text: 'ok' });
      expect(await dirs()).toBe(value);
    }
    expect((await site.callback('samplesheets/taskflow/dirs/set', { project_uuid: P, dir_status: 'yes' })).status).toBe(400);
    const update = { project_uuid: P, title: 'Proj', parent_uuid: C, description: 'd', readme: 'r' };
    expect((await site.callback('project/taskflow/update', { ...update, public_guest_access: 't' })).status).toBe(200);
    expect((await getProject(site.db, P))?.public_guest_access).toBe(true);
    expect((await site.callback('project/taskflow/update', { ...update, public_guest_access: '' })).status).toBe(200);
    expect((await getProject(site.db, P))?.public_guest_access).toBe(false);
    expect((await site.callback('project/taskflow/update', { ...update, public_guest_access: 'maybe' })).status).toBe(400);
  });

  it('gets and sets the sheet dir status and deletes the sheet', async () => {
    await seed();
    expect(JSON.parse((await site.callback('samplesheets/taskflow/dirs/get', { project_uuid: P })).text)).toEqual({ dir_status: false });
    expect(await site.callback('samplesheets/taskflow/dirs/set', { project_uuid: P, dir_status: 'True' })).toEqual({ status: 200, text: 'ok' });
    expect(JSON.parse((await site.callback('samplesheets/taskflow/dirs/get', { project_uuid: P }, { json: true })).text)).toEqual({ dir_status: true });
    expect((await site.callback('samplesheets/taskflow/dirs/get', { project_uuid: 'nope' })).status).toBe(404);
    expect(await site.callback('samplesheets/taskflow/delete', { project_uuid: P })).toEqual({ status: 200, text: 'ok' });
    expect((await site.callback('samplesheets/taskflow/delete', { project_uuid: P })).status).toBe(404);
    expect((await site.callback('samplesheets/taskflow/dirs/set', { project_uuid: P, dir_status: 'False' })).status).toBe(404);
  });
});
