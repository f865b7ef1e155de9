/**
 * The line of async runs, against `taskflow serve` processes: accepted runs
 * survive a SIGKILL and run after the restart in their submit order, each
 * once; a busy project keeps its runs waiting instead of failing them; other
 * projects run meanwhile; a waiting run can be cancelled. A project is kept
 * busy by holding its lock from this test process (as a peer service
 * would), so nothing waits on time.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TaskflowAPI } from '../../src/backend/index.js';
import { loadBackendSettings, loadConfig } from '../../src/config.js';
import { createLockManager } from '../../src/locks/index.js';
import type { LockHandle } from '../../src/locks/types.js';
import { CLI_PATH, TEST_SECRET, getWithSecret, postJson, type ServiceProcess } from '../support/service-harness.js';
import { zoneCreateBody, zoneMoveBody, type ZoneSpec } from '../support/service-flows.js';
import { startSiteGate } from '../support/service-gate.js';
import { createZone, uploadToZone, writeZoneFiles } from '../support/service-zone.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

let site: TestSite;
let work: string;
const bed = serviceTestBed('taskflow-queue-', (b) => ({ site, work } = b));

const project = (n: number): string => `9ee00000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A service on a data folder of its own, with the env it was started with. */
async function serviceIn(name: string, extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; service: ServiceProcess }> {
  const env = bed.env(bed.dataDir(name), extra);
  return { env, service: await bed.spawn(env) };
}

/** Holds the locks of `projects` from this process, as a peer service running on them would. */
async function holdLocks(env: Record<string, string>, projects: string[]): Promise<{ release(): Promise<void> }> {
  const locks = createLockManager(loadConfig(env));
  const held: LockHandle[] = [];
  for (const p of projects) held.push(await locks.acquire(p, { retryCount: 0, retryIntervalMs: 0 }));
  const release = async (): Promise<void> => {
    await Promise.all(held.splice(0).map((h) => h.release()));
    await locks.close();
  };
  onTestFinished(release);
  return { release };
}

/**
 * Creates project `projectUuid` with `count` empty zones (named by `tag`) through
 * the service; an empty zone's move runs quickly and takes the project lock.
 * (Zone moves and data_delete are the async flows that take the lock.)
 */
async function zonesIn(url: string, projectUuid: string, tag: string, count: number): Promise<ZoneSpec[]> {
  const zones: ZoneSpec[] = Array.from({ length: count }, (_, i) => ({
    zoneUuid: `zone-${tag}-${String(i).padStart(2, '0')}`,
    zoneTitle: `20261205_0000${String(i).padStart(2, '0')}`,
    userName: 'zone_user',
    assayPath: 'study_1/assay_1',
  }));
  await createZone(url, site, projectUuid, zones[0]);
  for (const z of zones.slice(1)) {
    site.seedZone({ zone_uuid: z.zoneUuid, project_uuid: projectUuid, status: 'CREATING', status_info: '' });
    expect(await postJson(`${url}/submit`, zoneCreateBody(projectUuid, site.url, z))).toEqual({ status: 200, body: 'True' });
  }
  return zones;
}

async function submitOk(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await postJson(`${url}/submit`, body);
  expect(res, `${String(body.flow_name)} of ${String(body.project_uuid)}`).toEqual({ status: 200, body: 'True' });
}

/** The runs of a project and flow, in the order they started, as [key, status]. */
async function runsOf(url: string, projectUuid: string, flow: string, key: (flowData: Record<string, unknown>) => string): Promise<Array<[string, string]>> {
  const res = await getWithSecret(`${url}/runs?project=${projectUuid}&flow=${flow}&limit=500`);
  return (res.json.runs as Array<{ status: string; meta: { flow_data: Record<string, unknown> } }>)
    .reverse()
    .map((r) => [key(r.meta.flow_data), r.status]);
}

const zoneOf = (d: Record<string, unknown>): string => String(d.zone_uuid);

/** Runs the built CLI with the service's environment. */
async function cli(env: Record<string, string>, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env } });
  return stdout;
}

