/**
 * A project's lease passes from one run to the project's next run waiting in
 * the same process, without a release and a take in the lock store; the last
 * run of the burst releases it, so the project is free once its outcome is
 * reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockKey } from '../../src/locks/keys.js';
import type { LeaseLockManager } from '../../src/locks/index.js';
import { startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { zoneCreateBody, zoneMoveBody, type ZoneSpec } from '../support/service-flows.js';
import { waitFor } from '../support/service-wait.js';
import { createZone } from '../support/service-zone.js';

const PROJECT = 'b0b0b0b0-0000-4000-8000-0000000000a1';
let fx: ServiceFixture;

beforeAll(async () => {
  fx = await startServiceFixture();
  await createZone(fx.service.url, fx.site, PROJECT, { zoneUuid: 'zone-base', zoneTitle: 'base', userName: 'zone_user', assayPath: 'study_1/assay_1' });
});
afterAll(async () => {
  await fx?.close();
});

describe('project lease between runs of one project', () => {
  it('a burst of async zone moves takes the lease fewer times than it has runs, and the last one releases it', async () => {
    const store = (fx.service.locks as LeaseLockManager).store;
    const key = lockKey(PROJECT);
    const calls: string[] = [];
    const { tryAcquire, release } = store;
    store.tryAcquire = (k, token, ms) => {
      if (k === key) calls.push('take');
      return tryAcquire.call(store, k, token, ms);
    };
    store.release = (k, token) => {
      if (k === key) calls.push('release');
      return release.call(store, k, token);
    };
    const runs = 6;
    const events: string[] = [];
    const zones: ZoneSpec[] = [];
    for (let i = 0; i < runs; i++) {
      const zone = { zoneUuid: `zone-h${i}`, zoneTitle: `20261205_00000${i}`, userName: 'zone_user', assayPath: 'study_1/assay_1' };
      fx.site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: PROJECT, status: 'CREATING', status_info: '' });
      const event = `event-h${i}`;
      fx.site.seedTimelineEvent({ event_uuid: event, project_uuid: PROJECT });
      zones.push(zone);
      events.push(event);
      expect(await fx.submit(zoneCreateBody(PROJECT, fx.site.url, zone))).toEqual({ status: 200, body: 'True' });
    }
    try {
      // submitted together: accepted in one group, so the later runs wait in the line while the first runs
      const answers = await Promise.all(
        zones.map((zone, i) => fx.submit(zoneMoveBody(PROJECT, fx.site.url, zone, { mode: 'async', timelineUuid: events[i] }))),
      );
      expect(answers.every((a) => a.status === 200 && a.body === 'True')).toBe(true);
      for (const event of events) {
        await waitFor(`timeline of ${event}`, () => fx.site.state().timeline[event]?.status_history.length || undefined);
      }
      expect(events.map((e) => fx.site.state().timeline[e]?.status_history[0]?.status_type)).toEqual(events.map(() => 'OK'));
      // fewer takes than runs: the lease passed from run to run (each run that took it released it once)
      const takes = calls.filter((c) => c === 'take').length;
      expect(takes).toBeGreaterThanOrEqual(1);
      expect(takes).toBeLessThan(runs);
      expect(calls.filter((c) => c === 'release').length).toBe(takes);
      // the last run released it before its report went out
      expect(await fx.service.locks.isLocked(PROJECT)).toBe(false);
    } finally {
      store.tryAcquire = tryAcquire;
      store.release = release;
    }
  });
});
