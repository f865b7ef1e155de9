import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SiteCallError, SiteClient, encodeForm } from '../../src/site/client.js';
import { startTestSite, type TestSite } from '../support/test-site.js';

const SECRET = 'site-secret';
let site: TestSite;
let client: SiteClient;

beforeEach(async () => {
  site = await startTestSite({ secret: SECRET });
  client = new SiteClient({ secret: SECRET, timeoutMs: 5000 });
  site.seedProject({ project_uuid: 'p1', title: 'One' });
  site.seedUser({ user_uuid: 'u1', username: 'alice' });
});
afterEach(async () => site.close());

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    return (err as SiteCallError).status;
  }
}

describe('test site', () => {
  it('refuses JSON bodies and a wrong secret', async () => {
    const res = await fetch(`${site.url}/project/taskflow/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_uuid: 'p1', sodar_secret: SECRET }),
    });
    expect(res.status).toBe(415);
    const bad = new SiteClient({ secret: 'nope', timeoutMs: 5000 });
    await expect(bad.post(site.url, 'project/taskflow/get', { project_uuid: 'p1' })).rejects.toMatchObject({
      status: 403,
      body: 'Not authorized',
    });
  });

  it('serves projects, roles and settings with 404s as specified', async () => {
    expect(await client.postJson(site.url, 'project/taskflow/get', { project_uuid: 'p1' })).toMatchObject({ title: 'One' });
    expect(await status(client.post(site.url, 'project/taskflow/get', { project_uuid: 'px' }))).toBe(404);
    expect(await status(client.post(site.url, 'project/taskflow/role/get', { project_uuid: 'p1', user_uuid: 'u1' }))).toBe(404);
    await client.post(site.url, 'project/taskflow/role/set', { project_uuid: 'p1', user_uuid: 'u1', role_pk: 3 });
    expect(await client.postJson(site.url, 'project/taskflow/role/get', { project_uuid: 'p1', user_uuid: 'u1' })).toMatchObject({
      role_pk: 3,
      role_name: 'project contributor',
    });
    await client.post(site.url, 'project/taskflow/role/delete', { project_uuid: 'p1', user_uuid: 'u1' });
    expect(await status(client.post(site.url, 'project/taskflow/role/delete', { project_uuid: 'p1', user_uuid: 'u1' }))).toBe(404);
    await client.post(site.url, 'project/taskflow/settings/set', {
      project_uuid: 'p1',
      settings: { 'settings.samplesheets.sheet_config': { a: 1 }, 'settings.projectroles.ip_restrict': true },
    });
    const got = await client.postJson<{ settings: Record<string, unknown> }>(site.url, 'project/taskflow/settings/get', { project_uuid: 'p1' });
    // SODAR Core 0.10.12: keyed with the prefix, a dict JSON-encoded
    expect(got.settings['settings.samplesheets.sheet_config']).toBe('{"a":1}');
    expect(got.settings['settings.projectroles.ip_restrict']).toBe(true);
    // the JSON string handed out by get is accepted back by set
    await client.post(site.url, 'project/taskflow/settings/set', {
      project_uuid: 'p1',
      settings: { 'settings.samplesheets.sheet_config': got.settings['settings.samplesheets.sheet_config'] },
    });
    expect(site.state().settings.p1['samplesheets.sheet_config']).toEqual({ a: 1 });
  });

  it('refuses a second owner and a delegate over the limit as SODAR Core 0.10.12 does (500), not a change of role', async () => {
    site.seedUser({ user_uuid: 'u2', username: 'bob' });
    site.seedUser({ user_uuid: 'u3', username: 'carol' });
    site.seedProject({ project_uuid: 'cat', title: 'Cat' });
    site.seedProject({ project_uuid: 'p2', title: 'Two', parent_uuid: 'cat' });
    const set = (project_uuid: string, user_uuid: string, role_pk: number) =>
      status(client.post(site.url, 'project/taskflow/role/set', { project_uuid, user_uuid, role_pk }));
    site.seedRole('p1', 'u1', 1);
    const before = site.state();
    expect(await set('p1', 'u2', 1)).toBe(500);
    expect(await set('p1', 'u1', 1)).toBe(200);
    await set('p1', 'u2', 2);
    expect(await set('p1', 'u3', 2)).toBe(500);
    // an existing assignment turned delegate is not counted (the view's `filter(...) is None` is never true)
    await set('p1', 'u3', 3);
    expect(await set('p1', 'u3', 2)).toBe(200);
    expect(site.state().roles).toEqual({
      ...before.roles,
      'p1/u2': expect.objectContaining({ role_pk: 2 }),
      'p1/u3': expect.objectContaining({ role_pk: 2 }),
    });
    // a delegate who owns the category above is no local delegate
    site.seedRole('cat', 'u1', 1);
    site.seedRole('p2', 'u1', 2);
    expect(await set('p2', 'u2', 2)).toBe(200);
    expect(await set('p2', 'u3', 2)).toBe(500);
  });

  it('keeps finished zones final, cuts status info and checks timeline statuses', async () => {
    site.seedZone({ zone_uuid: 'z1', project_uuid: 'p1' });
    site.seedTimelineEvent({ event_uuid: 'e1' });
    await client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'z1', status: 'MOVED', status_info: 'x'.repeat(2000) });
    await client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'z1', status: 'FAILED', status_info: 'late' });
    expect(site.state().zones.z1.status).toBe('MOVED');
    expect(site.state().zones.z1.status_info).toHaveLength(1024);
    expect(await status(client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'zx', status: 'MOVED' }))).toBe(404);
    expect(await status(client.post(site.url, 'timeline/taskflow/status/set', { event_uuid: 'e1', status_type: 'BOGUS', status_desc: '' }))).toBe(400);
    // SODAR Core 0.10.12 reads request.data['status_desc']: missing is a 500, empty is fine
    expect(await status(client.post(site.url, 'timeline/taskflow/status/set', { event_uuid: 'e1', status_type: 'OK' }))).toBe(500);
    expect(site.state().timeline.e1.status_history).toEqual([]);
    expect(await status(client.post(site.url, 'timeline/taskflow/status/set', { event_uuid: 'ex', status_type: 'OK' }))).toBe(404);
    await client.post(site.url, 'timeline/taskflow/status/set', { event_uuid: 'e1', status_type: 'OK', status_desc: 'done', extra_data: {} });
    expect(site.state().timeline.e1.status_history).toEqual([{ status_type: 'OK', status_desc: 'done', extra_data: {} }]);
  });

  it('handles sheets and injected failures', async () => {
    expect(await status(client.post(site.url, 'samplesheets/taskflow/delete', { project_uuid: 'p1' }))).toBe(404);
    site.seedSheet({ project_uuid: 'p1' });
    await client.post(site.url, 'samplesheets/taskflow/dirs/set', { project_uuid: 'p1', dir_status: true });
    expect(await client.postJson(site.url, 'samplesheets/taskflow/dirs/get', { project_uuid: 'p1' })).toEqual({ dir_status: true });
    site.failNext('samplesheets/taskflow/delete', 500);
    const before = site.state();
    expect(await status(client.post(site.url, 'samplesheets/taskflow/delete', { project_uuid: 'p1' }))).toBe(500);
    expect(site.state()).toEqual(before);
    await client.post(site.url, 'samplesheets/taskflow/delete', { project_uuid: 'p1' });
    expect(site.state().sheets).toEqual({});
    expect(site.calls.at(-1)).toEqual({ endpoint: 'samplesheets/taskflow/delete', fields: { project_uuid: 'p1' }, status: 200 });
  });

  it('sends booleans as Python did: True / False', () => {
    expect(encodeForm({ a: true, b: false, c: 1, d: null, e: { x: true } })).toBe('a=True&b=False&c=1&d=&e=%7B%22x%22%3Atrue%7D');
  });

  it("reads booleans as Django's BooleanField: t, True, 1, f, False, 0, else 500", async () => {
    site.seedSheet({ project_uuid: 'p1' });
    for (const [spelling, value] of [['t', true], ['f', false], ['1', true], ['0', false], ['True', true], ['False', false]] as const) {
      await client.post(site.url, 'samplesheets/taskflow/dirs/set', { project_uuid: 'p1', dir_status: spelling });
      expect(site.state().sheets.p1.dir_status).toBe(value);
    }
    for (const spelling of ['true', 'false', 'yes', '', 'TRUE']) {
      expect(await status(client.post(site.url, 'samplesheets/taskflow/dirs/set', { project_uuid: 'p1', dir_status: spelling }))).toBe(500);
    }
    expect(await status(client.post(site.url, 'samplesheets/taskflow/dirs/set', { project_uuid: 'p1' }))).toBe(500);
    const update = { project_uuid: 'p1', title: 'One', readme: '' };
    expect(await status(client.post(site.url, 'project/taskflow/update', { ...update, public_guest_access: 'true' }))).toBe(500);
    await client.post(site.url, 'project/taskflow/update', { ...update, public_guest_access: 't' });
    expect(site.state().projects.p1.public_guest_access).toBe(true);
    // absent or empty: `request.data.get('public_guest_access') or False`
    await client.post(site.url, 'project/taskflow/update', update);
    expect(site.state().projects.p1.public_guest_access).toBe(false);
  });

  it('answers project/taskflow/get with the three fields of SODAR Core 0.10, or all of them when rich', async () => {
    site.seedProject({ project_uuid: 'p2', title: 'Two', description: 'd', readme: 'r', parent_uuid: 'p1', public_guest_access: true });
    expect(await client.postJson(site.url, 'project/taskflow/get', { project_uuid: 'p2' })).toEqual({ project_uuid: 'p2', title: 'Two', description: 'd' });
    const rich = await startTestSite({ secret: SECRET, richProjectGet: true });
    try {
      rich.seedProject({ project_uuid: 'p2', title: 'Two', readme: 'r' });
      expect(await client.postJson(rich.url, 'project/taskflow/get', { project_uuid: 'p2' })).toEqual({
        project_uuid: 'p2',
        title: 'Two',
        description: '',
        parent_uuid: '',
        readme: 'r',
        public_guest_access: false,
      });
    } finally {
      await rich.close();
    }
  });

  it('updates a project as SODAR Core 0.10 does: title and readme required, absent fields reset', async () => {
    site.seedProject({ project_uuid: 'cat', type: 'CATEGORY', title: 'Cat' });
    site.seedProject({ project_uuid: 'p2', title: 'Two', description: 'd', readme: 'r', parent_uuid: 'cat', public_guest_access: true });
    const before = site.state();
    expect(await status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', readme: 'r' }))).toBe(500);
    expect(await status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', title: 'Two' }))).toBe(500);
    expect(await status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', title: 'x', readme: '', parent_uuid: 'nope' }))).toBe(404);
    expect(await status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', title: 'Cat', readme: '', parent_uuid: 'cat' }))).toBe(500);
    expect(site.state()).toEqual(before);
    await client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', title: 'New', readme: 'nr' });
    expect(site.state().projects.p2).toEqual({
      project_uuid: 'p2',
      type: 'PROJECT',
      title: 'New',
      description: '',
      parent_uuid: '',
      readme: 'nr',
      public_guest_access: false,
    });
  });

  it('refuses a project as parent and a project as its own parent as SODAR Core 0.10.12 Project.save() does (500)', async () => {
    site.seedProject({ project_uuid: 'cat', type: 'CATEGORY', title: 'Cat' });
    site.seedProject({ project_uuid: 'p2', title: 'Two', parent_uuid: 'cat' });
    const before = site.state();
    const move = (parent_uuid: string) => status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p2', title: 'Two', readme: '', parent_uuid }));
    expect(await move('p1')).toBe(500);
    expect(await move('p2')).toBe(500);
    expect(site.state()).toEqual(before);
    expect(await move('cat')).toBe(200);
  });

  it("refuses a title a sibling has (SODAR Core 0.10.12 unique_together ('title', 'parent'): 500), not one at the top level", async () => {
    site.seedProject({ project_uuid: 'cat', type: 'CATEGORY', title: 'Cat' });
    site.seedProject({ project_uuid: 'p2', title: 'Two', parent_uuid: 'cat' });
    site.seedProject({ project_uuid: 'p3', title: 'Three', parent_uuid: 'cat' });
    const before = site.state();
    const update = (title: string, parent_uuid: string) => status(client.post(site.url, 'project/taskflow/update', { project_uuid: 'p3', title, readme: '', parent_uuid }));
    expect(await update('Two', 'cat')).toBe(500);
    expect(site.state()).toEqual(before);
    expect(await update('Three', 'cat')).toBe(200);
    expect(await update('One', '')).toBe(200);
  });

  it('sets zone statuses as SODAR 0.11 does: status_info required, file_count and validate_only integers', async () => {
    site.seedZone({ zone_uuid: 'z1', project_uuid: 'p1' });
    const set = (fields: Record<string, string>) => client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'z1', ...fields });
    expect(await status(set({ status: 'ACTIVE' }))).toBe(500);
    expect(await status(set({ status: 'ACTIVE', status_info: 'x', validate_only: 'True' }))).toBe(500);
    expect(await status(set({ status: 'ACTIVE', status_info: 'x', file_count: 'many' }))).toBe(500);
    expect(await status(set({ status: 'ACTIVE', status_info: 'ok', validate_only: '1', file_count: '3' }))).toBe(200);
    expect(site.state().zones.z1).toMatchObject({ status: 'ACTIVE', status_info: 'ok' });
  });
});
