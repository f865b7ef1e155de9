/**
 * Reports that a crash lost: an async run whose final record is durable but
 * whose process dies before its outcome reaches the site (the test hook
 * TASKFLOW_TEST_HOLD_REPORT holds the run exactly there, the test SIGKILLs
 * the process) is reported by the service that takes over, once; a run
 * reported (and marked so) before the kill is not reported again; and a
 * live process's run whose report is still on its way is left to it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { postJson, unreportedRuns } from '../support/service-harness.js';
import { zoneCreateBody, zoneMoveBody } from '../support/service-flows.js';
import { createZone, defaultZone, uploadToZone, writeZoneFiles } from '../support/service-zone.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

let site: TestSite;
let work: string;
const bed = serviceTestBed('taskflow-unreported-', (b) => ({ site, work } = b));

const HOLD = { TASKFLOW_TEST_HOLD_REPORT: 'landing_zone_move' };
const TAKEN_OVER = /was never reported; reporting it/;

/** The timeline statuses the site holds for `event`, oldest first. */
const statuses = (event: string): string[] => site.state().timeline[event].status_history.map((h) => h.status_type);


/** A project with a zone holding a few files, through `serviceUrl`. */
async function zoneWithFiles(serviceUrl: string, dataDir: string, project: string, zoneUuid: string, env: Record<string, string>) {
  const zone = { ...defaultZone(), zoneUuid };
  await createZone(serviceUrl, site, project, zone);
  expect(await uploadToZone(loadConfig(env), project, zone, writeZoneFiles(join(work, zoneUuid), 3, 16))).toBe(6);
  return zone;
}

describe('an async run whose process dies after its final record and before its report', () => {
  it('is reported once by the service after the restart; a run reported before the kill is not reported again', async () => {
    const project = 'aaaa0000-0000-4000-8000-000000000001';
    const dataDir = bed.dataDir('killed');
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const first = await bed.spawn({ ...env, ...HOLD });
    const moved = await zoneWithFiles(first.url, dataDir, project, 'zone-killed-move', env);

    // A run reported normally (a zone created asynchronously); its mark is committed soon after the site's answer.
    const created = { ...defaultZone(), zoneUuid: 'zone-killed-create', zoneTitle: '20261126_130000' };
    site.seedZone({ zone_uuid: created.zoneUuid, project_uuid: project, status: 'CREATING', status_info: '' });
    site.seedTimelineEvent({ event_uuid: 'event-reported', project_uuid: project });
    const createBody = { ...zoneCreateBody(project, site.url, created), request_mode: 'async', timeline_uuid: 'event-reported' };
    expect(await postJson(`${first.url}/submit`, createBody)).toEqual({ status: 200, body: 'True' });
    await waitFor('the zone creation to be reported', () => statuses('event-reported').length > 0);
    await waitFor('its report to be marked in the journal', () => unreportedRuns(dataDir).length === 0 && site.state().zones[created.zoneUuid].status === 'ACTIVE');

    // The move ends (durably) and is held before its report: the kill lands exactly there.
    site.seedTimelineEvent({ event_uuid: 'event-lost', project_uuid: project });
    const moveBody = zoneMoveBody(project, site.url, moved, { mode: 'async', timelineUuid: 'event-lost' });
    expect(await postJson(`${first.url}/submit`, moveBody)).toEqual({ status: 200, body: 'True' });
    const held = await first.waitForLine(/TASKFLOW_TEST_REPORT_HELD/);
    const runId = /run=(\S+)/.exec(held)![1];
    expect(unreportedRuns(dataDir)).toEqual([runId]);
    expect(site.state().zones[moved.zoneUuid].status).toBe('MOVED'); // the flow's own last step
    expect(statuses('event-lost')).toEqual([]);
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await bed.spawn(env);
    await waitFor('the lost report to be sent', () => statuses('event-lost').length > 0);
    await waitFor('the taker to mark it reported', () => unreportedRuns(dataDir).length === 0);
    expect(await second.stop()).toBe(0);

    expect(statuses('event-lost')).toEqual(['OK']);
    expect(statuses('event-reported')).toEqual(['OK']);
    expect(second.lines.filter((l) => TAKEN_OVER.test(l))).toHaveLength(1);
    expect(second.lines.find((l) => TAKEN_OVER.test(l))).toContain(runId);
    // nothing else was said about the zones either: the move's MOVED once (by its flow), no FAILED
    const zoneCalls = site.calls.filter((c) => c.endpoint === 'landingzones/taskflow/status/set' && c.fields.zone_uuid === moved.zoneUuid);
    expect(zoneCalls.filter((c) => c.fields.status === 'MOVED')).toHaveLength(1);
    expect(zoneCalls.filter((c) => c.fields.status === 'FAILED')).toHaveLength(0);

    // a third start finds nothing left to report
    const third = await bed.spawn(env);
    expect(await third.stop()).toBe(0);
    expect(third.lines.filter((l) => TAKEN_OVER.test(l))).toEqual([]);
    expect(statuses('event-lost')).toEqual(['OK']);
    expect(statuses('event-reported')).toEqual(['OK']);
  });
});

