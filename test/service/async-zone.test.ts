/**
 * Async runs and landing zone failures: timeline and zone status callbacks
 * arrive at the test site with the right statuses, for success and failure;
 * zone flows set the zone status on validation and build failures in sync
 * mode too; validate_only moves run without the project lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { zoneCreateBody, zoneMoveBody, type ZoneSpec } from '../support/service-flows.js';
import { waitFor } from '../support/service-wait.js';
import { createZone } from '../support/service-zone.js';

const PROJECT = 'b0b0b0b0-0000-4000-8000-000000000002';
let fx: ServiceFixture;
let seq = 0;

/** A new zone known to the site (status CREATING) but not yet in the store. */
function newZone(status = 'CREATING'): ZoneSpec {
  seq++;
  const zone = { zoneUuid: `zone-${seq}`, zoneTitle: `20261126_00000${seq}`, userName: 'zone_user', assayPath: 'study_1/assay_1' };
  fx.site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: PROJECT, status, status_info: '' });
  return zone;
}

function newEvent(): string {
  const uuid = `event-${++seq}`;
  fx.site.seedTimelineEvent({ event_uuid: uuid, project_uuid: PROJECT });
  return uuid;
}

const timelineOf = (uuid: string) => fx.site.state().timeline[uuid]?.status_history ?? [];
const zoneOf = (uuid: string) => fx.site.state().zones[uuid];

beforeAll(async () => {
  // above the twelve validate-only checks one test sends at once (the default limit, as SODAR's, is 1)
  fx = await startServiceFixture({ TASKFLOW_ZONE_VALIDATE_LIMIT: '12' });
  await createZone(fx.service.url, fx.site, PROJECT, { zoneUuid: 'zone-base', zoneTitle: 'base', userName: 'zone_user', assayPath: 'study_1/assay_1' });
});
afterAll(async () => {
  await fx?.close();
});

describe('async runs', () => {
  it('success: 200 True at once, then timeline OK "Async submit OK" and the zone ACTIVE', async () => {
    const zone = newZone();
    const event = newEvent();
    const body = { ...zoneCreateBody(PROJECT, fx.site.url, zone), request_mode: 'async', timeline_uuid: event };
    expect(await fx.submit(body)).toEqual({ status: 200, body: 'True' });
    const history = await waitFor('timeline OK', () => (timelineOf(event).length > 0 ? timelineOf(event) : undefined));
    expect(history).toEqual([{ status_type: 'OK', status_desc: 'Async submit OK', extra_data: {} }]);
    expect(zoneOf(zone.zoneUuid).status).toBe('ACTIVE');
    const runs = fx.service.journal.listRuns({ label: PROJECT, flowName: 'landing_zone_create', limit: 10, offset: 0 });
    expect(runs.runs[0].meta).toMatchObject({ mode: 'async', timeline_uuid: event });
  });

  it('failure: timeline FAILED "Error running async flow: ..." and the zone FAILED with the reason', async () => {
    const zone = newZone('ACTIVE'); // on the site, but there is no zone collection in the store
    const event = newEvent();
    const body = zoneMoveBody(PROJECT, fx.site.url, zone, { mode: 'async', timelineUuid: event });
    expect(await fx.submit(body)).toEqual({ status: 200, body: 'True' });
    const history = await waitFor('timeline FAILED', () => (timelineOf(event).length > 0 ? timelineOf(event) : undefined));
    expect(history).toHaveLength(1);
    expect(history[0].status_type).toBe('FAILED');
    expect(history[0].status_desc).toMatch(/^Error running async flow: .*Landing zone collection not found/);
    // the zone collection is looked up while building: the original's build failure text
    expect(zoneOf(zone.zoneUuid)).toMatchObject({ status: 'FAILED' });
    expect(zoneOf(zone.zoneUuid).status_info).toMatch(/^Error building flow: Landing zone collection not found/);
  });

  it('a forced failure in async mode rolls back and reports FAILED', async () => {
    const zone = newZone();
    const event = newEvent();
    const store = await fx.service.store();
    const before = await store.dump();
    const body = { ...zoneCreateBody(PROJECT, fx.site.url, zone), request_mode: 'async', timeline_uuid: event, force_fail: true };
    expect(await fx.submit(body)).toEqual({ status: 200, body: 'True' });
    const history = await waitFor('timeline FAILED', () => (timelineOf(event).length > 0 ? timelineOf(event) : undefined));
    expect(history[0]).toMatchObject({ status_type: 'FAILED' });
    expect(history[0].status_desc).toMatch(/^Error running async flow: .*rolled back/);
    expect(zoneOf(zone.zoneUuid).status).toBe('NOT CREATED');
    expect(zoneOf(zone.zoneUuid).status_info).toMatch(/^Failed to create landing zone: Forced failure.*rolled back/);
    expect(await store.dump()).toEqual(before);
  });
});

