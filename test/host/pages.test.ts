import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeAccess, setPassword } from '../../src/host/auth/passwords.js';
import { getUserByName } from '../../src/host/repo.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';
import { PageClient } from '../support/page-client.js';
import { ANONYMOUS_SESSION_MS } from '../../src/host/pages/session.js';
import { formRefusal } from '../../src/host/pages/forms.js';
import { HttpError } from '../../src/host/errors.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite();
});
afterEach(async () => {
  await site.close();
});

/** A category, a project in it, users with roles, a sheet with collections. */
async function story(): Promise<{ project: string; assay: string; users: Record<string, string> }> {
  const cat = await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' });
  const proj = await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.json.sodar_uuid });
  const project = proj.json.sodar_uuid as string;
  const users: Record<string, string> = {};
  for (const [name, role] of [
    ['carol', 'project contributor'],
    ['dave', 'project contributor'],
    ['gus', 'project guest'],
  ]) {
    const u = await site.call('POST', 'project/api/users/create', { username: name });
    users[name] = u.json.sodar_uuid;
    await site.call('POST', `project/api/roles/create/${project}`, { role, user: u.json.sodar_uuid });
    await setPassword(site.db, u.json.sodar_uuid, `${name}-password-1`);
  }
  const sheet = await site.call('POST', `samplesheets/api/create/${project}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] });
  const study = Object.values(sheet.json.studies)[0] as { assays: Record<string, { sodar_uuid: string }> };
  await site.call('POST', `samplesheets/api/irods/collections/create/${project}`);
  return { project, assay: Object.values(study.assays)[0].sodar_uuid, users };
}

describe('site pages: sign-in', () => {
  it('signs in with the password, in an HttpOnly SameSite=Lax cookie, and out again so the old cookie is worth nothing', async () => {
    const b = new PageClient(site.app);
    expect((await b.get('/')).location).toBe('/login?next=%2F');
    const wrong = await b.signIn('admin', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong user name or password.');
    const ok = await b.signIn('admin', site.adminPassword);
    expect(ok.status).toBe(303);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/sodar_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Signed in as <strong>admin</strong>');
    const stolen = b.cookie('sodar_session')!;
    expect((await b.post('/logout', {})).location).toBe('/login');
    const again = new PageClient(site.app);
    const res = await site.app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html', cookie: `sodar_session=${stolen}` } });
    expect(res.statusCode).toBe(303);
    expect(again).toBeDefined();
  });

  it('sends a signed-in person to `next` only when it is a path on this site', async () => {
    const landing = async (next: string): Promise<string | undefined> => {
      const b = new PageClient(site.app);
      await b.get(`/login?next=${encodeURIComponent(next)}`);
      return (await b.post('/login', { username: 'admin', password: site.adminPassword, next })).location;
    };
    expect(await landing('/projects?x=1#top')).toBe('/projects?x=1#top');
    // a browser drops tabs and newlines and reads a backslash as a slash: each of these would leave the site
    for (const away of ['//evil.example/', '/\\evil.example', '/\t/evil.example/', '/\n/evil.example/', '/\\/evil.example', 'https://evil.example/', '/x\\y']) {
      expect(await landing(away)).toBe('/');
    }
  });

  it('keeps a session nobody signed in with for half an hour, a signed-in one for its cookie\'s life', async () => {
    const expiries = async (): Promise<number[]> =>
      (await site.db.query<{ expires: string }>('SELECT expires FROM site_sessions ORDER BY expires')).map((r) => Date.parse(r.expires) - Date.now());
    for (let i = 0; i < 5; i++) await site.app.inject({ method: 'GET', url: '/login', headers: { accept: 'text/html' } });
    const anonymous = await expiries();
    expect(anonymous).toHaveLength(5);
    for (const ms of anonymous) expect(ms).toBeLessThanOrEqual(ANONYMOUS_SESSION_MS);
    await new PageClient(site.app).signIn('admin', site.adminPassword);
    expect(Math.max(...(await expiries()))).toBeGreaterThan(60 * 60_000);
  });

  it('revokes every way in of a user: no sign-in, no page session, no API token; a new password lets them in again', async () => {
    const bob = await site.call('POST', 'project/api/users/create', { username: 'bob' });
    await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'long-enough-1' });
    const browser = new PageClient(site.app);
    expect((await browser.signIn('bob', 'long-enough-1')).status).toBe(303);
    expect((await site.call('GET', 'project/api/list', undefined, bob.json.token)).status).toBe(200);
    expect(await revokeAccess(site.db, bob.json.sodar_uuid)).toEqual({ passwords: 1, tokens: 1 });
    expect((await browser.get('/')).location).toBe('/login?next=%2F');
    expect((await site.call('GET', 'project/api/list', undefined, bob.json.token)).status).toBe(401);
    expect((await new PageClient(site.app).signIn('bob', 'long-enough-1')).status).toBe(401);
    await setPassword(site.db, bob.json.sodar_uuid, 'long-enough-2');
    expect((await new PageClient(site.app).signIn('bob', 'long-enough-2')).status).toBe(303);
  });

  it('answers API clients at / with JSON as before, and the REST API never takes a session cookie', async () => {
    const b = new PageClient(site.app);
    await b.signIn('admin', site.adminPassword);
    const root = await site.app.inject({ method: 'GET', url: '/' });
    expect(JSON.parse(root.body)).toEqual({ site: 'sodar-taskflow reference site', taskflow_enabled: true });
    const api = await site.app.inject({ method: 'GET', url: '/project/api/list', headers: { cookie: `sodar_session=${b.cookie('sodar_session')!}` } });
    expect(api.statusCode).toBe(401);
  });

  it('refuses a form without its CSRF token, and creates nothing', async () => {
    const b = new PageClient(site.app);
    await b.signIn('admin', site.adminPassword);
    await b.get('/');
    const res = await b.post('/project/create', { type: 'CATEGORY', title: 'Sneaky' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(res.text).toContain('CSRF token is missing or wrong');
    const forged = await b.post('/project/create', { type: 'CATEGORY', title: 'Sneaky', _csrf: 'forged' }, { csrf: false });
    expect(forged.status).toBe(403);
    expect((await site.call('GET', 'project/api/list')).json).toEqual([]);
    const ok = await b.post('/project/create', { type: 'CATEGORY', title: 'Fine' });
    expect(ok.status).toBe(303);
  });

  it('lets only superusers set passwords through the API, and the new one signs in', async () => {
    const bob = await site.call('POST', 'project/api/users/create', { username: 'bob' });
    const refused = await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'long-enough-1' }, bob.json.token);
    expect(refused.status).toBe(403);
    const short = await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'short' });
    expect(short.status).toBe(400);
    const set = await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'long-enough-1' });
    expect(set.status).toBe(200);
    const row = (await site.db.query<{ hash: string }>('SELECT hash FROM user_passwords WHERE user_uuid = ?', [bob.json.sodar_uuid]))[0];
    expect(row.hash).toMatch(/^\$argon2id\$/);
    expect((await new PageClient(site.app).signIn('bob', 'long-enough-1')).status).toBe(303);
  });

  it('signs a user out everywhere when their password is set again', async () => {
    const bob = await site.call('POST', 'project/api/users/create', { username: 'bob' });
    await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'long-enough-1' });
    const before = new PageClient(site.app);
    expect((await before.signIn('bob', 'long-enough-1')).status).toBe(303);
    expect((await before.get('/')).status).toBe(200);
    expect((await site.call('POST', `project/api/users/password/${bob.json.sodar_uuid}`, { password: 'long-enough-2' })).status).toBe(200);
    // the session from before the reset is worth nothing; one with the new password works
    expect((await before.get('/')).location).toBe('/login?next=%2F');
    const after = new PageClient(site.app);
    expect((await after.signIn('bob', 'long-enough-2')).status).toBe(303);
    expect((await after.get('/')).status).toBe(200);
  });
});

describe('site pages: the same rules as the API', () => {
  it('shows a guest no zones, with the reason', async () => {
    const { project } = await story();
    const b = new PageClient(site.app);
    await b.signIn('gus', 'gus-password-1');
    const res = await b.get(`/landingzones/${project}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('guests see none');
    const home = await b.get('/');
    expect(home.text).toContain('project guest');
  });

  it('refuses a project in a category the user cannot see without naming it, as the API does', async () => {
    await story();
    const hidden = await site.call('POST', 'project/api/create', { title: 'Undisclosed cohort', type: 'CATEGORY' });
    const b = new PageClient(site.app);
    await b.signIn('carol', 'carol-password-1');
    await b.get('/');
    const res = await b.post('/project/create', { type: 'PROJECT', title: 'Mine', parent: hidden.json.sodar_uuid });
    expect(res.status).toBe(403);
    expect(res.text).toContain('You do not have permission to perform this action.');
    expect(res.text).not.toContain('Undisclosed cohort');
  });

  it("keeps a contributor off another user's zone page and its actions, by URL too", async () => {
    const { project, assay } = await story();
    const carol = new PageClient(site.app);
    await carol.signIn('carol', 'carol-password-1');
    await carol.get(`/landingzones/${project}`);
    const created = await carol.post(`/landingzones/${project}/create`, { assay, title: 'mine', description: '' });
    expect(created.status).toBe(303);
    const zoneUuid = created.location!.split('/').pop()!;
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'ACTIVE', status_info: 'Available' });
    const dave = new PageClient(site.app);
    await dave.signIn('dave', 'dave-password-1');
    const page = await dave.get(`/landingzones/zone/${zoneUuid}`);
    expect(page.status).toBe(403);
    expect(page.text).toContain('may see or change landing zones of other users');
    expect((await dave.get(`/landingzones/zone/${zoneUuid}/status`)).status).toBe(403);
    await dave.get(`/landingzones/${project}`);
    for (const op of ['validate', 'move', 'delete']) {
      const res = await dave.post(`/landingzones/zone/${zoneUuid}/${op}`, {});
      expect(res.status).toBe(403);
    }
    const list = await dave.get(`/landingzones/${project}`);
    expect(list.text).not.toContain(zoneUuid);
    expect((await site.call('GET', `landingzones/api/retrieve/${zoneUuid}`)).json.status).toBe('ACTIVE');
    // the zone's owner can act on it
    await carol.get(`/landingzones/zone/${zoneUuid}`);
    expect((await carol.post(`/landingzones/zone/${zoneUuid}/validate`, {})).status).toBe(303);
  });

  it("marks a zone whose owner is no longer a contributor, for the project's owner to handle", async () => {
    const { project, assay } = await story();
    const carol = new PageClient(site.app);
    await carol.signIn('carol', 'carol-password-1');
    await carol.get(`/landingzones/${project}`);
    const zoneUuid = (await carol.post(`/landingzones/${project}/create`, { assay, title: 'left', description: '' })).location!.split('/').pop()!;
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zoneUuid, status: 'ACTIVE', status_info: 'Available' });
    const admin = new PageClient(site.app);
    await admin.signIn('admin', site.adminPassword);
    const note = 'no longer a contributor';
    expect((await admin.get(`/landingzones/${project}`)).text).not.toContain(note);
    expect((await admin.get(`/landingzones/zone/${zoneUuid}`)).text).not.toContain(note);

    const roles = (await site.call('GET', `project/api/retrieve/${project}`)).json.roles as Record<string, { user: { username: string } }>;
    const carolRole = Object.entries(roles).find(([, r]) => r.user.username === 'carol')![0];
    expect((await site.call('PATCH', `project/api/roles/update/${carolRole}`, { role: 'project guest' })).status).toBe(200);
    const list = await admin.get(`/landingzones/${project}`);
    expect(list.text).toContain(zoneUuid);
    expect(list.text).toContain(`carol <span class="hint">(${note}: cannot reach this zone)</span>`);
    expect((await admin.get(`/landingzones/zone/${zoneUuid}`)).text).toContain(`${note}: cannot reach this zone; the project's owner or a delegate may move or delete it`);
  });

  it('renders the readme as Markdown without raw HTML or script links', async () => {
    const cat = await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY', readme: '# Hello\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) **bold**' });
    const b = new PageClient(site.app);
    await b.signIn('admin', site.adminPassword);
    const page = await b.get(`/project/${cat.json.sodar_uuid}`);
    expect(page.text).toContain('<h1>Hello</h1>');
    expect(page.text).toContain('<strong>bold</strong>');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).not.toMatch(/href="javascript:/);
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
  });
});

