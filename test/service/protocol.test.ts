/**
 * Protocol section 2 against the running server: every status code and body
 * text of /submit, /cleanup and /hello, with the checks in protocol order.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ServiceConfigError, startService } from '../../src/service/server.js';
import {
  TEST_SECRET,
  getWithSecret,
  makeTempDir,
  postJson,
  removeDir,
  startServiceFixture,
  testConfig,
  type ServiceFixture,
} from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../support/service-flows.js';
import { startTestSite } from '../support/test-site.js';

const PROJECT = 'a1b2c3d4-0000-4000-8000-000000000001';

let fx: ServiceFixture;

beforeAll(async () => {
  fx = await startServiceFixture({ TASKFLOW_BODY_LIMIT: '4096' });
  expect((await fx.submit(projectCreateBody(PROJECT, fx.site.url))).status).toBe(200);
});
afterAll(async () => {
  await fx?.close();
});

const valid = () => roleUpdateBody(PROJECT, fx.site.url, 'alice');

describe('GET /hello', () => {
  it('answers the liveness text', async () => {
    const res = await fetch(`${fx.service.url}/hello`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Hello world from sodar_taskflow!');
  });
});

describe('POST /submit: step 1, required fields in order', () => {
  const fields = ['project_uuid', 'request_mode', 'flow_name', 'targets', 'sodar_secret'] as const;
  for (const field of fields) {
    it(`missing ${field} → 400`, async () => {
      const body: Record<string, unknown> = { ...valid() };
      delete body[field];
      expect(await fx.submit(body)).toEqual({ status: 400, body: `Missing or invalid argument: "${field}"` });
    });
    it(`empty ${field} → 400`, async () => {
      const body = { ...valid(), [field]: field === 'targets' ? [] : '' };
      expect(await fx.submit(body)).toEqual({ status: 400, body: `Missing or invalid argument: "${field}"` });
    });
    it(`${field} of the wrong type → 400`, async () => {
      const body = { ...valid(), [field]: field === 'targets' ? [1, 2] : 42 };
      expect(await fx.submit(body)).toEqual({ status: 400, body: `Missing or invalid argument: "${field}"` });
    });
  }

  it('reports the first bad field in protocol order', async () => {
    expect(await fx.submit({})).toEqual({ status: 400, body: 'Missing or invalid argument: "project_uuid"' });
    const body = { ...valid(), flow_name: '', targets: 'irods' };
    expect(await fx.submit(body)).toEqual({ status: 400, body: 'Missing or invalid argument: "flow_name"' });
  });

  it('a missing field beats a bad secret', async () => {
    const body: Record<string, unknown> = { ...valid(), sodar_secret: 'wrong' };
    delete body.request_mode;
    expect(await fx.submit(body)).toEqual({ status: 400, body: 'Missing or invalid argument: "request_mode"' });
  });

  it('checks optional fields types too', async () => {
    expect(await fx.submit({ ...valid(), flow_data: [] })).toEqual({ status: 400, body: 'Missing or invalid argument: "flow_data"' });
    expect(await fx.submit({ ...valid(), force_fail: 'yes' })).toEqual({ status: 400, body: 'Missing or invalid argument: "force_fail"' });
    expect(await fx.submit({ ...valid(), sodar_url: 'ftp://x' })).toEqual({ status: 400, body: 'Missing or invalid argument: "sodar_url"' });
  });
});

describe('POST /submit: steps 2 to 5', () => {
  it('bad secret → 403, and it beats an unknown flow', async () => {
    expect(await fx.submit({ ...valid(), sodar_secret: 'wrong' })).toEqual({ status: 403, body: 'Not authorized' });
    expect(await fx.submit({ ...valid(), sodar_secret: 'wrong', flow_name: 'nope' })).toEqual({ status: 403, body: 'Not authorized' });
    // and a bad optional field: a caller without the secret learns nothing about the other fields
    for (const bad of [{ flow_data: 'x' }, { force_fail: 'yes' }, { timeline_uuid: 1 }, { test_mode: 'no' }, { sodar_url: 'ftp://x' }]) {
      expect(await fx.submit({ ...valid(), sodar_secret: 'wrong', ...bad })).toEqual({ status: 403, body: 'Not authorized' });
      expect((await fx.submit({ ...valid(), ...bad })).status).toBe(400);
    }
  });

  it('unknown flow → 501, and it beats an invalid request mode and missing flow data', async () => {
    expect(await fx.submit({ ...valid(), flow_name: 'nope' })).toEqual({ status: 501, body: 'Flow "nope" not supported' });
    // a caller's long name is cut, not echoed back
    const long = await fx.submit({ ...valid(), flow_name: 'x'.repeat(3_000) });
    expect(long).toEqual({ status: 501, body: `Flow "${'x'.repeat(200)}…" not supported` });
    expect(await fx.submit({ ...valid(), flow_name: 'nope', request_mode: 'foo', flow_data: {} })).toEqual({
      status: 501,
      body: 'Flow "nope" not supported',
    });
  });

  it('missing flow data → 400 Error validating flow', async () => {
    const res = await fx.submit({ ...valid(), flow_data: { user_uuid: 'u', role_pk: 3 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/^Error validating flow: .+/);
  });

  it('a request mode the flow does not support → 400 Error validating flow', async () => {
    for (const mode of ['async', 'foo']) {
      const res = await fx.submit({ ...valid(), request_mode: mode });
      expect(res.status).toBe(400);
      expect(res.body).toBe(`Error validating flow: Request mode "${mode}" not supported by flow "role_update"`);
    }
  });
});

describe('POST /submit: step 6, sync runs', () => {
  it('success → 200 True', async () => {
    expect(await fx.submit(valid())).toEqual({ status: 200, body: 'True' });
    const store = await fx.service.store();
    expect(await store.getPrincipal('alice')).not.toBeNull();
  });

  it('force_fail → 500 Error running flow with a readable reason, and nothing changed', async () => {
    const store = await fx.service.store();
    const before = await store.dump();
    const res = await fx.submit({ ...roleUpdateBody(PROJECT, fx.site.url, 'bob'), force_fail: true });
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/^Error running flow: .*[Ff]orce/);
    expect(res.body).not.toMatch(/TypeError|undefined|\[object/);
    expect(await store.dump()).toEqual(before);
  });

  it('project locked by another holder → 503 Unable to acquire project lock', async () => {
    const held = await fx.service.locks.acquire(PROJECT, { retryCount: 0, retryIntervalMs: 0 });
    try {
      expect(await fx.submit(valid())).toEqual({ status: 503, body: 'Unable to acquire project lock' });
    } finally {
      await held.release();
    }
    expect((await fx.submit(valid())).status).toBe(200);
  });

  it('records every run in the journal with its meta', async () => {
    const page = fx.service.journal.listRuns({ label: PROJECT, flowName: 'role_update', limit: 50, offset: 0 });
    expect(page.total).toBeGreaterThanOrEqual(3);
    const statuses = page.runs.map((r) => r.status);
    expect(statuses).toContain('completed');
    expect(statuses).toContain('rolled_back');
    expect(page.runs[0].meta).toMatchObject({ mode: 'sync', targets: ['irods'], timeline_uuid: 'None', sodar_url: fx.site.url });
    expect(JSON.stringify(page.runs)).not.toContain(TEST_SECRET);
  });
});

describe('URLs that do not decode', () => {
  it("get the service's plain-text 400 saying so, not Fastify's JSON, after the secret where a route needs it, and the service goes on", async () => {
    for (const path of ['/locks/%ff', '/runs/%E0%A4%A']) {
      const res = await fetch(`${fx.service.url}${path}`);
      expect([path, res.status, res.headers.get('content-type'), await res.text()]).toEqual([path, 403, 'text/plain; charset=utf-8', 'Not authorized']);
    }
    const secret = { 'x-taskflow-secret': TEST_SECRET };
    for (const [path, headers] of [['/locks/%ff', secret], ['/runs/%E0%A4%A', secret], ['/%', {}], ['/hello%', {}]] as const) {
      const res = await fetch(`${fx.service.url}${path}`, { headers });
      expect([path, res.status, res.headers.get('content-type'), await res.text()]).toEqual([
        path,
        400,
        'text/plain; charset=utf-8',
        `Invalid URL: '${path}' is not a valid url component (a "%" must begin an escape of two hex digits, and the escaped bytes must be UTF-8)`,
      ]);
    }
    // a route parameter longer than Fastify's limit likewise
    const long = await fetch(`${fx.service.url}/runs/${'r'.repeat(101)}`, { headers: secret });
    expect([long.status, long.headers.get('content-type'), await long.text()]).toEqual([
      414,
      'text/plain; charset=utf-8',
      `URL too long: '/runs/${'r'.repeat(101)}' is exceeding the max param length`,
    ]);
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).status).toBe(200);
  });
});

describe('POST /submit: what the client sends cannot crash it', () => {
  it('malformed JSON → 400 with a message', async () => {
    const res = await postJson(`${fx.service.url}/submit`, '{"project_uuid": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/^Malformed JSON body: /);
  });

  it('a body that is not UTF-8 → 400 saying so, and no run', async () => {
    const runs = fx.service.journal.listRuns({ label: PROJECT, limit: 1000, offset: 0 }).total;
    // a user name with "é" as Latin-1 sends it as the single byte 0xe9
    const latin1 = Buffer.from(JSON.stringify(roleUpdateBody(PROJECT, fx.site.url, 'andr\u00e9')), 'latin1');
    const res = await fetch(`${fx.service.url}/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: latin1 });
    expect([res.status, await res.text()]).toEqual([400, 'Request body is not valid UTF-8: send text encoded as UTF-8']);
    expect(fx.service.journal.listRuns({ label: PROJECT, limit: 1000, offset: 0 }).total).toBe(runs);
  });

  it('a valid JSON body with a "__proto__" key, or "constructor" holding "prototype" → 400 naming the key, not "malformed"', async () => {
    const withSecret = (inner: string): string => `{"sodar_secret":"${TEST_SECRET}","flow_data":${inner}}`;
    for (const body of ['{"__proto__":{"x":1}}', withSecret('{"__proto__":{}}')]) {
      expect(await postJson(`${fx.service.url}/submit`, body)).toEqual({ status: 400, body: 'Request body refused: key "__proto__" is not allowed' });
    }
    expect(await postJson(`${fx.service.url}/submit`, withSecret('{"constructor":{"prototype":{"x":1}}}'))).toEqual({
      status: 400,
      body: 'Request body refused: key "constructor" holding a "prototype" key is not allowed',
    });
  });

  it('an empty body → 400', async () => {
    const res = await postJson(`${fx.service.url}/submit`, '');
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/empty/);
  });

  it('JSON that is not an object → 400 for the first field', async () => {
    for (const body of ['[1,2]', '42', '"x"', 'null']) {
      expect(await postJson(`${fx.service.url}/submit`, body)).toEqual({
        status: 400,
        body: 'Missing or invalid argument: "project_uuid"',
      });
    }
  });

  it('a prototype-poisoning body → 400', async () => {
    const res = await postJson(`${fx.service.url}/submit`, '{"__proto__": {"x": 1}, "project_uuid": "p"}');
    expect(res.status).toBe(400);
  });

  it('the wrong content type → 415 with a message', async () => {
    const res = await fetch(`${fx.service.url}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'project_uuid=x',
    });
    expect(res.status).toBe(415);
    expect(await res.text()).toBe('Unsupported content type: send application/json');
  });

  it('a body over the limit → 413 with a message', async () => {
    const res = await fx.submit({ ...valid(), flow_data: { pad: 'x'.repeat(8192) } });
    expect(res).toEqual({ status: 413, body: 'Request body too large: the limit is 4096 bytes' });
    const hello = await fetch(`${fx.service.url}/hello`);
    expect(hello.status).toBe(200);
  });

  it('unknown paths → 404 Not found', async () => {
    const res = await fetch(`${fx.service.url}/../../etc/passwd`);
    expect(res.status).toBe(404);
  });
});

describe('GET /locks/:projectUuid', () => {
  it('needs the secret header', async () => {
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`, 'wrong')).status).toBe(403);
    const res = await fetch(`${fx.service.url}/locks/${PROJECT}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('Not authorized');
  });

  it('answers whether the project is locked', async () => {
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).json).toEqual({ project_uuid: PROJECT, locked: false });
    const held = await fx.service.locks.acquire(PROJECT, { retryCount: 0, retryIntervalMs: 0 });
    try {
      expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).json).toEqual({ project_uuid: PROJECT, locked: true });
    } finally {
      await held.release();
    }
  });

  it('answers 400 for an id no project could have, never a guess', async () => {
    for (const [id, text] of [
      ['None', 'A lock query needs a project_uuid'],
      ['x', 'Invalid project_uuid "x"'],
      ['a%2F..%2Fb', 'Invalid project_uuid "a/../b"'],
    ]) {
      const res = await getWithSecret(`${fx.service.url}/locks/${id}`);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(new RegExp(`^${text.replace(/[[\]"]/g, '\\$&')}`));
    }
  });
});

describe('POST /cleanup', () => {
  it('removes the projects and every non-permanent user and group → 200 OK', async () => {
    const store = await fx.service.store();
    expect((await store.listPrincipals('user')).length).toBeGreaterThan(1);
    expect(await postJson(`${fx.service.url}/cleanup`, { test_mode: true })).toEqual({ status: 200, body: 'OK' });
    const keep = ['client_user', 'rods', 'rodsadmin', 'public'];
    expect((await store.listPrincipals('user')).every((u) => keep.includes(u.name))).toBe(true);
    expect((await store.listPrincipals('group')).every((g) => keep.includes(g.name))).toBe(true);
    expect((await store.stat(`/${store.zone}/projects`))?.type === 'collection').toBe(false);
    // and the service keeps working afterwards
    expect((await fx.submit(projectCreateBody(PROJECT, fx.site.url))).status).toBe(200);
  });
});

describe('services with other settings', () => {
  it('refuses to start with the default secret outside test mode', async () => {
    const dir = makeTempDir();
    try {
      const config = loadConfig({ TASKFLOW_DATA_DIR: dir, TASKFLOW_PORT: '0', TASKFLOW_LOG_LEVEL: 'silent' });
      await expect(startService(config)).rejects.toBeInstanceOf(ServiceConfigError);
    } finally {
      removeDir(dir);
    }
  });

  it('outside test mode and without TASKFLOW_ALLOW_IRODS_CLEANUP → 403, whatever the body says, and nothing changes', async () => {
    const dir = makeTempDir();
    const site = await startTestSite({ secret: TEST_SECRET });
    const service = await startService(testConfig(dir, { TASKFLOW_TEST_MODE: 'false' }));
    try {
      expect((await postJson(`${service.url}/submit`, { ...projectCreateBody(PROJECT, site.url), test_mode: false })).status).toBe(200);
      const store = await service.store();
      const before = await store.dump();
      // the body's test_mode is the client's word, not the service's configuration
      for (const body of [{ test_mode: true, sodar_secret: TEST_SECRET }, { test_mode: false, sodar_secret: TEST_SECRET }, { sodar_secret: TEST_SECRET }]) {
        expect(await postJson(`${service.url}/cleanup`, body)).toEqual({ status: 403, body: 'iRODS cleanup not allowed' });
      }
      expect(await store.dump()).toEqual(before);
    } finally {
      await service.close();
      await site.close();
      removeDir(dir);
    }
  });

  it('outside test mode a cleanup needs the secret', async () => {
    const dir = makeTempDir();
    const service = await startService(
      testConfig(dir, { TASKFLOW_TEST_MODE: 'false', TASKFLOW_ALLOW_IRODS_CLEANUP: 'true' }),
    );
    try {
      expect(await postJson(`${service.url}/cleanup`, { test_mode: true })).toEqual({ status: 403, body: 'Not authorized' });
      expect(await postJson(`${service.url}/cleanup`, { test_mode: true, sodar_secret: 'wrong' })).toEqual({
        status: 403,
        body: 'Not authorized',
      });
      expect(await postJson(`${service.url}/cleanup`, { test_mode: false, sodar_secret: TEST_SECRET })).toEqual({
        status: 200,
        body: 'OK',
      });
    } finally {
      await service.close();
      removeDir(dir);
    }
  });

  it('a store that cannot be opened → 500 Error initializing iRODS (after the flow check)', async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'catalog.sqlite'), { recursive: true }); // a folder where the catalog file belongs
    const service = await startService(testConfig(dir));
    try {
      const body = roleUpdateBody(PROJECT, 'http://127.0.0.1:9', 'carol');
      expect(await postJson(`${service.url}/submit`, { ...body, flow_name: 'nope' })).toEqual({
        status: 501,
        body: 'Flow "nope" not supported',
      });
      const res = await postJson(`${service.url}/submit`, body);
      expect(res.status).toBe(500);
      expect(res.body).toMatch(/^Error initializing iRODS: .+/);
    } finally {
      await service.close();
      removeDir(dir);
    }
  });

  it('an unreachable lock backend fails closed → 503 Unable to acquire project lock: <reason>', async () => {
    const dir = makeTempDir();
    const service = await startService(testConfig(dir, { TASKFLOW_REDIS_URL: 'redis://127.0.0.1:1' }));
    try {
      expect((await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, 'http://127.0.0.1:9'))).body).toMatch(
        /^Unable to acquire project lock: .+/,
      );
      const store = await service.store();
      expect((await store.stat(`/${store.zone}/projects`))?.type === 'collection').toBe(false);
    } finally {
      await service.close();
      removeDir(dir);
    }
  });

  it('never logs the secret', async () => {
    const dir = makeTempDir();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const service = await startService(testConfig(dir, { TASKFLOW_LOG_LEVEL: 'debug' }), { logDestination: sink });
    try {
      await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, 'http://127.0.0.1:9'));
      await postJson(`${service.url}/submit`, { ...projectCreateBody(PROJECT, 'http://127.0.0.1:9'), sodar_secret: 'guess-1' });
      await postJson(`${service.url}/submit`, '{"sodar_secret": "' + TEST_SECRET + '", bad json');
    } finally {
      await service.close();
      removeDir(dir);
    }
    const log = lines.join('');
    const submits = log.split('\n').filter((l) => l.includes('"msg":"submit"'));
    expect(submits.length).toBe(2);
    expect(JSON.parse(submits[0])).toMatchObject({ flow: 'project_create', project: PROJECT, mode: 'sync', status: 200, outcome: 'completed' });
    expect(JSON.parse(submits[0]).run).toMatch(/^[0-9a-f-]{36}$/);
    expect(log).not.toContain(TEST_SECRET);
    expect(log).not.toContain('guess-1');
  });
});
