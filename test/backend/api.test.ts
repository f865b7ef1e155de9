import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBackendSettings, type BackendSettings } from '../../src/config.js';
import {
  CleanupException,
  ConfigError,
  FlowSubmitException,
  ImproperlyConfigured,
  InvalidProjectError,
  LockQueryException,
  SubmitDataError,
  TaskflowAPI,
} from '../../src/backend/index.js';
import { closedPort, startRecorder, type Recorder } from './recording-server.js';

const PROJECT = '6f8b1d4e-2a3c-4b5d-8e9f-0a1b2c3d4e5f';
const TIMELINE = 'aa8b1d4e-2a3c-4b5d-8e9f-0a1b2c3d4e5f';

/** A UUID object as a host model might hold it. */
class Uuid {
  constructor(private readonly hex: string) {}
  toString(): string {
    return this.hex;
  }
}

function settings(port: number, extra: Partial<BackendSettings> = {}): BackendSettings {
  return { ...loadBackendSettings({}), backendHost: 'http://127.0.0.1', backendPort: port, sodarSecret: 's3cret', ...extra };
}

let rec: Recorder;
beforeEach(async () => {
  rec = await startRecorder();
});
afterEach(async () => {
  await rec.close();
});

function submitBody(): Record<string, unknown> {
  expect(rec.requests).toHaveLength(1);
  const [r] = rec.requests;
  expect(r.method).toBe('POST');
  expect(r.url).toBe('/submit');
  expect(r.headers['content-type']).toBe('application/json');
  return r.json as Record<string, unknown>;
}

describe('TaskflowAPI construction', () => {
  it('composes the URL from host and port with the seed defaults', () => {
    const api = new TaskflowAPI(loadBackendSettings({}));
    expect(api.url).toBe('http://0.0.0.0:5005');
    expect(api.targets).toEqual(['sodar', 'irods']);
    expect(api.testMode).toBe(false);
    expect(new TaskflowAPI(settings(1234, { backendHost: 'https://tf.example.org/' })).url).toBe('https://tf.example.org:1234');
  });

  it('reads the environment by default', () => {
    const saved = { ...process.env };
    try {
      process.env.TASKFLOW_BACKEND_HOST = 'http://127.0.0.2';
      process.env.TASKFLOW_BACKEND_PORT = '6006';
      process.env.TASKFLOW_TARGETS = 'irods';
      expect(new TaskflowAPI().url).toBe('http://127.0.0.2:6006');
      expect(new TaskflowAPI().targets).toEqual(['irods']);
      process.env.TASKFLOW_BACKEND_PORT = 'abc';
      expect(() => new TaskflowAPI()).toThrow(ConfigError);
      expect(() => new TaskflowAPI()).toThrow(/TASKFLOW_BACKEND_PORT/);
    } finally {
      process.env = saved;
    }
  });

  it('names the setting when injected settings cannot be used', () => {
    expect(() => new TaskflowAPI(settings(70000))).toThrow(/TASKFLOW_BACKEND_PORT/);
    expect(() => new TaskflowAPI(settings(5005, { backendHost: 'localhost' }))).toThrow(/TASKFLOW_BACKEND_HOST/);
    expect(() => new TaskflowAPI(settings(5005, { backendHost: 'http://h:1' }))).toThrow(/TASKFLOW_BACKEND_HOST/);
    expect(() => new TaskflowAPI(settings(5005), { timeoutMs: 0 })).toThrow(/TASKFLOW_BACKEND_TIMEOUT/);
  });

  it('offers the exceptions as static members, as the seed does', () => {
    expect(TaskflowAPI.FlowSubmitException).toBe(FlowSubmitException);
    expect(TaskflowAPI.CleanupException).toBe(CleanupException);
  });
});