describe('site pages: a refused form is shown again', () => {
  it('shows the zone form again with the values posted when the assay is not the project\'s, and sends what is not about the input to the error page', async () => {
    const { project, assay } = await story();
    const carol = new PageClient(site.app);
    await carol.signIn('carol', 'carol-password-1');
    await carol.get(`/landingzones/${project}`);
    // a zone being created makes the list refresh itself (without scripts)
    expect((await carol.post(`/landingzones/${project}/create`, { assay, title: 'busy' })).status).toBe(303);
    expect((await carol.get(`/landingzones/${project}`)).text).toContain('http-equiv="refresh"');
    const oldToken = carol.csrf;
    const refused = await carol.post(`/landingzones/${project}/create`, { assay: 'not-an-assay', title: 'kept <suffix>', description: 'kept "description"' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<p class="error" role="alert" id="zone-create-error" data-status="400">Not done: Assay not-an-assay not found in this project</p>');
    expect(refused.text).toContain('value="kept &lt;suffix&gt;"');
    expect(refused.text).toContain('value="kept &quot;description&quot;"');
    // a page shown again under a refusal never refreshes itself: that would load the post's URL
    expect(refused.text).not.toContain('http-equiv="refresh"');
    const token = /name="_csrf" value="([^"]+)"/.exec(refused.text)![1];
    expect(token).not.toBe(oldToken);
    const ok = await carol.post(`/landingzones/${project}/create`, { _csrf: token, assay, title: 'fixed', description: '' }, { csrf: false });
    expect(ok.status).toBe(303);

    // not the input: no right to act (403) or nothing there (404) keep the error page
    const gus = new PageClient(site.app);
    await gus.signIn('gus', 'gus-password-1');
    await gus.get('/');
    const forbidden = await gus.post(`/landingzones/${project}/create`, { assay, title: 'x' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).not.toContain('zone-create-error');
    expect(forbidden.text).toContain('<h1>Not allowed</h1>');
    const gone = await carol.post('/project/role/no-such-assignment/change', { role: 'project guest' });
    expect(gone.status).toBe(404);
    expect(gone.text).toContain('<h1>Not found</h1>');
  });

  it('shows the form again for a post refused while the project is locked or the service is away (503), to be sent again; not for other server errors', () => {
    const body = { _csrf: 't', title: 'kept', password: 'secret-1' };
    expect(formRefusal(new HttpError(503, 'Unable to acquire project lock'), 'zone-create', body)).toEqual({
      form: 'zone-create',
      status: 503,
      message: 'Unable to acquire project lock',
      values: { title: 'kept' },
    });
    expect(formRefusal(new HttpError(500, 'Server error'), 'zone-create', body)).toBeUndefined();
    expect(formRefusal(new HttpError(403, 'Not allowed'), 'zone-create', body)).toBeUndefined();
  });

  it('never sends a posted password back, and says a refusal at the top when the page no longer has the form', async () => {
    const { project } = await story();
    const b = new PageClient(site.app);
    await b.signIn('admin', site.adminPassword);
    await b.get(`/samplesheets/${project}`);
    // the story imported the sheet already: the page now shows it, without the import form
    const refused = await b.post(`/samplesheets/${project}/import`, { title: 'Second', studies: 'S2: A2', password: 'do-not-echo-1', new_password: 'do-not-echo-2' });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain('do-not-echo');
    expect(refused.text).not.toContain('id="sheet-import"');
    expect(refused.text).toMatch(/<main id="main">\s*<p class="error" role="alert" data-status="400">Not done: This project already has a sample sheet<\/p>/);
  });
});
