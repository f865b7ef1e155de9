/**
 * Ownership goes only to a member of the project (SODAR Core v0.10.12
 * `RoleAssignmentOwnerTransferForm`, `RoleAssignmentOwnerTransferAPIView`):
 * the page offers the members and the owners of the categories above,
 * without the current owner, and the page and the API refuse anyone else
 * with the same 400, before anything changes or is submitted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setPassword } from '../../src/host/auth/passwords.js';
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

const NOT_A_MEMBER = (name: string): string => `User "${name}" is not a member of project "Proj": only its members can become its owner`;

async function user(username: string): Promise<string> {
  const res = await site.call('POST', 'project/api/users/create', { username });
  expect(res.status, res.text).toBe(201);
  return res.json.sodar_uuid;
}

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await site.call('POST', 'project/api/create', body);
  expect(res.status, res.text).toBe(201);
  return res.json.sodar_uuid;
}

/** Cat (owned by cato) holding Proj (owned by the admin) with carol as guest; bob has no role anywhere. */
async function world(projectFields: Record<string, unknown> = {}): Promise<string> {
  const cato = await user('cato');
  const carol = await user('carol');
  await user('bob');
  const cat = await create({ title: 'Cat', type: 'CATEGORY', owner: cato });
  const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat, ...projectFields });
  expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: carol })).status).toBe(201);
  return proj;
}

/** The user names the ownership form of a project page offers, in order. */
function offered(html: string): string[] {
  const select = /<select id="new-owner" name="new_owner">(.*?)<\/select>/s.exec(html);
  expect(select, 'the ownership form').not.toBeNull();
  return [...select![1].matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
}

async function signedIn(): Promise<PageClient> {
  const b = new PageClient(site.app);
  expect((await b.signIn('admin', site.adminPassword)).status).toBe(303);
  return b;
}

describe('owner transfer: only to a member', () => {
  it('offers the members and the category owner above, never an outsider or the owner', async () => {
    const proj = await world();
    const page = await (await signedIn()).get(`/project/${proj}`);
    expect(page.status).toBe(200);
    expect(offered(page.text)).toEqual(['carol', 'cato']);
  });

  it('refuses an outsider through the API with 400, changing and submitting nothing', async () => {
    const proj = await world();
    // the timeline too: the refusal comes before any event is recorded
    const before = await dumpDb(site.db);
    const submits = site.backend.submits.length;
    const res = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'bob', old_owner_role: 'project contributor' });
    expect([res.status, res.json.detail]).toEqual([400, NOT_A_MEMBER('bob')]);
    expect(await dumpDb(site.db)).toEqual(before);
    expect(site.backend.submits.length).toBe(submits);
  });

  it('refuses a posted outsider on the page with the same 400, showing the form again with the error; a member then takes it', async () => {
    const proj = await world();
    const b = await signedIn();
    await b.get(`/project/${proj}`);
    const refused = await b.post(`/project/${proj}/owner`, { new_owner: 'bob', old_owner_role: 'project guest' });
    expect(refused.status).toBe(400);
    const message = NOT_A_MEMBER('bob').replaceAll('"', '&quot;');
    expect(refused.text).toContain(`<p class="error" role="alert" id="owner-transfer-error" data-status="400">Not done: ${message}</p>`);
    expect(refused.text).toContain('id="owner-transfer" aria-describedby="owner-transfer-error"');
    expect(offered(refused.text)).toEqual(['carol', 'cato']);
    expect(refused.text).toMatch(/<option value="project guest" selected>/);
    expect(site.backend.submits.filter((s) => s.flowName === 'project_update')).toEqual([]);

    const done = await b.post(`/project/${proj}/owner`, { new_owner: 'carol', old_owner_role: 'project guest' });
    expect(done.status).toBe(303);
    const roles = Object.values((await site.call('GET', `project/api/retrieve/${proj}`)).json.roles).map((r: any) => [r.user.username, r.role]);
    expect(roles.sort()).toEqual([
      ['admin', 'project guest'],
      ['carol', 'project owner'],
    ]);
  });

  it('takes a guest only by public guest access for no member', async () => {
    const proj = await world({ public_guest_access: true });
    const res = await site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'bob', old_owner_role: 'project contributor' });
    expect([res.status, res.json.detail]).toEqual([400, NOT_A_MEMBER('bob')]);
  });

  it('shows no ownership form while the owner is the only member, saying why', async () => {
    await user('bob');
    const cat = await create({ title: 'Cat', type: 'CATEGORY' });
    const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat });
    // the admin owns the category too: the one inherited owner is the owner
    const page = await (await signedIn()).get(`/project/${proj}`);
    expect(page.text).toContain('<h3>Transfer ownership</h3>');
    expect(page.text).not.toContain('id="owner-transfer"');
    expect(page.text).toContain('Only a member can become the owner: add one first.');
  });
});

describe('owner transfer: whose role the form asks for', () => {
  /** The label of the ownership form's role select. */
  const roleLabelOf = (html: string): string | undefined => /<label for="old-role">([^<]*)<\/label>/.exec(html)?.[1];

  it('asks the project owner for their own role after, and anyone else who may transfer for the owner’s', async () => {
    const proj = await world();
    expect(roleLabelOf((await (await signedIn()).get(`/project/${proj}`)).text)).toBe('Your role after');
    // the category's owner owns the project too (inherited) but is not its owner: the role chosen is the admin's
    await setPassword(site.db, (await site.call('GET', 'project/api/users/list')).json.find((u: { username: string }) => u.username === 'cato').sodar_uuid, 'cato-password-1');
    const cato = new PageClient(site.app);
    expect((await cato.signIn('cato', 'cato-password-1')).status).toBe(303);
    expect(roleLabelOf((await cato.get(`/project/${proj}`)).text)).toBe('Role of admin after');
  });
});