async function queueOf(url: string, projectUuid: string): Promise<{ running: Array<{ run_id: string }>; waiting: Array<{ run_id: string; position: number }> }> {
  const res = await getWithSecret(`${url}/queue?project=${projectUuid}`);
  expect(res.status).toBe(200);
  return res.json.projects[0];
}

describe('async runs wait in line', () => {
  it('SIGKILL with runs waiting for several projects: after the restart each runs once, in submit order; the started move is reverted', async () => {
    const { env, service } = await serviceIn('killed', { TASKFLOW_LOCK_LEASE: '1', TASKFLOW_ASYNC_CONCURRENCY: '5', TASKFLOW_TEST_FREEZE_AT: 'landing_zone_move:done:-4' });
    const busy = [project(11), project(12), project(13)];
    const zonesOf = new Map<string, ZoneSpec[]>();
    for (const p of busy) zonesOf.set(p, await zonesIn(service.url, p, `k${p.slice(-2)}`, 4));
    const zoneProject = project(10);
    const zone: ZoneSpec = { zoneUuid: 'zone-killed', zoneTitle: '20261205_000010', userName: 'zone_user', assayPath: 'study_1/assay_1' };
    await createZone(service.url, site, zoneProject, zone);

    const held = await holdLocks(env, busy);
    for (let i = 0; i < 4; i++) for (const p of busy) await submitOk(service.url, zoneMoveBody(p, site.url, zonesOf.get(p)![i], { mode: 'async' }));
    for (const p of busy) expect((await queueOf(service.url, p)).waiting).toHaveLength(3);
    site.seedTimelineEvent({ event_uuid: 'event-killed', project_uuid: zoneProject });
    await submitOk(service.url, zoneMoveBody(zoneProject, site.url, zone, { mode: 'async', timelineUuid: 'event-killed' }));
    await service.waitForLine(/TASKFLOW_TEST_FROZEN/);
    service.proc.kill('SIGKILL');
    await service.exited;

    await held.release();
    const restarted = await bed.spawn({ ...env, TASKFLOW_TEST_FREEZE_AT: '' });
    for (const p of busy) {
      const expected = zonesOf.get(p)!.map((z): [string, string] => [z.zoneUuid, 'completed']);
      await waitFor(`the runs of ${p}`, async () => (await runsOf(restarted.url, p, 'landing_zone_move', zoneOf)).filter(([, st]) => st !== 'running').length === 4, 30_000);
      expect(await runsOf(restarted.url, p, 'landing_zone_move', zoneOf)).toEqual(expected);
      for (const z of zonesOf.get(p)!) expect(site.state().zones[z.zoneUuid].status).toBe('MOVED');
    }
    await waitFor('the killed move to be reverted', async () => (await runsOf(restarted.url, zoneProject, 'landing_zone_move', zoneOf))[0]?.[1] === 'rolled_back', 30_000);
    await waitFor('the zone to be reported FAILED', () => site.state().zones[zone.zoneUuid].status === 'FAILED');
    expect(await runsOf(restarted.url, zoneProject, 'landing_zone_move', zoneOf)).toEqual([[zone.zoneUuid, 'rolled_back']]);
    await waitFor('the line to be empty', async () => (await getWithSecret(`${restarted.url}/queue`)).json.projects.length === 0);
  });

  it('submits sent at once (group commits) are each answered only when durable: all survive a SIGKILL right after, and run once', async () => {
    const { env, service } = await serviceIn('group', { TASKFLOW_LOCK_LEASE: '1' });
    const p = project(45);
    const zones = await zonesIn(service.url, p, 'group', 24);
    const held = await holdLocks(env, [p]);
    const answers = await Promise.all(zones.map((z) => postJson(`${service.url}/submit`, zoneMoveBody(p, site.url, z, { mode: 'async' }))));
    expect(answers).toEqual(zones.map(() => ({ status: 200, body: 'True' })));
    service.proc.kill('SIGKILL');
    await service.exited;

    await held.release();
    const restarted = await bed.spawn(env);
    for (const z of zones) await waitFor(`${z.zoneUuid} MOVED`, () => site.state().zones[z.zoneUuid].status === 'MOVED', 60_000);
    const runs = await runsOf(restarted.url, p, 'landing_zone_move', zoneOf);
    expect(runs.map(([z]) => z).sort()).toEqual(zones.map((z) => z.zoneUuid).sort());
    expect(runs.every(([, status]) => status === 'completed')).toBe(true);
  });

  it('a graceful stop leaves runs waiting for a busy project in the journal; the next start runs them', async () => {
    const { env, service } = await serviceIn('stopped', { TASKFLOW_LOCK_LEASE: '1' });
    const p = project(40);
    const zones = await zonesIn(service.url, p, 'stopped', 3);
    const held = await holdLocks(env, [p]);
    for (const z of zones) await submitOk(service.url, zoneMoveBody(p, site.url, z, { mode: 'async' }));
    expect((await queueOf(service.url, p)).waiting).toHaveLength(2);
    expect(await service.stop()).toBe(0);
    for (const z of zones) expect(site.state().zones[z.zoneUuid].status).toBe('ACTIVE');
    await held.release();
    const next = await bed.spawn(env);
    for (const z of zones) await waitFor(`${z.zoneUuid} MOVED`, () => site.state().zones[z.zoneUuid].status === 'MOVED', 30_000);
    expect(await runsOf(next.url, p, 'landing_zone_move', zoneOf)).toEqual(zones.map((z) => [z.zoneUuid, 'completed']));
  });

  it('twenty async zone moves on one project all end MOVED, in submit order', async () => {
    const { service } = await serviceIn('twenty');
    const p = project(20);
    const zones = await zonesIn(service.url, p, 'twenty', 20);
    // submitted one after another without waiting for the runs: all twenty are in line while the first moves
    for (const z of zones) await submitOk(service.url, zoneMoveBody(p, site.url, z, { mode: 'async' }));
    for (const z of zones) await waitFor(`${z.zoneUuid} MOVED`, () => site.state().zones[z.zoneUuid].status === 'MOVED', 60_000);
    expect(await runsOf(service.url, p, 'landing_zone_move', zoneOf)).toEqual(zones.map((z) => [z.zoneUuid, 'completed']));
  });

  it('a busy project does not hold up the others: four wait on their locks while a fifth runs', async () => {
    const { env, service } = await serviceIn('five', { TASKFLOW_ASYNC_CONCURRENCY: '5' });
    const ps = [1, 2, 3, 4, 5].map((n) => project(50 + n));
    const zones = new Map<string, ZoneSpec>();
    for (const p of ps) zones.set(p, (await zonesIn(service.url, p, `f${p.slice(-2)}`, 1))[0]);
    const held = await holdLocks(env, ps.slice(0, 4));
    for (const p of ps) await submitOk(service.url, zoneMoveBody(p, site.url, zones.get(p)!, { mode: 'async' }));
    await waitFor('the free project to run', async () => (await runsOf(service.url, ps[4], 'landing_zone_move', zoneOf))[0]?.[1] === 'completed');
    // the four busy ones are each running (holding a slot, waiting for the lock), none behind another
    for (const p of ps.slice(0, 4)) {
      const line = await queueOf(service.url, p);
      expect(line.running).toHaveLength(1);
      expect(line.waiting).toEqual([]);
    }
    await held.release();
    for (const p of ps.slice(0, 4)) {
      await waitFor(`${p} to run`, async () => (await runsOf(service.url, p, 'landing_zone_move', zoneOf))[0]?.[1] === 'completed');
    }
  });

  it('a cancelled waiting run never runs; its timeline says CANCEL and its zone is ACTIVE again', async () => {
    const { env, service } = await serviceIn('cancel');
    const p = project(30);
    const [first, zone, third] = await zonesIn(service.url, p, 'cancel', 3);
    const held = await holdLocks(env, [p]);
    await submitOk(service.url, zoneMoveBody(p, site.url, first, { mode: 'async' }));
    site.seedTimelineEvent({ event_uuid: 'event-cancel', project_uuid: p });
    await submitOk(service.url, zoneMoveBody(p, site.url, zone, { mode: 'async', timelineUuid: 'event-cancel' }));
    site.seedTimelineEvent({ event_uuid: 'event-cancel-cli', project_uuid: p });
    await submitOk(service.url, zoneMoveBody(p, site.url, third, { mode: 'async', timelineUuid: 'event-cancel-cli' }));

    // the line, three ways: the service, the backend API, the CLI (from the journal)
    const line = await queueOf(service.url, p);
    expect(line.running).toHaveLength(1);
    expect(line.waiting.map((w) => w.position)).toEqual([1, 2]);
    const [moveRun, cliRun] = line.waiting.map((w) => w.run_id);
    const port = Number(new URL(service.url).port);
    const tf = new TaskflowAPI({ ...loadBackendSettings({}), backendHost: 'http://127.0.0.1', backendPort: port, sodarSecret: TEST_SECRET, testMode: true });
    expect(await tf.projectQueue(p)).toEqual({
      projectUuid: p,
      running: [expect.objectContaining({ runId: line.running[0].run_id, flowName: 'landing_zone_move' })],
      waiting: [expect.objectContaining({ runId: moveRun, position: 1 }), expect.objectContaining({ runId: cliRun, position: 2 })],
    });
    // the CLI reads the journal, with the same rule: the run with its turn (waiting for the lock) is running there too
    expect(JSON.parse(await cli(env, ['queue', '--project', p, '--json']))).toEqual((await getWithSecret(`${service.url}/queue?project=${p}`)).json);
    expect(await cli(env, ['queue'])).toMatch(new RegExp(`${p}\\s+running\\s+${line.running[0].run_id}\\s+landing_zone_move`));
    expect(await cli(env, ['queue'])).toMatch(new RegExp(`${p}\\s+waiting\\s+2\\s+${cliRun}\\s+landing_zone_move`));

    const refused = await fetch(`${service.url}/runs/${moveRun}`, { method: 'DELETE' });
    expect(refused.status).toBe(403);
    const running = await fetch(`${service.url}/runs/${line.running[0].run_id}`, { method: 'DELETE', headers: { 'x-taskflow-secret': TEST_SECRET } });
    expect(running.status).toBe(409);
    const cancelled = await fetch(`${service.url}/runs/${moveRun}`, { method: 'DELETE', headers: { 'x-taskflow-secret': TEST_SECRET } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toEqual({ run_id: moveRun, cancelled: true });
    // the CLI cancels in the journal; asked again, through the service, the run is no longer in line
    expect(await cli(env, ['runs', 'cancel', cliRun])).toBe(`run ${cliRun}: cancelled\n`);
    await expect(cli(env, ['runs', 'cancel', cliRun, '--url', service.url])).rejects.toThrow(/not cancelled \(404\)/);
    await expect(cli(env, ['runs', 'cancel', line.running[0].run_id])).rejects.toThrow(/not cancelled: it runs or has its turn/);
    for (const [event, z] of [['event-cancel', zone], ['event-cancel-cli', third]] as const) {
      expect(site.state().timeline[event].status_history.map((h) => [h.status_type, h.status_desc])).toEqual([
        ['CANCEL', 'Cancelled while waiting in line; nothing was changed'],
      ]);
      const zoneCalls = site.calls.filter((c) => c.endpoint === 'landingzones/taskflow/status/set' && c.fields.zone_uuid === z.zoneUuid);
      expect(zoneCalls.at(-1)?.fields.status).toBe('ACTIVE');
    }
    expect((await queueOf(service.url, p)).waiting).toEqual([]);

    await held.release();
    await waitFor('the first run to end', async () => (await runsOf(service.url, p, 'landing_zone_move', zoneOf))[0]?.[1] === 'completed');
    expect(await runsOf(service.url, p, 'landing_zone_move', zoneOf)).toEqual([[first.zoneUuid, 'completed']]);
    expect((await getWithSecret(`${service.url}/runs/${moveRun}`)).status).toBe(404);
    expect(site.state().zones[zone.zoneUuid].status).toBe('ACTIVE');
    expect(site.state().zones[third.zoneUuid].status).toBe('ACTIVE');
  });
});

describe('two services on one data folder', () => {
  it('either one (and the CLI) shows the same line and cancels the other\'s waiting runs; the owner skips them, CANCEL is reported once', async () => {
    const { env, service: owner } = await serviceIn('two', { TASKFLOW_LOG_LEVEL: 'info' });
    const peer = await bed.spawn(env);
    const p = project(35);
    const [first, second, third] = await zonesIn(owner.url, p, 'two', 3);
    const held = await holdLocks(env, [p]);
    await submitOk(owner.url, zoneMoveBody(p, site.url, first, { mode: 'async' }));
    for (const [z, event] of [[second, 'event-two-2'], [third, 'event-two-3']] as const) {
      site.seedTimelineEvent({ event_uuid: event, project_uuid: p });
      await submitOk(owner.url, zoneMoveBody(p, site.url, z, { mode: 'async', timelineUuid: event }));
    }

    // one line, whoever is asked: the owner, its peer, the CLI
    const line = (await getWithSecret(`${owner.url}/queue`)).json;
    expect(line.projects).toHaveLength(1);
    expect((await getWithSecret(`${peer.url}/queue`)).json).toEqual(line);
    expect(JSON.parse(await cli(env, ['queue', '--json']))).toEqual(line);
    const [firstRun] = line.projects[0].running.map((r: { run_id: string }) => r.run_id);
    const [secondRun, thirdRun] = line.projects[0].waiting.map((r: { run_id: string }) => r.run_id);
    expect(line.projects[0].waiting.map((r: { position: number }) => r.position)).toEqual([1, 2]);

    // the peer cancels one of the owner's waiting runs, the CLI the other; the run with its turn is not cancelled
    expect((await fetch(`${peer.url}/runs/${firstRun}`, { method: 'DELETE', headers: { 'x-taskflow-secret': TEST_SECRET } })).status).toBe(409);
    const cancelled = await fetch(`${peer.url}/runs/${secondRun}`, { method: 'DELETE', headers: { 'x-taskflow-secret': TEST_SECRET } });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toEqual({ run_id: secondRun, cancelled: true });
    expect(await cli(env, ['runs', 'cancel', thirdRun])).toBe(`run ${thirdRun}: cancelled\n`);
    expect((await fetch(`${owner.url}/runs/${secondRun}`, { method: 'DELETE', headers: { 'x-taskflow-secret': TEST_SECRET } })).status).toBe(404);
    const after = (await getWithSecret(`${peer.url}/queue?project=${p}`)).json;
    expect(after.projects[0]).toEqual({ ...line.projects[0], waiting: [] });
    expect((await getWithSecret(`${owner.url}/queue`)).json).toEqual(after);
    // the user deletes the zone whose move was cancelled: when the owner comes to that move it cannot even
    // build it, and still says nothing (a cancelled run never reports, so the deleted zone does not turn FAILED)
    await submitOk(peer.url, {
      ...zoneCreateBody(p, site.url, second),
      flow_name: 'landing_zone_delete',
      flow_data: { zone_title: second.zoneTitle, zone_uuid: second.zoneUuid, assay_path: second.assayPath, user_name: second.userName },
    });
    expect(site.state().zones[second.zoneUuid].status).toBe('DELETED');

    // the owner's line reaches them once the first has run: it skips them without a word to the site
    await held.release();
    for (const run of [secondRun, thirdRun]) await owner.waitForLine(new RegExp(`"run":"${run}".*"outcome":"cancelled".*"msg":"async run"`));
    expect(await runsOf(owner.url, p, 'landing_zone_move', zoneOf)).toEqual([[first.zoneUuid, 'completed']]);
    expect((await getWithSecret(`${owner.url}/queue`)).json).toEqual({ projects: [] });
    for (const [event, z, status] of [['event-two-2', second, 'DELETED'], ['event-two-3', third, 'ACTIVE']] as const) {
      expect(site.state().timeline[event].status_history.map((h) => [h.status_type, h.status_desc])).toEqual([
        ['CANCEL', 'Cancelled while waiting in line; nothing was changed'],
      ]);
      expect(site.state().zones[z.zoneUuid].status).toBe(status);
    }
    expect(site.state().zones[first.zoneUuid].status).toBe('MOVED');
  });
});

describe('zone limits', () => {
  it('a second validate-only check of a project while one runs is refused 503 with the limit named; another project is not', async () => {
    const { service } = await serviceIn('validate-limit');
    const [p, other] = [project(60), project(61)];
    const [zone] = await zonesIn(service.url, p, 'vlimit', 1);
    const [otherZone] = await zonesIn(service.url, other, 'vlimit-other', 1);
    // the first check stays in progress (holding its slot) while its zone status call is held
    const gate = await startSiteGate(site.url, ['landingzones/taskflow/status/set']);
    onTestFinished(() => gate.close());
    const first = await postJson(`${service.url}/submit`, { ...zoneMoveBody(p, gate.url, zone, { mode: 'async', validateOnly: true }) });
    expect(first).toEqual({ status: 200, body: 'True' });
    await gate.held();
    const refused = await postJson(`${service.url}/submit`, zoneMoveBody(p, site.url, zone, { validateOnly: true }));
    expect(refused).toEqual({
      status: 503,
      body:
        'Landing zone validation limit per project (1, TASKFLOW_ZONE_VALIDATE_LIMIT) reached, please wait for ongoing validation jobs to finish before initiating new ones',
    });
    expect(await postJson(`${service.url}/submit`, zoneMoveBody(other, site.url, otherZone, { validateOnly: true }))).toEqual({ status: 200, body: 'True' });
    gate.open();
    await waitFor('the first check to end', async () => (await runsOf(service.url, p, 'landing_zone_move', zoneOf))[0]?.[1] === 'completed');
    await waitFor('its slot to be free', async () => (await getWithSecret(`${service.url}/queue?project=${p}`)).json.projects[0].running.length === 0);
    expect(await postJson(`${service.url}/submit`, zoneMoveBody(p, site.url, zone, { validateOnly: true }))).toEqual({ status: 200, body: 'True' });
  });

  it('a zone with more files than TASKFLOW_ZONE_FILE_LIMIT is refused 400 with the limit named, and left as it was', async () => {
    const { env, service } = await serviceIn('file-limit', { TASKFLOW_ZONE_FILE_LIMIT: '2' });
    const p = project(70);
    const [small, big] = await zonesIn(service.url, p, 'flimit', 2);
    const config = loadConfig(env);
    expect(await uploadToZone(config, p, small, writeZoneFiles(join(work, 'flimit-small'), 2, 16))).toBe(4);
    const bigFiles = join(work, 'flimit-big');
    expect(await uploadToZone(config, p, big, writeZoneFiles(bigFiles, 3, 16))).toBe(6);
    const statusCalls = (): number => site.calls.filter((c) => c.fields.zone_uuid === big.zoneUuid).length;
    const before = statusCalls();
    for (const mode of ['sync', 'async'] as const) {
      for (const validateOnly of [false, true]) {
        expect(await postJson(`${service.url}/submit`, zoneMoveBody(p, site.url, big, { mode, validateOnly }))).toEqual({
          status: 400,
          body: 'Landing zone holds 3 files, more than the limit of 2 files per zone (TASKFLOW_ZONE_FILE_LIMIT); split the upload into several zones',
        });
      }
    }
    expect(statusCalls()).toBe(before);
    expect(await runsOf(service.url, p, 'landing_zone_move', zoneOf)).toEqual([]);
    expect(await postJson(`${service.url}/submit`, zoneMoveBody(p, site.url, small, {}))).toEqual({ status: 200, body: 'True' });
    expect(site.state().zones[small.zoneUuid].status).toBe('MOVED');
  });
});