describe('submit', () => {
  it('sends the protocol body with its defaults', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    await expect(api.submit(PROJECT, 'project_create', { project_title: 'T' })).resolves.toBe(true);
    expect(submitBody()).toEqual({
      project_uuid: PROJECT,
      flow_name: 'project_create',
      flow_data: { project_title: 'T' },
      request_mode: 'sync',
      targets: ['sodar', 'irods'],
      force_fail: false,
      timeline_uuid: 'None',
      sodar_secret: 's3cret',
      test_mode: false,
    });
  });

  it('sends every option as given, UUID objects as strings', async () => {
    const api = new TaskflowAPI(settings(rec.port, { testMode: true }));
    await api.submit(new Uuid(PROJECT), 'landing_zone_create', { zone_uuid: new Uuid(TIMELINE), nested: [{ u: new Uuid(PROJECT) }] }, {
      targets: ['irods'],
      requestMode: 'async',
      timelineUuid: new Uuid(TIMELINE),
      forceFail: true,
      sodarUrl: 'http://site.test:8000',
    });
    expect(submitBody()).toEqual({
      project_uuid: PROJECT,
      flow_name: 'landing_zone_create',
      flow_data: { zone_uuid: TIMELINE, nested: [{ u: PROJECT }] },
      request_mode: 'async',
      targets: ['irods'],
      force_fail: true,
      timeline_uuid: TIMELINE,
      sodar_secret: 's3cret',
      test_mode: true,
      sodar_url: 'http://site.test:8000',
    });
  });

  it('sends the string None for a flow without a project', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    await api.submit(null, 'role_update_irods_batch', { roles_add: [], roles_delete: [] });
    expect(submitBody()).toMatchObject({ project_uuid: 'None', timeline_uuid: 'None' });
    expect(submitBody()).not.toHaveProperty('sodar_url');
  });

  it.each([
    ['POST form (parsed)', { body: { sodar_url: 'http://form' }, query: { sodar_url: 'http://query' } }, 'http://form'],
    ['POST form (raw)', { body: 'a=1&sodar_url=http%3A%2F%2Fraw', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'http://raw'],
    ['query string', { body: {}, query: { sodar_url: 'http://query' } }, 'http://query'],
    ['query in the URL', { url: '/x?sodar_url=http%3A%2F%2Furl' }, 'http://url'],
    ['query before JSON body', { body: { sodar_url: 'http://json' }, query: { sodar_url: 'http://q' }, headers: { 'content-type': 'application/json' } }, 'http://q'],
    ['JSON body (parsed)', { body: { sodar_url: 'http://json' }, headers: { 'content-type': 'application/json; charset=utf-8' } }, 'http://json'],
    ['JSON body (raw)', { body: '{"sodar_url": "http://rawjson"}' }, 'http://rawjson'],
  ])('takes sodar_url from the request: %s', async (_label, request, expected) => {
    const api = new TaskflowAPI(settings(rec.port));
    await api.submit(PROJECT, 'sheet_delete', {}, { request });
    expect(submitBody().sodar_url).toBe(expected);
  });

  it('prefers the sodarUrl argument to the request', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    await api.submit(PROJECT, 'sheet_delete', {}, { request: { body: { sodar_url: 'http://form' } }, sodarUrl: 'http://arg' });
    expect(submitBody().sodar_url).toBe('http://arg');
  });

  it('omits sodar_url when the request has none or an empty one', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    await api.submit(PROJECT, 'sheet_delete', {}, { request: { body: { sodar_url: '' }, query: {} } });
    expect(submitBody()).not.toHaveProperty('sodar_url');
  });

  it('raises FlowSubmitException with the first 256 characters of the answer', async () => {
    const reason = 'x'.repeat(250) + 'ÿ😀abcdefghij';
    rec.answer = () => ({ status: 500, body: `Error running flow: ${reason}` });
    const api = new TaskflowAPI(settings(rec.port));
    const err = await api.submit(PROJECT, 'project_create', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskflowAPI.FlowSubmitException);
    const info = `Error running flow: ${reason}`;
    const cut = [...info].slice(0, 256).join('');
    expect((err as Error).message).toBe(`Taskflow "project_create" failed! Reason: "${cut}"`);
    expect((err as FlowSubmitException).failure).toMatchObject({ status: 500, body: info });
  });

  it.each([
    [400, 'Missing or invalid argument: "flow_name"'],
    [403, 'Not authorized'],
    [503, 'Unable to acquire project lock'],
    [200, ''],
  ])('raises on status %i with body %j', async (status, body) => {
    rec.answer = () => ({ status, body });
    const api = new TaskflowAPI(settings(rec.port));
    const err = await api.submit(PROJECT, 'role_update', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowSubmitException);
    expect((err as Error).message).toBe(`Taskflow "role_update" failed! Reason: "${body}"`);
    expect((err as FlowSubmitException).failure?.status).toBe(status);
  });

  it('refuses unserialisable flow_data before sending, naming the key', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ colls: ['a', () => 1] }, /flow_data\.colls\[1\] is a function/],
      [{ n: 10n }, /flow_data\.n is a BigInt/],
      [{ x: { y: NaN } }, /flow_data\.x\.y is NaN/],
      [{ 'odd key': Infinity }, /flow_data\["odd key"\] is Infinity/],
      [{ s: Symbol('s') }, /flow_data\.s is a symbol/],
      [{ list: [undefined] }, /flow_data\.list\[0\] is undefined/],
      [{ m: new Map() }, /flow_data\.m is a Map instance/],
      [{ d: new Date(NaN) }, /flow_data\.d is an invalid Date/],
      [cyclic, /flow_data\.self refers back to flow_data \(a cycle\)/],
    ];
    for (const [data, message] of cases) {
      const err = await api.submit(PROJECT, 'data_delete', data).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SubmitDataError);
      expect(err).toBeInstanceOf(FlowSubmitException);
      expect((err as Error).message).toMatch(message);
    }
    await expect(api.submit(PROJECT, 'x', [] as unknown as Record<string, unknown>)).rejects.toThrow(/flow_data must be a plain object/);
    await expect(api.submit(42 as unknown as string, 'x', {})).rejects.toThrow(/project_uuid must be a UUID/);
    await expect(api.submit(PROJECT, 'x', {}, { targets: [1] as unknown as string[] })).rejects.toThrow(/targets must be a list/);
    expect(rec.requests).toHaveLength(0);
  });

  it('sends Dates as ISO strings, shared references twice, and leaves out undefined properties', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    const shared = { k: 'v' };
    await api.submit(PROJECT, 'x', { when: new Date(Date.UTC(2024, 0, 2)), a: shared, b: shared, gone: undefined, boxed: new String('s') });
    expect(submitBody().flow_data).toEqual({ when: '2024-01-02T00:00:00.000Z', a: { k: 'v' }, b: { k: 'v' }, boxed: 's' });
  });
});

