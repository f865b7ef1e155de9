/**
 * A submit that wins a project's lock while the journal still holds an
 * unfinished locked run of that project by another service process never
 * runs on top of it: while that process's owner lease is held (it may
 * live: its lock was lost, or it died less than a lease ago) the submit is
 * answered as a busy lock (sync 503, async: zone FAILED and timeline
 * FAILED with the lock text); once the lease is gone the submit recovers
 * the run itself, once, and then runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnerLeases, SqliteLeaseStore, lockDatabasePath, newOwnerId } from '../../src/locks/index.js';
import { runMetaOf } from '../../src/service/run-meta.js';
import { startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody, zoneMoveBody } from '../support/service-flows.js';
import { waitFor } from '../support/service-wait.js';

const PROJECT = 'c0c0c0c0-0000-4000-8000-000000000013';
const STALE_RUN = 'stale-run-13';
let fx: ServiceFixture;

beforeAll(async () => {
  fx = await startServiceFixture();
  fx.site.seedProject({ project_uuid: PROJECT, title: 'Interrupted' });
  expect((await fx.submit(projectCreateBody(PROJECT, fx.site.url))).status).toBe(200);
});
afterAll(async () => {
  await fx?.close();
});

describe('an unfinished locked run of another owner on the project', () => {
  it('refuses a sync submit and keeps an async one waiting while its owner\'s lease is held; recovered, then the async one runs', async () => {
    // Another service process's run of the project, unfinished in the shared journal, its owner lease held.
    const owner = new OwnerLeases(new SqliteLeaseStore(lockDatabasePath(fx.dataDir)), { leaseMs: 60_000, id: newOwnerId() });
    try {
      expect(await owner.hold()).toBe(true);
      const stale = { projectUuid: PROJECT, flowName: 'role_update', flowData: {}, targets: ['irods'], requestMode: 'sync' as const, forceFail: false, timelineUuid: undefined, sodarUrl: fx.site.url };
      fx.service.journal.start({ runId: STALE_RUN, flowName: 'role_update', label: PROJECT, meta: runMetaOf(stale, true, owner.id), tasks: [] });
      const before = await (await fx.service.store()).dump();

      const refused = await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'waiting_user'));
      expect(refused.status).toBe(503);
      expect(refused.body).toBe(
        `Unable to acquire project lock: an interrupted run (${STALE_RUN}) of the project is being recovered; try again shortly ` +
          '(its process may still live, or another process is recovering it)',
      );
      expect(await (await fx.service.store()).dump()).toEqual(before);

      // Async (a zone move: it takes the lock): answered at once, then waits in line instead of failing.
      const zone = { zoneUuid: 'zone-13', zoneTitle: '20261126_000013', userName: 'zone_user', assayPath: 'study_1/assay_1' };
      fx.site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: PROJECT, status: 'ACTIVE', status_info: '' });
      fx.site.seedTimelineEvent({ event_uuid: 'event-13', project_uuid: PROJECT });
      const asyncBody = zoneMoveBody(PROJECT, fx.site.url, zone, { mode: 'async', timelineUuid: 'event-13' });
      expect(await fx.submit(asyncBody)).toEqual({ status: 200, body: 'True' });
      expect(fx.service.journal.queuedRuns({ projectUuid: PROJECT })).toHaveLength(1);
      expect(fx.site.state().timeline['event-13']?.status_history ?? []).toEqual([]);
      expect(fx.service.journal.unfinishedRuns()).toEqual([STALE_RUN]);
    } finally {
      await owner.close(); // its process stops: the lease is gone
    }
    // the waiting move now recovers the dead run and runs
    // the waiting move now recovers the dead run and runs (its zone has no collection here: the build says so, not the lock)
    const history = await waitFor('timeline end', () => fx.site.state().timeline['event-13']?.status_history[0]);
    expect(history.status_desc).toMatch(/^Error running async flow: Error building flow: Landing zone collection not found/);
    expect(fx.service.journal.getRun(STALE_RUN)?.status).toBe('rolled_back');
    // the accepted row goes once the run has ended and been reported: just after the timeline sees it
    await waitFor('the accepted run to leave the line', () => fx.service.journal.queuedRuns({ projectUuid: PROJECT }).length === 0);
    expect(fx.service.journal.queuedRuns({ projectUuid: PROJECT })).toEqual([]);

    expect(await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'waiting_user'))).toEqual({ status: 200, body: 'True' });
    expect(fx.service.journal.getRun(STALE_RUN)?.status).toBe('rolled_back');
    expect(fx.service.journal.unfinishedRuns()).toEqual([]);
    const roleRuns = fx.service.journal.listRuns({ label: PROJECT, flowName: 'role_update', limit: 10, offset: 0 });
    expect(roleRuns.runs.map((r) => [r.runId === STALE_RUN, r.status])).toEqual([
      [false, 'completed'],
      [true, 'rolled_back'],
    ]);
  });
});
