/**
 * A run whose project lock is lost part-way (its lease gone from the lock
 * store, as when the store was unreachable for longer than a lease) applies
 * no further task: another process may hold the project by now. It fails
 * and rolls back what it did. A `taskflow serve` process with a one-second
 * lease; the run is held by the pause hook while the lease is taken away.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { lockKey } from '../../src/locks/index.js';
import { evictEmbeddedLease } from '../locks/helpers.js';
import { PAUSE_ENV } from '../../src/service/test-hooks.js';
import { openStore } from '../../src/store/index.js';
import { postJson } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../support/service-flows.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'c2c2c2c2-0000-4000-8000-000000000032';
let site: TestSite;
const bed = serviceTestBed('taskflow-lock-lost-', (b) => {
  ({ site } = b);
  site.seedProject({ project_uuid: PROJECT, title: 'Lock lost project' });
  site.seedUser({ user_uuid: 'uuid-erin', username: 'erin' });
});

it('stops a run whose project lock was lost before its next task and rolls it back', async () => {
  const dataDir = bed.dataDir('data');
  // held once the user is in the project group, before the site hears of the role
  const env = bed.env(dataDir, { [PAUSE_ENV]: 'role_update:store.addGroupMember', TASKFLOW_LOCK_LEASE: '1' });
  const service = await bed.spawn(env);
  expect(await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, site.url))).toEqual({ status: 200, body: 'True' });
  const store = await openStore(loadConfig(env));
  try {
    const before = await store.dump();
    const rolesBefore = structuredClone(site.state().roles);
    const answer = postJson(`${service.url}/submit`, roleUpdateBody(PROJECT, site.url, 'erin', ['irods', 'sodar']));
    await service.waitForLine(/TASKFLOW_TEST_PAUSED run=/);

    // the lease disappears from the lock store; the service notices at its next renewal
    expect(evictEmbeddedLease(lockKey(PROJECT), dataDir)).toBe(1);
    await service.waitForLine(/project lock lost during the run/);
    service.proc.kill('SIGUSR2');

    const res = await answer;
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/^Error running flow: the project lock was lost during the run .*stopped before the next task.*; all changes were rolled back$/);
    expect(await store.dump()).toEqual(before);
    expect(site.state().roles).toEqual(rolesBefore);
  } finally {
    await store.close();
  }
}, 60_000);
