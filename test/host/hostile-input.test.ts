import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FORM_BODY_LIMIT } from '../../src/config.js';
import { dumpDb } from '../../src/host/db/index.js';
import { injectAnswer, injectSite, TEST_SECRET, type InjectSite } from '../support/host-inject-site.js';

const BODY_LIMIT = 65_536;

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite({ env: { SODAR_SITE_BODY_LIMIT: String(BODY_LIMIT) } });
});
afterEach(async () => {
  await site.close();
});

/** Everything the site holds, timeline included: a refused request must change none of it. */
const snapshot = (): Promise<string[]> => dumpDb(site.db);
/** The same without the timeline, where a refused flow leaves its FAILED event on purpose. */
const rows = (): Promise<string[]> => dumpDb(site.db, ['timeline_events', 'timeline_statuses']);

/** A raw request, for bodies `site.call` cannot send. */
async function raw(method: string, path: string, payload: string | Buffer, contentType: string, auth = `token ${site.adminToken}`): Promise<{ status: number; json: any; text: string }> {
  return injectAnswer(
    await site.app.inject({ method: method as 'POST', url: `/${path}`, headers: { authorization: auth, 'content-type': contentType }, payload }),
  );
}

async function projectWithZone(): Promise<{ proj: string; assay: string; zone: string }> {
  const cat = (await site.call('POST', 'project/api/create', { title: 'Cat', type: 'CATEGORY' })).json;
  const proj = (await site.call('POST', 'project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid })).json.sodar_uuid as string;
  const sheet = (await site.call('POST', `samplesheets/api/create/${proj}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] })).json;
  expect((await site.call('POST', `samplesheets/api/irods/collections/create/${proj}`)).status).toBe(200);
  const study: any = Object.values(sheet.studies)[0];
  const assay = (Object.values(study.assays)[0] as any).sodar_uuid as string;
  const zone = (await site.call('POST', `landingzones/api/create/${proj}`, { assay })).json.sodar_uuid as string;
  return { proj, assay, zone };
}

describe('site API against hostile input: every refusal says why and changes nothing', () => {
  it('tells a client without a usable token how to authenticate', async () => {
    const none = await site.app.inject({ method: 'GET', url: '/project/api/list' });
    expect(none.statusCode).toBe(401);
    expect(none.json().detail).toMatch(/not provided.*Authorization: token <token>/);
    const bearer = await site.app.inject({ method: 'GET', url: '/project/api/list', headers: { authorization: `Bearer ${site.adminToken}` } });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json().detail).toMatch(/Unsupported authorization header.*Authorization: token <token>/);
    const wrong = await site.call('GET', 'project/api/list', undefined, 'not-a-token');
    expect(wrong).toMatchObject({ status: 401, json: { detail: 'Invalid token.' } });
  });

  it('refuses malformed JSON, bodies that are not objects, and fields of the wrong type', async () => {
    const before = await snapshot();
    const bad = await raw('POST', 'project/api/create', '{"title":', 'application/json');
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toMatch(/not valid JSON/);
    const list = await raw('POST', 'project/api/create', '[{"title":"C","type":"CATEGORY"}]', 'application/json');
    expect(list).toMatchObject({ status: 400, json: { detail: 'The request body must be a JSON object or form fields, not a JSON array' } });
    const text = await raw('POST', 'project/api/create', 'title=C', 'text/plain');
    expect(text.status).toBe(400);
    expect(text.json.detail).toMatch(/must be a JSON object or form fields, not a text\/plain body/);
    const typed = await site.call('POST', 'project/api/create', { title: 5, type: 'CATEGORY' });
    expect(typed).toMatchObject({ status: 400, json: { detail: 'Field "title" must be a string, not number' } });
    const missing = await site.call('POST', 'project/api/create', { type: 'CATEGORY' });
    expect(missing).toMatchObject({ status: 400, json: { detail: 'Field "title" is required' } });
    expect(await snapshot()).toEqual(before);
    // A form-encoded body is as good as JSON.
    expect((await raw('POST', 'project/api/create', 'title=Form&type=CATEGORY', 'application/x-www-form-urlencoded')).status).toBe(201);
  });

  it("answers a URL that does not decode with the site's 400 saying so, not Fastify's own JSON", async () => {
    for (const url of ['/project/api/retrieve/%ff', '/%']) {
      const res = await site.app.inject({ method: 'GET', url, headers: { authorization: `token ${site.adminToken}` } });
      expect([url, res.statusCode, res.json()]).toEqual([
        url,
        400,
        { detail: `Invalid URL: '${url}' is not a valid url component (a "%" must begin an escape of two hex digits, and the escaped bytes must be UTF-8)` },
      ]);
    }
  });

  it('refuses a JSON body with a "__proto__" key, or "constructor" holding "prototype", naming the key', async () => {
    const before = await snapshot();
    const proto = await raw('POST', 'project/api/create', '{"title":"C","type":"CATEGORY","__proto__":{"is_superuser":true}}', 'application/json');
    expect(proto).toMatchObject({ status: 400, json: { detail: 'Request body refused: key "__proto__" is not allowed' } });
    const ctor = await raw('POST', 'project/api/create', '{"title":"C","type":"CATEGORY","settings":{"constructor":{"prototype":{}}}}', 'application/json');
    expect(ctor).toMatchObject({ status: 400, json: { detail: 'Request body refused: key "constructor" holding a "prototype" key is not allowed' } });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a JSON or form body that is not UTF-8 rather than storing U+FFFD for what was sent', async () => {
    const before = await snapshot();
    // "é" as Latin-1: the single byte 0xe9
    const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
    const NOT_UTF8 = { status: 400, json: { detail: 'Request body is not valid UTF-8: send text encoded as UTF-8' } };
    expect(await raw('POST', 'project/api/create', latin1('{"title":"Caf\u00e9","type":"CATEGORY"}'), 'application/json')).toMatchObject(NOT_UTF8);
    expect(await raw('POST', 'project/api/create', latin1('title=Caf\u00e9&type=CATEGORY'), 'application/x-www-form-urlencoded')).toMatchObject(NOT_UTF8);
    expect(await snapshot()).toEqual(before);
    // the same byte as a percent-escape, and an escape that is no escape
    const BAD_FORM = { status: 400, json: { detail: 'Form body is not valid: a "%" must begin an escape of two hex digits, and the escaped bytes must be UTF-8' } };
    for (const form of ['title=Caf%E9&type=CATEGORY', 'title=100%&type=CATEGORY', 'title%zz=x&type=CATEGORY']) {
      expect(await raw('POST', 'project/api/create', form, 'application/x-www-form-urlencoded'), form).toMatchObject(BAD_FORM);
    }
    expect(await snapshot()).toEqual(before);
    const utf8 = await raw('POST', 'project/api/create', Buffer.from('title=Caf\u00e9&type=CATEGORY'), 'application/x-www-form-urlencoded');
    expect([utf8.status, utf8.json.title]).toEqual([201, 'Caf\u00e9']);
    const escaped = await raw('POST', 'project/api/create', 'title=Caf%C3%A9+au+lait&type=CATEGORY&title=Caf%C3%A9+noir', 'application/x-www-form-urlencoded');
    expect([escaped.status, escaped.json.title]).toEqual([201, 'Caf\u00e9 noir']);
  });

  it('answers 413 for a body above SODAR_SITE_BODY_LIMIT and 400 for titles longer than SODAR allows', async () => {
    const before = await snapshot();
    const huge = await raw('POST', 'project/api/create', JSON.stringify({ title: 'x'.repeat(BODY_LIMIT), type: 'CATEGORY' }), 'application/json');
    expect(huge.status).toBe(413);
    expect(huge.json.detail).toMatch(/too large/);
    const long = await site.call('POST', 'project/api/create', { title: 'x'.repeat(256), type: 'CATEGORY' });
    expect(long).toMatchObject({ status: 400, json: { detail: 'Field "title" is longer than 255 characters (256)' } });
    expect(await snapshot()).toEqual(before);
    const cat = (await site.call('POST', 'project/api/create', { title: 'x'.repeat(255), type: 'CATEGORY' })).json;
    const renamed = await site.call('PATCH', `project/api/update/${cat.sodar_uuid}`, { title: 'y'.repeat(300) });
    expect(renamed.status).toBe(400);
    expect((await site.call('GET', `project/api/retrieve/${cat.sodar_uuid}`)).json.title).toBe('x'.repeat(255));
  });

  it('answers 404 naming what is unknown', async () => {
    const nobody = '00000000-0000-0000-0000-000000000000';
    for (const [method, path, what] of [
      ['GET', `project/api/retrieve/${nobody}`, 'Project'],
      ['GET', `timeline/api/list/${nobody}`, 'Project'],
      ['GET', `landingzones/api/list/${nobody}`, 'Project'],
      ['POST', `landingzones/api/create/${nobody}`, 'Project'],
      ['POST', `samplesheets/api/irods/collections/create/${nobody}`, 'Project'],
      ['GET', `landingzones/api/retrieve/${nobody}`, 'Landing zone'],
      ['POST', `landingzones/api/submit/move/${encodeURIComponent('../..')}`, 'Landing zone'],
      ['DELETE', `project/api/roles/destroy/${nobody}`, 'Role assignment'],
    ] as const) {
      const res = await site.call(method, path);
      expect(res, `${method} ${path}`).toMatchObject({ status: 404, json: { detail: `${what} not found` } });
    }
  });

  it('keeps zone titles and configurations from leaving the zone folder', async () => {
    const { proj, assay } = await projectWithZone();
    const before = await snapshot();
    const submits = site.backend.submits.length;
    for (const configuration of ['../../other', 'a/b', '.', 'x y']) {
      const res = await site.call('POST', `landingzones/api/create/${proj}`, { assay, configuration });
      expect(res.status, configuration).toBe(400);
      expect(res.json.detail).toMatch(/Field "configuration" may hold letters, digits/);
    }
    const foreign = await site.call('POST', `landingzones/api/create/${proj}`, { assay: '../../x' });
    expect(foreign).toMatchObject({ status: 400, json: { detail: 'Assay ../../x not found in this project' } });
    expect(site.backend.submits.length).toBe(submits);
    expect(await snapshot()).toEqual(before);

    const tricky = await site.call('POST', `landingzones/api/create/${proj}`, { assay, title: '../../../etc/passwd', configuration: 'smb_1' });
    expect(tricky.status).toBe(201);
    const data = site.backend.submits.at(-1)!.flowData;
    expect(data.zone_title).toMatch(/^\d{8}_\d{6}_[A-Za-z0-9_-]+$/);
    expect(data.zone_config).toBe('smb_1');
    expect(tricky.json.irods_path).not.toMatch(/\.\./);
    const long = await site.call('POST', `landingzones/api/create/${proj}`, { assay, title: 'z'.repeat(300) });
    expect(long.status).toBe(400);
    expect(long.json.detail).toMatch(/Field "title" is longer than 255 characters/);
  });

  it('refuses operations on a busy zone and on a locked project (503) without submitting', async () => {
    const { proj, zone } = await projectWithZone();
    const before = await rows();
    const n = site.backend.submits.length;
    const busy = await site.call('POST', `landingzones/api/submit/delete/${zone}`);
    expect(busy).toMatchObject({ status: 400, json: { detail: 'Landing zone is busy (status CREATING): wait for the running operation to end' } });
    await site.callback('landingzones/taskflow/status/set', { zone_uuid: zone, status: 'ACTIVE', status_info: '' });
    const active = await rows();
    site.backend.locked = true;
    const locked = await site.call('POST', `landingzones/api/submit/move/${zone}`);
    expect(locked).toMatchObject({ status: 503, json: { detail: 'Project is locked by another operation: try again later' } });
    expect((await site.call('PATCH', `project/api/update/${proj}`, { title: 'Renamed' })).status).toBe(503);
    expect(site.backend.submits.length).toBe(n);
    const after = await rows();
    // Only the status callback changed the zone; the refused move left it ACTIVE.
    expect(after).toEqual(active);
    expect(after).not.toEqual(before);
    expect((await site.call('GET', `landingzones/api/retrieve/${zone}`)).json.status).toBe('ACTIVE');
    const events = (await site.call('GET', `timeline/api/list/${proj}`)).json;
    expect(events.find((e: any) => e.event_name === 'zone_move')).toMatchObject({ status_type: 'FAILED', status_desc: 'Project is locked by another operation: try again later' });
  });
});

describe('site callbacks against hostile input', () => {
  it('answers plain text for bodies that are not objects and never checks them before the plugin', async () => {
    const list = await site.app.inject({ method: 'POST', url: '/project/taskflow/get', headers: { 'content-type': 'application/json' }, payload: '[1]' });
    expect(list.statusCode).toBe(400);
    expect(list.headers['content-type']).toMatch(/^text\/plain/);
    expect(list.body).toBe('The request body must be a JSON object or form fields, not a JSON array');
    site.enabled.value = false;
    const off = await site.app.inject({ method: 'POST', url: '/project/taskflow/get', headers: { 'content-type': 'application/json' }, payload: '[1]' });
    expect(off.statusCode).toBe(404);
  });

  it('accepts a form body with a charset and refuses a secret that only shares a prefix', async () => {
    const res = await site.app.inject({
      method: 'POST',
      url: '/project/taskflow/get',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      payload: `project_uuid=nope&sodar_secret=${TEST_SECRET}`,
    });
    expect(res).toMatchObject({ statusCode: 404, body: 'Project not found' });
    for (const secret of [TEST_SECRET.slice(0, -1), `${TEST_SECRET}x`, '']) {
      expect(await site.callback('project/taskflow/get', { project_uuid: 'nope' }, { secret })).toEqual({ status: 403, text: 'Not authorized' });
    }
  });
});

/** `depth` arrays inside each other: JSON that parses, and overflows any recursive walk of it. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const TOO_DEEP = /^JSON nested too deeply: more than 64 levels of arrays and objects$/;

describe('the site against deeply nested and oversized bodies', () => {
  it('answers 400 "nested too deeply" to API and callback bodies before parsing them, and keeps serving', async () => {
    const before = await snapshot();
    const deep = nested(BODY_LIMIT / 2 - 8);
    const api = await raw('POST', 'project/api/create', deep, 'application/json');
    expect(api.status).toBe(400);
    expect(api.json.detail).toMatch(TOO_DEEP);
    // without a token too: the body is refused before anything looks at it
    expect((await raw('POST', 'project/api/create', deep, 'application/json', '')).json.detail).toMatch(TOO_DEEP);
    const callback = await site.app.inject({ method: 'POST', url: '/project/taskflow/get', headers: { 'content-type': 'application/json' }, payload: deep });
    expect(callback.statusCode).toBe(400);
    expect(callback.json().detail).toMatch(TOO_DEEP);
    // nesting up to the bound is fine; one level more is not
    const inside = `{"title":"Deep","type":"CATEGORY","x":${nested(63)}}`;
    expect((await raw('POST', 'project/api/create', inside, 'application/json')).status).toBe(201);
    const over = `{"title":"Deeper","type":"CATEGORY","x":${nested(64)}}`;
    expect((await raw('POST', 'project/api/create', over, 'application/json')).json.detail).toMatch(TOO_DEEP);
    // brackets inside strings do not count
    const text = `{"title":${JSON.stringify('['.repeat(300))},"type":"CATEGORY"}`;
    expect((await raw('POST', 'project/api/create', text, 'application/json')).status).toBe(400);
    expect((await raw('POST', 'project/api/create', text, 'application/json')).json.detail).toMatch(/longer than 255/);
    // a JSON field inside a callback form is bounded as well
    const settings = await site.callback('project/taskflow/settings/set', { project_uuid: 'nope', app_name: 'x', setting_name: 'y', value: nested(1000) });
    expect(settings.status).toBe(404);
    const rowsAfter = (await snapshot()).filter((r) => !before.includes(r));
    expect(rowsAfter.some((r) => r.includes('Deeper'))).toBe(false);
    const list = await site.call('GET', 'project/api/list');
    expect(list.status).toBe(200);
  });

  it('refuses several unauthenticated callbacks with a deeply nested secret at once, each with 400, and still answers', async () => {
    // the secret field is the first thing a callback reads: a nested one once overflowed the stack (500)
    const payload = `{"sodar_secret":${nested(BODY_LIMIT / 2 - 16)}}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => site.app.inject({ method: 'POST', url: '/project/taskflow/get', headers: { 'content-type': 'application/json' }, payload })),
    );
    expect(answers.map((a) => [a.statusCode, a.json().detail])).toEqual(Array(8).fill([400, expect.stringMatching(TOO_DEEP)]));
    expect((await site.call('GET', 'project/api/list')).status).toBe(200);
  });

  it('takes callbacks up to a small form\'s limit: larger ones are 413 before the secret is read', async () => {
    const big = `project_uuid=nope&sodar_secret=${TEST_SECRET}&readme=${'x'.repeat(FORM_BODY_LIMIT)}`;
    const res = await site.app.inject({ method: 'POST', url: '/project/taskflow/update', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: big });
    expect(res.statusCode).toBe(413);
  });
});

describe('the callbacks\' secret', () => {
  it('is compared only when it is a string: a number, list or object is refused with 403, never 500 or a coerced match', async () => {
    const numeric = await injectSite({ env: { TASKFLOW_SODAR_SECRET: '12345' } });
    try {
      for (const secret of [12345, [12345], ['12345'], { toString: '12345' }, true, null]) {
        const res = await numeric.app.inject({
          method: 'POST',
          url: '/project/taskflow/get',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ project_uuid: 'nope', sodar_secret: secret }),
        });
        expect({ secret, status: res.statusCode, body: res.body }).toEqual({ secret, status: 403, body: 'Not authorized' });
      }
      // the string itself still works
      expect(await numeric.callback('project/taskflow/get', { project_uuid: 'nope' }, { secret: '12345' })).toEqual({ status: 404, text: 'Project not found' });
    } finally {
      await numeric.close();
    }
  });
});
