/**
 * The backend API against the real taskflow service process: what reaches the
 * service is checked in the run records it keeps (`GET /runs`), and the
 * callbacks it makes in a strict test site.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackendSettings, type BackendSettings } from '../../src/config.js';
import {
  CleanupException,
  FlowSubmitException,
  ImproperlyConfigured,
  LockQueryException,
  TaskflowAPI,
} from '../../src/backend/index.js';
import { repoRoot, startServiceProcess, type ServiceProcess } from '../backend/service-process.js';
import { startTestSite, type TestSite } from '../support/test-site.js';

const SECRET = 'backend-e2e-secret';

/** A UUID object as a host model holds it. */
class Uuid {
  readonly hex = randomUUID();
  toString(): string {
    return this.hex;
  }
}

interface RunSummary {
  runId: string;
  flowName: string;
  status: string;
  meta: Record<string, unknown>;
}

let site: TestSite;
let svc: ServiceProcess;

function settingsFor(port: number, extra: Partial<BackendSettings> = {}): BackendSettings {
  return {
    ...loadBackendSettings({}),
    backendHost: 'http://127.0.0.1',
    backendPort: port,
    sodarSecret: SECRET,
    testMode: true,
    targets: ['irods', 'sodar'],
    ...extra,
  };
}

function api(extra: Partial<BackendSettings> = {}): TaskflowAPI {
  return new TaskflowAPI(settingsFor(svc.port, extra), { timeoutMs: 30_000 });
}

/** The service's run records for one project label, newest first. */
async function runsOf(projectUuid: string, flow?: string): Promise<RunSummary[]> {
  const q = new URLSearchParams({ project: projectUuid, ...(flow ? { flow } : {}) });
  const res = await fetch(`${svc.url}/runs?${q}`, { headers: { 'x-taskflow-secret': SECRET } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { runs: RunSummary[] }).runs;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Creates a project in the site and the service, owner included. */
async function createProject(): Promise<{ project: Uuid; owner: Uuid }> {
  const project = new Uuid();
  const owner = new Uuid();
  site.seedProject({ project_uuid: project.hex, title: 'P' });
  site.seedUser({ user_uuid: owner.hex, username: `owner_${owner.hex.slice(0, 8)}` });
  await api().submit(project, 'project_create', {
    project_title: 'P',
    parent_uuid: randomUUID(),
    owner_username: `owner_${owner.hex.slice(0, 8)}`,
    owner_uuid: owner,
    owner_role_pk: 1,
    settings: {},
  }, { sodarUrl: site.url });
  return { project, owner };
}

/** Holds the project lock from another process through the service's own lock store. */
async function holdLock(projectUuid: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/test/support/locks-holder.js'), projectUuid, '0', '50'], {
    env: svc.env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const lines = (want: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(want)) resolve();
        else if (/busy|error/.test(out)) reject(new Error(`lock holder: ${out}`));
      };
      child.stdout!.on('data', (c: string) => {
        out += c;
        check();
      });
      child.once('exit', () => (out.includes(want) ? resolve() : reject(new Error(`lock holder exited: ${out}`))));
      check();
    });
  await lines('locked');
  return {
    async release() {
      const done = lines('released');
      child.stdin!.end();
      await done;
    },
  };
}

beforeAll(async () => {
  site = await startTestSite({ secret: SECRET });
  svc = await startServiceProcess({
    TASKFLOW_TEST_MODE: '1',
    TASKFLOW_SODAR_SECRET: SECRET,
    TASKFLOW_SODAR_URL: site.url,
    TASKFLOW_LOCK_RETRY_COUNT: '0',
  });
});

afterAll(async () => {
  await svc?.stop();
  await site?.close();
});

