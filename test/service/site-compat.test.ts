/**
 * The service against a test site as strict as SODAR's real callback views
 * (SODAR Core 0.10, SODAR 0.11): booleans as Django reads them, a project
 * get that reports only title and description, an update that needs title
 * and readme.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDetail } from '../../src/cli/runs.js';
import { startService, type RunningService } from '../../src/service/server.js';
import { projectCreateBody } from '../support/service-flows.js';
import { TEST_SECRET, getWithSecret, makeTempDir, postJson, removeDir, testConfig } from '../support/service-harness.js';
import { startTestSite, type TestSite } from '../support/test-site.js';

const P = 'b2c3d4e5-0000-4000-8000-000000000013';
const CATEGORY = 'c0000000-0000-4000-8000-00000000cafe';
const OWNER = { user_uuid: 'uuid-owner_user', username: 'owner_user' };
const NEW_OWNER = { user_uuid: 'uuid-new_owner', username: 'new_owner' };

let dir: string;
let site: TestSite;
let service: RunningService;
let log: string[];

async function start(opts: { richProjectGet?: boolean } = {}): Promise<void> {
  site = await startTestSite({ secret: TEST_SECRET, ...opts });
  site.seedProject({ project_uuid: CATEGORY, type: 'CATEGORY', title: 'Category' });
  site.seedProject({ project_uuid: P, title: 'Old title', description: 'old description', readme: 'old readme' });
  site.seedUser(OWNER);
  site.seedRole(P, OWNER.user_uuid, 1);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      log.push(chunk.toString('utf8'));
      cb();
    },
  });
  service = await startService(testConfig(dir, { TASKFLOW_LOG_LEVEL: 'info' }), { logDestination: sink });
}

beforeEach(() => {
  dir = makeTempDir();
  log = [];
});
afterEach(async () => {
  await service?.close();
  await site?.close();
  removeDir(dir);
});

function submit(flowName: string, flowData: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return postJson(`${service.url}/submit`, {
    project_uuid: P,
    flow_name: flowName,
    request_mode: 'sync',
    targets: ['sodar'],
    force_fail: false,
    timeline_uuid: 'None',
    sodar_secret: TEST_SECRET,
    test_mode: true,
    sodar_url: site.url,
    flow_data: flowData,
    ...extra,
  });
}

const update = {
  project_title: 'New title',
  project_description: 'new description',
  project_readme: 'new readme',
  public_guest_access: true,
  parent_uuid: CATEGORY,
  owner_username: OWNER.username,
  owner_uuid: OWNER.user_uuid,
  owner_role_pk: 1,
  old_owner_username: OWNER.username,
  old_owner_uuid: OWNER.user_uuid,
  settings: { 'settings.projectroles.ip_restrict': true },
};

describe('service against a site as strict as SODAR', () => {
  it('sets the sheet directory status with a boolean Django accepts', async () => {
    await start();
    site.seedSheet({ project_uuid: P });
    expect(await postJson(`${service.url}/submit`, projectCreateBody(P, site.url))).toEqual({ status: 200, body: 'True' });
    const answer = await submit('sheet_colls_create', { colls: ['a'], public_guest_access: true }, { targets: ['irods', 'sodar'] });
    expect(answer).toEqual({ status: 200, body: 'True' });
    expect(site.state().sheets[P].dir_status).toBe(true);
    expect(site.calls.find((c) => c.endpoint === 'samplesheets/taskflow/dirs/set')?.fields.dir_status).toBe('True');
  });

  it('updates a project, sending public_guest_access as True', async () => {
    await start();
    expect(await submit('project_update', update)).toEqual({ status: 200, body: 'True' });
    expect(site.state().projects[P]).toEqual({
      project_uuid: P,
      type: 'PROJECT',
      title: 'New title',
      description: 'new description',
      parent_uuid: CATEGORY,
      readme: 'new readme',
      public_guest_access: true,
    });
  });

  it('a failed project_update restores what the site reported and names the fields it could not restore', async () => {
    await start();
    const before = site.state();
    const answer = await submit('project_update', update, { force_fail: true });
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('parent_uuid, readme, public_guest_access');
    // title and description (reported) are back; the rest stays as the update set it, settings are back
    expect(site.state()).toEqual({
      ...before,
      projects: { ...before.projects, [P]: { ...before.projects[P], parent_uuid: CATEGORY, readme: 'new readme', public_guest_access: true } },
    });
    const runs = await getWithSecret(`${service.url}/runs?project=${P}&flow=project_update`);
    const run = await getWithSecret(`${service.url}/runs/${runs.json.runs[0].runId}`);
    expect(run.json.status).toBe('rolled_back');
    expect(run.json.result.revertNotes).toEqual([
      { index: expect.any(Number), name: 'Update project', note: expect.stringContaining('parent_uuid, readme, public_guest_access') },
    ]);
    expect(runDetail(run.json)).toMatch(/^not restored: task \d+ "Update project": .*parent_uuid, readme, public_guest_access/m);
    const warning = log
      .join('')
      .split('\n')
      .filter((l) => l.includes('rollback could not restore everything'))
      .map((l) => JSON.parse(l));
    expect(warning).toHaveLength(1);
    expect(warning[0].not_restored[0].note).toContain('parent_uuid, readme, public_guest_access');
  });

  it('changes the owner as SODAR Core 0.7.2 submits it: the old owner role goes before the new one is set', async () => {
    await start({ richProjectGet: true });
    site.seedUser(NEW_OWNER);
    const transfer = {
      ...update,
      owner_username: NEW_OWNER.username,
      owner_uuid: NEW_OWNER.user_uuid,
      roles_delete: [{ project_uuid: P, username: OWNER.username }],
    };
    const roleCalls = () =>
      site.calls
        .filter((c) => c.endpoint === 'project/taskflow/role/set' || c.endpoint === 'project/taskflow/role/delete')
        .map((c) => `${c.endpoint.split('/').pop()} ${c.fields.user_uuid}`);
    const before = site.state();
    expect((await submit('project_update', transfer, { force_fail: true })).status).toBe(500);
    expect(site.state()).toEqual(before);
    // undone in reverse: the new owner's role goes before the old owner's comes back
    expect(roleCalls()).toEqual([`delete ${OWNER.user_uuid}`, `set ${NEW_OWNER.user_uuid}`, `delete ${NEW_OWNER.user_uuid}`, `set ${OWNER.user_uuid}`]);
    site.calls.length = 0;
    expect(await submit('project_update', transfer)).toEqual({ status: 200, body: 'True' });
    expect(roleCalls()).toEqual([`delete ${OWNER.user_uuid}`, `set ${NEW_OWNER.user_uuid}`]);
    expect(Object.values(site.state().roles).map((r) => [r.user_uuid, r.role_pk])).toEqual([[NEW_OWNER.user_uuid, 1]]);
  });

  it('a failed project_update against a site reporting every field restores all of it', async () => {
    await start({ richProjectGet: true });
    const before = site.state();
    const answer = await submit('project_update', update, { force_fail: true });
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('all changes were rolled back');
    expect(site.state()).toEqual(before);
  });
});
