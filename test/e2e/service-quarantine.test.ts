/**
 * A project whose run could not be rolled back stays untouched: not only by
 * submits that arrive after the failure, but by a run that was accepted
 * while the failing run still ran and waited for the project, and by a
 * peer process on the same data folder, which never saw the failure
 * happen. Two `taskflow serve` processes and the test site; the failing
 * run is held by the service's pause hook until the other run waits.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { projectPath } from '../../src/flows/layout.js';
import { PAUSE_ENV } from '../../src/service/test-hooks.js';
import { getWithSecret, postJson } from '../support/service-harness.js';
import { dataDeleteAsyncBody, projectCreateBody, roleUpdateBody } from '../support/service-flows.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'c1c1c1c1-0000-4000-8000-000000000031';
let site: TestSite;
const bed = serviceTestBed('taskflow-quarantine-', (b) => {
  ({ site } = b);
  site.seedProject({ project_uuid: PROJECT, title: 'Quarantine project' });
  for (const name of ['erin', 'dave']) site.seedUser({ user_uuid: `uuid-${name}`, username: name });
});

it('refuses a run that waited behind the failed rollback, and a peer process refuses the project too', async () => {
  const dataDir = bed.dataDir('data');
  const env = bed.env(dataDir, {
    // held once its role is set at the site, before the forced failure rolls it back
    [PAUSE_ENV]: 'role_update:site.setRole',
    TASKFLOW_LOCK_RETRY_COUNT: '600',
  });
  const service = await bed.spawn(env);
  expect(await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, site.url))).toEqual({ status: 200, body: 'True' });

  // run 1: its rollback fails (the site refuses to take the role back once)
  site.failNext('project/taskflow/role/delete', 500, 1);
  const failing = postJson(`${service.url}/submit`, { ...roleUpdateBody(PROJECT, site.url, 'erin', ['irods', 'sodar']), force_fail: true });
  await service.waitForLine(/TASKFLOW_TEST_PAUSED run=/);

  // run 2, accepted while run 1 still runs: it passed the check at its submit and waits for the project
  const event = 'event-delete';
  site.seedTimelineEvent({ event_uuid: event, project_uuid: PROJECT });
  const config = loadConfig(env);
  const path = `${projectPath({ zone: config.irodsZone, rootPath: config.irodsRootPath }, PROJECT)}/nothing-here`;
  expect(await postJson(`${service.url}/submit`, dataDeleteAsyncBody(PROJECT, site.url, [path], event))).toEqual({ status: 200, body: 'True' });

  service.proc.kill('SIGUSR2');
  const failed = await failing;
  expect(failed.status).toBe(500);
  const runs = await getWithSecret(`${service.url}/runs?project=${PROJECT}&status=revert_failed`);
  expect(runs.json.total).toBe(1);
  const runId: string = runs.json.runs[0].runId;
  const refusal = `Unable to acquire project lock: run ${runId} could not be rolled back; retry it with "taskflow runs retry-revert ${runId}"`;

  // run 2 got the project after run 1 and was refused there, before it touched anything
  const last = await waitFor('the waiting run reported', () => site.state().timeline[event]?.status_history.at(-1));
  expect(last).toMatchObject({ status_type: 'FAILED' });
  expect(last.status_desc).toContain(refusal);
  expect((await getWithSecret(`${service.url}/runs?project=${PROJECT}&flow=data_delete`)).json.total).toBe(0);

  // a peer on the same data folder reads the quarantine from the journal
  const peer = await bed.spawn(bed.env(dataDir));
  expect(await postJson(`${peer.url}/submit`, roleUpdateBody(PROJECT, site.url, 'dave'))).toEqual({ status: 503, body: refusal });
  expect((await getWithSecret(`${peer.url}/locks/${PROJECT}`)).json).toEqual({ project_uuid: PROJECT, locked: true });
}, 60_000);