describe('network errors', () => {
  it('says the service could not be reached at which URL when the port is refused', async () => {
    const port = await closedPort();
    const api = new TaskflowAPI(settings(port));
    const err = await api.submit(PROJECT, 'project_create', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowSubmitException);
    expect((err as Error).message).toContain(`could not be reached at http://127.0.0.1:${port}/submit`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect((err as FlowSubmitException).failure).toMatchObject({ status: 0 });
  });

  it('gives up after the timeout when the service never answers', async () => {
    rec.answer = () => 'hang';
    const api = new TaskflowAPI(settings(rec.port), { timeoutMs: 200 });
    // the service has the request: the flow may still run, which the message says so that nobody resubmits blindly
    await expect(api.submit(PROJECT, 'project_create', {})).rejects.toThrow(
      /at .*\/submit: no complete answer within 200 ms; it may have received the request, so a submitted flow may still run or have run/,
    );
    const fromSettings = new TaskflowAPI(settings(rec.port, { backendTimeoutMs: 150 }));
    expect(fromSettings.timeoutMs).toBe(150);
    await expect(fromSettings.submit(PROJECT, 'project_create', {})).rejects.toThrow(/within 150 ms/);
  });

  it('fails cleanly when the connection closes after the headers', async () => {
    rec.answer = () => 'cut';
    const api = new TaskflowAPI(settings(rec.port));
    await expect(api.submit(PROJECT, 'project_create', {})).rejects.toThrow(
      /Taskflow "project_create" failed! Reason: "SODAR Taskflow at http:\/\/127\.0\.0\.1:\d+\/submit: connection.*it may have received the request/,
    );
  });

  it('reports an unknown host', async () => {
    const api = new TaskflowAPI(settings(5005, { backendHost: 'http://no-such-host.invalid' }), { timeoutMs: 10_000 });
    await expect(api.submit(PROJECT, 'project_create', {})).rejects.toThrow(/could not be reached at http:\/\/no-such-host\.invalid:5005\/submit/);
  });

  it('turns network errors of cleanup and isLocked into their exceptions', async () => {
    const port = await closedPort();
    const api = new TaskflowAPI(settings(port, { testMode: true }));
    await expect(api.cleanup()).rejects.toThrow(CleanupException);
    await expect(api.cleanup()).rejects.toThrow(/could not be reached at http:\/\/127\.0\.0\.1:\d+\/cleanup/);
    await expect(api.isLocked(PROJECT)).rejects.toThrow(LockQueryException);
    await expect(api.isLocked(PROJECT)).rejects.toThrow(new RegExp(`could not be reached at .*/locks/${PROJECT}`));
  });
});

describe('cleanup', () => {
  it('refuses without sending anything outside test mode', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    await expect(api.cleanup()).rejects.toThrow(ImproperlyConfigured);
    await expect(api.cleanup()).rejects.toThrow('TASKFLOW_TEST_MODE not True, cleanup command not allowed');
    expect(rec.requests).toHaveLength(0);
  });

  it('sends test_mode and the secret in test mode', async () => {
    rec.answer = () => ({ status: 200, body: 'OK' });
    const api = new TaskflowAPI(settings(rec.port, { testMode: true }));
    await expect(api.cleanup()).resolves.toBe(true);
    expect(rec.requests.map((r) => [r.method, r.url, r.json])).toEqual([['POST', '/cleanup', { test_mode: true, sodar_secret: 's3cret' }]]);
  });

  it('raises CleanupException with the answer on a non-200 status', async () => {
    rec.answer = () => ({ status: 403, body: 'iRODS cleanup not allowed' });
    const api = new TaskflowAPI(settings(rec.port, { testMode: true }));
    const err = await api.cleanup().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskflowAPI.CleanupException);
    expect((err as Error).message).toBe('iRODS cleanup not allowed');
    expect((err as CleanupException).failure.status).toBe(403);
  });
});

