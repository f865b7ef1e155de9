/**
 * A site change whose flow is interrupted by a crash: the site changes its
 * rows, submits the flow, and both processes are SIGKILLed while the run is
 * held at a task boundary. After the restart the service's recovery rolls
 * the store back, reports the run FAILED to the site, and the site must take
 * its change back too: site rows and store as before the request.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SiteApi } from '../../src/host/client.js';
import { openDb } from '../../src/host/db/index.js';
import { PAUSE_ENV } from '../../src/service/test-hooks.js';
import { hostState } from '../support/host-state.js';
import { restartBed, spawnCli, type CliProcess } from '../support/host-processes.js';

const running: CliProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Waits until a FAILED status is in the site's timeline: the recovery's
 * report, or what the site read from the service at its start; the site
 * settles its change in the same transaction.
 */
async function failureReported(dir: string): Promise<void> {
  await untilSiteRows(dir, "SELECT event_uuid FROM timeline_statuses WHERE status_type = 'FAILED'", (n) => n > 0, 'no FAILED report reached the site');
}

/** Polls the site database of `dir` (opened afresh each time, as another process writes it) until `sql`'s row count passes `ok`. */
async function untilSiteRows(dir: string, sql: string, ok: (rows: number) => boolean, never: string): Promise<void> {
  const rows = async (): Promise<number> => {
    const db = await openDb(loadConfig({ TASKFLOW_DATA_DIR: dir }));
    try {
      return (await db.query(sql)).length;
    } finally {
      await db.close();
    }
  };
  const deadline = Date.now() + 20_000;
  while (!ok(await rows())) {
    expect(Date.now(), never).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Ids {
  proj: string;
  bob: string;
  bobRole: string;
  carol: string;
}

const cases: [string, string, (ids: Ids) => [string, string, unknown]][] = [
  ['project update', 'project_update:-2', (ids) => ['PATCH', `project/api/update/${ids.proj}`, { title: 'Renamed', description: 'after', settings: { 'app.x': 2 } }]],
  ['role change', 'role_update:0', (ids) => ['PATCH', `project/api/roles/update/${ids.bobRole}`, { role: 'project guest' }]],
  ['role add', 'role_update:-2', (ids) => ['POST', `project/api/roles/create/${ids.proj}`, { role: 'project guest', user: ids.carol }]],
];

describe('a site change whose flow a crash interrupted (service and site SIGKILLed, restarted after the lease ran out)', () => {
  it.each(cases)('%s: the site takes its change back as the store is rolled back', async (_name, pauseAt, request) => {
    const { dir, api, ids, serve, site } = await restartBed(
      'host-crash-undo-',
      { TASKFLOW_LOCK_LEASE: '1' },
      async (api): Promise<Ids> => {
        const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
        const proj = await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid, description: 'before', settings: { 'app.x': 1 } });
        const bob = await api.post('project/api/users/create', { username: 'bob' });
        const carol = await api.post('project/api/users/create', { username: 'carol' });
        const role = await api.post(`project/api/roles/create/${String(proj.sodar_uuid)}`, { role: 'project contributor', user: bob.sodar_uuid });
        return { proj: String(proj.sodar_uuid), bob: String(bob.sodar_uuid), bobRole: String(role.sodar_uuid), carol: String(carol.sodar_uuid) };
      },
      { running, dirs },
    );
    const before = await hostState(dir);

    const pausing = serve({ [PAUSE_ENV]: pauseAt });
    await pausing.waitFor(/taskflow service listening/);
    const site1 = site();
    await site1.waitFor(/taskflow site listening/);
    const [method, path, body] = request(ids);
    const answer = api.request(method, path, body).catch((e: unknown) => e);
    await pausing.waitFor(/TASKFLOW_TEST_PAUSED run=/);
    // the site's change is in its rows (and its undo pending) while the flow is held
    expect((await hostState(dir)).site).not.toEqual(before.site);
    await site1.stop('SIGKILL');
    await pausing.stop('SIGKILL');
    await answer;

    // The site first, so the service's recovery (once the dead owner's lease has run out) can report to it.
    const site2 = site();
    await site2.waitFor(/taskflow site listening/);
    const service2 = serve();
    await service2.waitFor(/recovered unfinished run/);
    await failureReported(dir);
    await site2.stop();
    await service2.stop();
    const after = await hostState(dir);
    expect(after.site).toEqual(before.site);
    expect(after.store).toEqual(before.store);
  }, 90_000);
});

