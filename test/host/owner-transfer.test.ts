/**
 * The flow_data of an owner transfer, as the site sends it: nobody who keeps
 * a role in the project is in roles_delete, and each member is added once
 * (the original service builds one task per item and refuses duplicates).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite();
});
afterEach(async () => {
  await site.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await site.call('POST', 'project/api/create', body);
  expect(res.status, res.text).toBe(201);
  return res.json.sodar_uuid;
}

async function transfer(project: string, newOwner: string): Promise<Record<string, unknown>> {
  const res = await site.call('POST', `project/api/roles/owner-transfer/${project}`, { new_owner: newOwner, old_owner_role: 'project contributor' });
  expect(res.status, res.text).toBe(200);
  const submit = site.backend.submits.at(-1)!;
  expect(submit.flowName).toBe('project_update');
  return submit.flowData;
}

describe('owner transfer flow_data', () => {
  it('never removes the new owner from the project group, also when they owned the category', async () => {
    const bob = (await site.call('POST', 'project/api/users/create', { username: 'bob' })).json;
    const cat = await create({ title: 'Cat', type: 'CATEGORY', owner: bob.sodar_uuid });
    const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat });
    expect(site.backend.submits.at(-1)!.flowData.roles_add).toEqual([{ project_uuid: proj, username: 'bob' }]);
    const data = await transfer(proj, 'bob');
    expect(data).toMatchObject({ owner_username: 'bob', old_owner_username: 'admin' });
    expect(data.roles_delete).toEqual([]);
    expect(data.roles_add).toEqual([{ project_uuid: proj, username: 'admin' }]);
  });

  it('adds the outgoing owner once when they also own the category', async () => {
    const bob = (await site.call('POST', 'project/api/users/create', { username: 'bob' })).json;
    const cat = await create({ title: 'Cat', type: 'CATEGORY' });
    const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat });
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: bob.sodar_uuid })).status).toBe(201);
    const data = await transfer(proj, 'bob');
    expect(data.roles_add).toEqual([{ project_uuid: proj, username: 'admin' }]);
    expect(data.roles_delete).toEqual([]);
  });
});
