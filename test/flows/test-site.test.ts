import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SiteCallError, SiteClient } from '../../src/site/client.js';
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
    expect(got.settings['samplesheets.sheet_config']).toBe('{"a":1}');
    expect(got.settings['projectroles.ip_restrict']).toBe(true);
    // the JSON string handed out by get is accepted back by set
    await client.post(site.url, 'project/taskflow/settings/set', {
      project_uuid: 'p1',
      settings: { 'settings.samplesheets.sheet_config': got.settings['samplesheets.sheet_config'] },
    });
    expect(site.state().settings.p1['samplesheets.sheet_config']).toEqual({ a: 1 });
  });

  it('keeps finished zones final, cuts status info and checks timeline statuses', async () => {
    site.seedZone({ zone_uuid: 'z1', project_uuid: 'p1' });
    site.seedTimelineEvent({ event_uuid: 'e1' });
    await client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'z1', status: 'MOVED', status_info: 'x'.repeat(2000) });
    await client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'z1', status: 'FAILED', status_info: 'late' });
    expect(site.state().zones.z1.status).toBe('MOVED');
    expect(site.state().zones.z1.status_info).toHaveLength(1024);
    expect(await status(client.post(site.url, 'landingzones/taskflow/status/set', { zone_uuid: 'zx', status: 'MOVED' }))).toBe(404);
    expect(await status(client.post(site.url, 'timeline/taskflow/status/set', { event_uuid: 'e1', status_type: 'BOGUS' }))).toBe(400);
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
});