describe('the same under taskflow start (service and site in one process)', () => {
  it('project update: a recovery whose report no site received still takes the change back at the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-crash-undo-start-'));
    dirs.push(dir);
    const env = { TASKFLOW_DATA_DIR: dir, TASKFLOW_SODAR_SECRET: 'e2e-secret', TASKFLOW_TEST_MODE: 'true', TASKFLOW_LOCK_LEASE: '1', TASKFLOW_IRODS_LISTEN: 'off' };
    const start = async (ports: [string, string], extra: Record<string, string> = {}): Promise<{ p: CliProcess; service: string; site: string }> => {
      const p = spawnCli(['start', '--port', ports[0], '--site-port', ports[1]], { ...env, ...extra });
      running.push(p);
      const service = (await p.waitFor(/Taskflow service: (http\S+)/))[1];
      const site = (await p.waitFor(/Site: (http\S+)/))[1];
      return { p, service, site };
    };
    const first = await start(['0', '0']);
    // the same ports on every start: the journaled run calls back the site's address
    const ports: [string, string] = [new URL(first.service).port, new URL(first.site).port];
    const api = new SiteApi(first.site, readFileSync(join(dir, 'admin-token'), 'utf8').trim());
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    // no settings: their task's revert calls the site, which is down while the service alone recovers
    const proj = await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid, description: 'before' });
    await first.p.stop();
    const before = await hostState(dir);

    const second = await start(ports, { [PAUSE_ENV]: 'project_update:-2' });
    const answer = api.request('PATCH', `project/api/update/${String(proj.sodar_uuid)}`, { title: 'Renamed', description: 'after' }).catch((e: unknown) => e);
    await second.p.waitFor(/TASKFLOW_TEST_PAUSED run=/);
    await second.p.stop('SIGKILL');
    await answer;
    expect((await hostState(dir)).site).not.toEqual(before.site);

    // The service alone recovers the run (at its start or once the lease ran out) while no site listens:
    // its report is lost, as when `taskflow start` recovers before its site is up.
    const alone = spawnCli(['serve', '--port', ports[0]], env);
    running.push(alone);
    await alone.waitFor(/recovered unfinished run/);
    await alone.stop();
    expect((await hostState(dir)).site).not.toEqual(before.site);

    const third = await start(ports);
    await failureReported(dir);
    await third.p.stop();
    const after = await hostState(dir);
    expect(after.site).toEqual(before.site);
    expect(after.store).toEqual(before.store);
  }, 90_000);
});

describe('a service that dies with the flow done while the site lives', () => {
  it('leaves the site its change, which the run\'s completion settles: both halves changed, none taken back', async () => {
    // leases of 1 s; the site looks at the service's runs every 0.2 s
    const b = await restartBed(
      'host-crash-undo-kept-',
      { TASKFLOW_LOCK_LEASE: '1', SODAR_SITE_UNDO_LOOK: '0.2' },
      async (api) => {
        const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
        return String((await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid })).sodar_uuid);
      },
      { running, dirs },
    );
    const { dir, api, ids: proj } = b;
    const before = await hostState(dir);

    // held after the flow's last task: everything applied and journaled, the answer not yet sent
    const pausing = b.serve({ [PAUSE_ENV]: 'project_update:-1' });
    await pausing.waitFor(/taskflow service listening/);
    const site = b.site();
    await site.waitFor(/taskflow site listening/);
    const answer = api.request('PATCH', `project/api/update/${proj}`, { title: 'Renamed' }).catch((e: unknown) => e);
    await pausing.waitFor(/TASKFLOW_TEST_PAUSED run=/);
    await pausing.stop('SIGKILL');
    // the submit was sent whole: the site cannot know whether the flow ran, and keeps its change
    expect(String(await answer)).toMatch(/may have received the request/);
    expect((await api.get(`project/api/retrieve/${proj}`)).title).toBe('Renamed');

    // the service comes back and completes the run (all its tasks were done); the site hears of it
    const service = b.serve();
    await service.waitFor(/recovered finished run.*"outcome":"completed"|"outcome":"completed".*recovered finished run/);
    await untilSiteRows(dir, 'SELECT event_uuid FROM pending_undos', (n) => n === 0, 'the change was never settled');
    expect((await api.get(`project/api/retrieve/${proj}`)).title).toBe('Renamed');
    await site.stop();
    await service.stop();
    const after = await hostState(dir);
    expect(after.site).not.toEqual(before.site);
    expect(after.store.filter((l) => l.includes('Renamed')).length).toBeGreaterThan(0);
  }, 90_000);
});