describe('submit against the real service', () => {
  it('runs a flow and every option reaches the service as protocol section 2 says', async () => {
    const project = new Uuid();
    const owner = new Uuid();
    const event = new Uuid();
    site.seedProject({ project_uuid: project.hex, title: 'Wire' });
    site.seedUser({ user_uuid: owner.hex, username: 'wire_owner' });
    site.seedTimelineEvent({ event_uuid: event.hex, project_uuid: project.hex });
    const flowData = {
      project_title: 'Wire',
      parent_uuid: new Uuid(),
      owner_username: 'wire_owner',
      owner_uuid: owner,
      owner_role_pk: 1,
      settings: { 'settings.projectroles.ip_restrict': true },
    };
    // sodar_url from the request's POST form, as a test server's view would pass it on.
    await expect(
      api().submit(project, 'project_create', flowData, {
        request: { body: { sodar_url: site.url } },
        targets: ['irods', 'sodar'],
        requestMode: 'sync',
        timelineUuid: event,
      }),
    ).resolves.toBe(true);

    const [run] = await runsOf(project.hex);
    expect(run).toMatchObject({ flowName: 'project_create', status: 'completed' });
    expect(run.meta).toMatchObject({
      project_uuid: project.hex,
      mode: 'sync',
      targets: ['irods', 'sodar'],
      timeline_uuid: event.hex,
      sodar_url: site.url,
      force_fail: false,
      flow_data: { owner_uuid: owner.hex, parent_uuid: flowData.parent_uuid.hex, owner_role_pk: 1 },
    });
    // The sodar target ran against the site named by the request, with the flow data as written.
    expect(site.state().settings[project.hex]).toMatchObject({ 'projectroles.ip_restrict': true });
    expect(site.calls.some((c) => c.endpoint === 'project/taskflow/role/set' && c.fields.project_uuid === project.hex)).toBe(true);
  });

  it('sends None for a flow without a project, and sodar_url from the query or a JSON body', async () => {
    const fromQuery = 'http://query.example:8000';
    const fromJson = 'http://json.example:8000';
    const batch = { roles_add: [], roles_delete: [] };
    await expect(api().submit(null, 'role_update_irods_batch', batch, { targets: ['irods'], request: { query: { sodar_url: fromQuery } } })).resolves.toBe(true);
    await expect(
      api().submit(undefined, 'role_update_irods_batch', batch, {
        targets: ['irods'],
        request: { body: { sodar_url: fromJson }, headers: { 'content-type': 'application/json' } },
      }),
    ).resolves.toBe(true);
    const runs = await runsOf('None', 'role_update_irods_batch');
    const urls = runs.map((r) => r.meta.sodar_url);
    expect(urls).toContain(fromQuery);
    expect(urls).toContain(fromJson);
    for (const r of runs) expect(r.meta).toMatchObject({ project_uuid: 'None', timeline_uuid: 'None', targets: ['irods'] });
  });

  it('defaults to the TASKFLOW_TARGETS setting and the service URL from settings', async () => {
    await api({ targets: ['irods'] }).submit(null, 'role_update_irods_batch', { roles_add: [], roles_delete: [] });
    const [latest] = await runsOf('None', 'role_update_irods_batch');
    expect(latest.meta).toMatchObject({ targets: ['irods'], mode: 'sync', force_fail: false, sodar_url: site.url });
  });

  it('raises FlowSubmitException with the service reason for a forced failure, and rolls back', async () => {
    const { project } = await createProject();
    const user = new Uuid();
    site.seedUser({ user_uuid: user.hex, username: 'forced' });
    const err = await api()
      .submit(project, 'role_update', { username: 'forced', user_uuid: user, role_pk: 3 }, { sodarUrl: site.url, forceFail: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskflowAPI.FlowSubmitException);
    const message = (err as Error).message;
    expect(message).toMatch(/^Taskflow "role_update" failed! Reason: "Error running flow: /);
    const reason = /Reason: "(.*)"$/s.exec(message)![1];
    expect([...reason].length).toBeLessThanOrEqual(256);
    expect((err as FlowSubmitException).failure).toMatchObject({ status: 500 });
    const [run] = await runsOf(project.hex, 'role_update');
    expect(run).toMatchObject({ status: 'rolled_back', meta: { force_fail: true } });
  });

  it('says why the service refused: unknown flow, bad secret, validation, missing argument', async () => {
    const project = randomUUID();
    await expect(api().submit(project, 'no_such_flow', {})).rejects.toThrow(
      'Taskflow "no_such_flow" failed! Reason: "Flow "no_such_flow" not supported"',
    );
    await expect(api({ sodarSecret: 'wrong' }).submit(project, 'project_create', {})).rejects.toThrow(
      'Taskflow "project_create" failed! Reason: "Not authorized"',
    );
    await expect(api().submit(project, 'project_create', { parent_uuid: randomUUID() })).rejects.toThrow(
      /^Taskflow "project_create" failed! Reason: "Error validating flow: .+"$/,
    );
    await expect(api().submit(project, 'project_create', {}, { targets: [] })).rejects.toThrow(
      'Taskflow "project_create" failed! Reason: "Missing or invalid argument: "targets""',
    );
  });

  it('runs async flows and the outcome reaches the timeline event named by timelineUuid', async () => {
    const { project } = await createProject();
    const event = new Uuid();
    site.seedTimelineEvent({ event_uuid: event.hex, project_uuid: project.hex });
    await expect(
      api().submit(project, 'data_delete', { paths: [] }, { requestMode: 'async', timelineUuid: event, sodarUrl: site.url }),
    ).resolves.toBe(true);
    const history = await until('the timeline status', () => {
      const h = site.state().timeline[event.hex]?.status_history ?? [];
      return h.some((s) => s.status_type === 'OK' || s.status_type === 'FAILED') ? h : undefined;
    });
    expect(history.at(-1)).toMatchObject({ status_type: 'OK', status_desc: 'Async submit OK' });
    const [run] = await runsOf(project.hex, 'data_delete');
    expect(run.meta).toMatchObject({ mode: 'async', timeline_uuid: event.hex });
  });
});

describe('isLocked against the real service', () => {
  it('is true while another process holds the project lock, and a submit then fails', async () => {
    const { project } = await createProject();
    await expect(api().isLocked(project)).resolves.toBe(false);
    const holder = await holdLock(project.hex);
    try {
      await expect(api().isLocked(project)).resolves.toBe(true);
      const user = new Uuid();
      await expect(
        api().submit(project, 'role_update', { username: 'late', user_uuid: user, role_pk: 3 }, { sodarUrl: site.url }),
      ).rejects.toThrow(/^Taskflow "role_update" failed! Reason: "Unable to acquire project lock/);
    } finally {
      await holder.release();
    }
    await expect(api().isLocked(project.hex)).resolves.toBe(false);
  });

  it('raises LockQueryException with a wrong secret', async () => {
    const err = await api({ sodarSecret: 'wrong' }).isLocked(randomUUID()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockQueryException);
    expect((err as LockQueryException).failure.status).toBe(403);
    expect((err as Error).message).toMatch(/Not authorized/);
  });
});

describe('cleanup against the real service', () => {
  it('cleans up in test mode, so the project is gone from the store', async () => {
    const { project } = await createProject();
    await expect(api().cleanup()).resolves.toBe(true);
    // The project's group went with the cleanup: adding a member now fails.
    const user = new Uuid();
    site.seedUser({ user_uuid: user.hex, username: 'after_cleanup' });
    await expect(
      api().submit(project, 'role_update', { username: 'after_cleanup', user_uuid: user, role_pk: 3 }, { targets: ['irods'] }),
    ).rejects.toThrow(FlowSubmitException);
  });

  it('refuses without sending outside test mode', async () => {
    await expect(api({ testMode: false }).cleanup()).rejects.toThrow(ImproperlyConfigured);
  });
});

describe('a service outside test mode, then down', () => {
  it('refuses a cleanup with the wrong secret, then cannot be reached once stopped', async () => {
    const strict = await startServiceProcess({ TASKFLOW_TEST_MODE: '0', TASKFLOW_SODAR_SECRET: 'a-real-secret' });
    const tf = new TaskflowAPI(settingsFor(strict.port), { timeoutMs: 30_000 });
    try {
      const err = await tf.cleanup().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskflowAPI.CleanupException);
      expect((err as Error).message).toBe('Not authorized');
      expect((err as CleanupException).failure.status).toBe(403);
    } finally {
      await strict.stop();
    }
    const where = `http://127.0.0.1:${strict.port}`;
    const submitErr = await tf.submit(randomUUID(), 'project_create', {}).catch((e: unknown) => e);
    expect(submitErr).toBeInstanceOf(FlowSubmitException);
    expect((submitErr as Error).message).toContain(`could not be reached at ${where}/submit`);
    await expect(tf.cleanup()).rejects.toThrow(`could not be reached at ${where}/cleanup`);
    await expect(tf.isLocked(randomUUID())).rejects.toThrow(`could not be reached at ${where}/locks/`);
  });
});