describe('landing zone failures in sync mode', () => {
  it('a build failure answers 500 Error building flow and sets the zone FAILED', async () => {
    const zone = newZone('ACTIVE');
    const res = await fx.submit(zoneMoveBody(PROJECT, fx.site.url, zone));
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/^Error building flow: Landing zone collection not found/);
    expect(zoneOf(zone.zoneUuid)).toMatchObject({ status: 'FAILED', status_info: res.body });
  });

  it('a validation failure answers 400 and sets the zone status (NOT CREATED for create)', async () => {
    const zone = newZone();
    const body = zoneCreateBody(PROJECT, fx.site.url, zone);
    (body.flow_data as Record<string, unknown>).user_name = '';
    const res = await fx.submit(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/^Error validating flow: /);
    const reason = res.body.slice('Error validating flow: '.length);
    expect(zoneOf(zone.zoneUuid)).toMatchObject({ status: 'NOT CREATED', status_info: `Failed to create landing zone: ${reason}` });
  });

  it('a path-traversing zone is refused and touches nothing', async () => {
    const zone = { ...newZone(), assayPath: '../../../other' };
    const store = await fx.service.store();
    const before = await store.dump();
    const res = await fx.submit(zoneCreateBody(PROJECT, fx.site.url, zone));
    expect(res.status).toBe(400);
    expect(await store.dump()).toEqual(before);
  });
});

describe('validate_only moves', () => {
  it('run without the project lock', async () => {
    const zone = newZone();
    expect((await fx.submit(zoneCreateBody(PROJECT, fx.site.url, zone))).status).toBe(200);
    const held = await fx.service.locks.acquire(PROJECT, { retryCount: 0, retryIntervalMs: 0 });
    try {
      expect(await fx.submit(zoneMoveBody(PROJECT, fx.site.url, zone, { validateOnly: true }))).toEqual({ status: 200, body: 'True' });
      expect(zoneOf(zone.zoneUuid).status).toBe('ACTIVE');
      expect(zoneOf(zone.zoneUuid).status_info).toBe('Successfully validated 0 files');
      // a real move needs the lock
      expect(await fx.submit(zoneMoveBody(PROJECT, fx.site.url, zone))).toEqual({ status: 503, body: 'Unable to acquire project lock' });
      expect(zoneOf(zone.zoneUuid)).toMatchObject({ status: 'FAILED', status_info: 'Failed to move landing zone files: Unable to acquire project lock' });
    } finally {
      await held.release();
    }
  });

  it('many at once within TASKFLOW_ZONE_VALIDATE_LIMIT all succeed (bounded, queued, never refused)', async () => {
    const zone = newZone();
    expect((await fx.submit(zoneCreateBody(PROJECT, fx.site.url, zone))).status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => fx.submit(zoneMoveBody(PROJECT, fx.site.url, zone, { validateOnly: true }))),
    );
    expect(answers.every((a) => a.status === 200 && a.body === 'True')).toBe(true);
  });
});