describe('a live process\'s finished run whose report is on its way', () => {
  it('is left to it by a peer that looks meanwhile: reported once, by its own process', async () => {
    const project = 'aaaa0000-0000-4000-8000-000000000002';
    const dataDir = bed.dataDir('live');
    // leases of 1 s: the peer looks every quarter second
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const owner = await bed.spawn({ ...env, ...HOLD });
    const zone = await zoneWithFiles(owner.url, dataDir, project, 'zone-live-move', env);
    site.seedTimelineEvent({ event_uuid: 'event-live', project_uuid: project });
    const body = zoneMoveBody(project, site.url, zone, { mode: 'async', timelineUuid: 'event-live' });
    expect(await postJson(`${owner.url}/submit`, body)).toEqual({ status: 200, body: 'True' });
    const runId = /run=(\S+)/.exec(await owner.waitForLine(/TASKFLOW_TEST_REPORT_HELD/))![1];
    expect(unreportedRuns(dataDir)).toEqual([runId]);

    // The peer looks at start-up and then every quarter lease: several looks find the run and leave it.
    const peer = await bed.spawn({ ...env, TASKFLOW_LOG_LEVEL: 'debug' });
    const leftAlone = (): number => peer.lines.filter((l) => /belong to a live process; left to it/.test(l)).length;
    await waitFor('the peer to look three times', () => {
      if (statuses('event-live').length > 0) throw new Error('the peer reported a live owner\'s run');
      return leftAlone() >= 3;
    });
    expect(statuses('event-live')).toEqual([]);
    expect(unreportedRuns(dataDir)).toEqual([runId]);

    owner.proc.kill('SIGUSR2');
    await owner.waitForLine(/TASKFLOW_TEST_REPORT_RELEASED/);
    await waitFor('the owner to report its run', () => statuses('event-live').length > 0);
    await waitFor('the owner to mark it reported', () => unreportedRuns(dataDir).length === 0);
    expect(await peer.stop()).toBe(0);
    expect(await owner.stop()).toBe(0);
    expect(statuses('event-live')).toEqual(['OK']);
    expect(peer.lines.filter((l) => TAKEN_OVER.test(l))).toEqual([]);
  });
});

describe('a live async run whose report the site cannot take for now', () => {
  it('is reported again by its own process at its next look, and marked reported only then', async () => {
    const project = 'aaaa0000-0000-4000-8000-000000000003';
    const dataDir = bed.dataDir('owed');
    // leases of 1 s: the process looks every quarter second
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const service = await bed.spawn(env);
    const zone = await zoneWithFiles(service.url, dataDir, project, 'zone-owed-move', env);
    site.seedTimelineEvent({ event_uuid: 'event-owed', project_uuid: project });
    // a proxy in front of a restarting site answers the run's timeline report
    site.failNext('timeline/taskflow/status/set', 503, 1);
    const body = zoneMoveBody(project, site.url, zone, { mode: 'async', timelineUuid: 'event-owed' });
    expect(await postJson(`${service.url}/submit`, body)).toEqual({ status: 200, body: 'True' });
    await service.waitForLine(/the site cannot be reached for the report of an async run/);
    await waitFor('the report to be delivered', () => statuses('event-owed').length > 0);
    await waitFor('the run to be marked reported', () => unreportedRuns(dataDir).length === 0);
    const sent = site.calls.filter((c) => c.endpoint === 'timeline/taskflow/status/set' && c.fields.event_uuid === 'event-owed');
    expect(sent.map((c) => c.status)).toEqual([503, 200]);
    expect(statuses('event-owed')).toEqual(['OK']);
    expect(site.state().zones[zone.zoneUuid].status).toBe('MOVED');
    expect(await service.stop()).toBe(0);
  });
});