describe('getErrorMsg and useTaskflow', () => {
  const api = new TaskflowAPI(loadBackendSettings({}));
  it('formats the reason and cuts it at 256 characters', () => {
    expect(api.getErrorMsg('role_update', 'Not authorized')).toBe('Taskflow "role_update" failed! Reason: "Not authorized"');
    expect(api.getErrorMsg('f', 'a'.repeat(300))).toBe(`Taskflow "f" failed! Reason: "${'a'.repeat(256)}"`);
    expect(api.getErrorMsg('f', '😀'.repeat(300))).toBe(`Taskflow "f" failed! Reason: "${'😀'.repeat(256)}"`);
    expect(api.getErrorMsg('f', { toString: () => 'obj' })).toBe('Taskflow "f" failed! Reason: "obj"');
    expect(api.getErrorMsg('f', undefined)).toBe('Taskflow "f" failed! Reason: "None"');
  });

  it('uses taskflow only for projects, never categories', () => {
    expect(api.useTaskflow({ type: 'PROJECT' })).toBe(true);
    expect(api.useTaskflow({ type: 'CATEGORY' })).toBe(false);
    expect(api.useTaskflow(null)).toBe(false);
  });
});

describe('isLocked', () => {
  it.each([
    ['{"locked": true}', true],
    ['{"locked": false, "project_uuid": "x"}', false],
    ['true', true],
    ['False', false],
  ])('reads %s', async (body, expected) => {
    rec.answer = () => ({ status: 200, body });
    const api = new TaskflowAPI(settings(rec.port));
    await expect(api.isLocked(new Uuid(PROJECT))).resolves.toBe(expected);
    expect(rec.requests[0]).toMatchObject({ method: 'GET', url: `/locks/${PROJECT}` });
    expect(rec.requests[0].headers['x-taskflow-secret']).toBe('s3cret');
  });

  it('takes the project itself, by sodar_uuid or uuid, and refuses what names no project before sending', async () => {
    rec.answer = () => ({ status: 200, body: '{"locked": true}' });
    const api = new TaskflowAPI(settings(rec.port));
    const sodarProject = { sodar_uuid: new Uuid(PROJECT), title: 'P', type: 'PROJECT' };
    const siteProject = { uuid: PROJECT, title: 'P' };
    await expect(api.isLocked(sodarProject)).resolves.toBe(true);
    await expect(api.isLocked(siteProject)).resolves.toBe(true);
    expect(rec.requests.map((r) => r.url)).toEqual([`/locks/${PROJECT}`, `/locks/${PROJECT}`]);
    for (const bad of [{ title: 'no uuid' }, { sodar_uuid: {} }, '', 'None'] as unknown[]) {
      await expect(api.isLocked(bad as string)).rejects.toBeInstanceOf(InvalidProjectError);
      await expect(api.projectQueue(bad as string)).rejects.toBeInstanceOf(InvalidProjectError);
    }
    expect(rec.requests).toHaveLength(2);
  });

  it('answers null, "cannot tell", when the service has no lock query (404)', async () => {
    // SODAR Taskflow v0.6.2 (Flask) serves /submit, /cleanup and /hello only: any other path is its 404 page.
    rec.answer = () => ({ status: 404, body: '<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>' });
    const api = new TaskflowAPI(settings(rec.port));
    await expect(api.isLocked(PROJECT)).resolves.toBeNull();
  });

  it('raises LockQueryException on a refusal or an unexpected answer', async () => {
    const api = new TaskflowAPI(settings(rec.port));
    rec.answer = () => ({ status: 403, body: 'Not authorized' });
    await expect(api.isLocked(PROJECT)).rejects.toThrow(/failed \(403\): Not authorized/);
    rec.answer = () => ({ status: 200, body: 'maybe' });
    await expect(api.isLocked(PROJECT)).rejects.toThrow(LockQueryException);
  });
});
