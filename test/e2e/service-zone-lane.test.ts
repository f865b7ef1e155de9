/**
 * A project's landing zone creations run one at a time, without the project
 * lock: the first zones of a project create its landing zone root and give
 * the project group read on it, and a creation that fails must not take
 * those back from another. A `taskflow serve` process and the test site;
 * the first creation is held by the pause hook once it has set up the root.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { landingZoneRoot, projectGroup } from '../../src/flows/layout.js';
import { PAUSE_ENV } from '../../src/service/test-hooks.js';
import { openStore } from '../../src/store/index.js';
import { getWithSecret, postJson } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody, zoneCreateBody, type ZoneSpec } from '../support/service-flows.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import { waitFor } from '../support/service-wait.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'c3c3c3c3-0000-4000-8000-000000000033';
const ASSAY = 'study_1/assay_1';
const zoneA: ZoneSpec = { zoneUuid: 'zone-a000-4000-8000-000000000033', zoneTitle: '20261206_080000', userName: 'alice', assayPath: ASSAY };
const zoneB: ZoneSpec = { zoneUuid: 'zone-b000-4000-8000-000000000033', zoneTitle: '20261206_080001', userName: 'bob', assayPath: ASSAY };
const zoneC: ZoneSpec = { zoneUuid: 'zone-c000-4000-8000-000000000033', zoneTitle: '20261206_080002', userName: 'bob', assayPath: ASSAY };
const zoneD: ZoneSpec = { zoneUuid: 'zone-d000-4000-8000-000000000033', zoneTitle: '20261206_080003', userName: 'dora', assayPath: ASSAY };
let site: TestSite;
const bed = serviceTestBed('taskflow-zone-lane-', (b) => {
  ({ site } = b);
  site.seedProject({ project_uuid: PROJECT, title: 'Zone lane project' });
  site.seedSheet({ project_uuid: PROJECT });
  site.seedUser({ user_uuid: 'uuid-erin', username: 'erin' });
  for (const z of [zoneA, zoneB, zoneC, zoneD]) site.seedZone({ zone_uuid: z.zoneUuid, project_uuid: PROJECT, status: 'CREATING', status_info: '' });
});

it("runs a project's zone creations one at a time; the first fails and takes back only what it made", async () => {
  const env = bed.env(bed.dataDir('data'), { [PAUSE_ENV]: 'landing_zone_create:store.setAccess' });
  const service = await bed.spawn(env);
  const submit = (body: Record<string, unknown>) => postJson(`${service.url}/submit`, body);
  expect(await submit(projectCreateBody(PROJECT, site.url))).toEqual({ status: 200, body: 'True' });
  const sheet = { ...projectCreateBody(PROJECT, site.url), flow_name: 'sheet_colls_create', targets: ['irods', 'sodar'], flow_data: { colls: [ASSAY] } };
  expect(await submit(sheet)).toEqual({ status: 200, body: 'True' });

  // zone A creates the landing zone root, gives the group read, and is held there
  const first = submit({ ...zoneCreateBody(PROJECT, site.url, zoneA), force_fail: true });
  await service.waitForLine(/TASKFLOW_TEST_PAUSED run=/);
  // zone B's creation finds the lane taken (the service is set to wait for no lock): refused, nothing done
  expect(await submit(zoneCreateBody(PROJECT, site.url, zoneB))).toEqual({ status: 503, body: 'Unable to acquire project lock' });
  expect(site.state().zones[zoneB.zoneUuid]?.status).toBe('NOT CREATED');
  // an async creation is accepted and waits for the lane as long as it takes
  site.seedTimelineEvent({ event_uuid: 'event-zone-d', project_uuid: PROJECT });
  const waiting = { ...zoneCreateBody(PROJECT, site.url, zoneD), request_mode: 'async', timeline_uuid: 'event-zone-d' };
  expect(await submit(waiting)).toEqual({ status: 200, body: 'True' });
  // the lane is not the project lock: a role update of the project runs meanwhile
  expect(await submit(roleUpdateBody(PROJECT, site.url, 'erin'))).toEqual({ status: 200, body: 'True' });

  service.proc.kill('SIGUSR2');
  const failed = await first;
  expect(failed.status).toBe(500);
  expect(failed.body).toMatch(/all changes were rolled back$/);

  // the waiting creation ran once the lane was free
  expect(await waitFor('zone D created', () => site.state().timeline['event-zone-d']?.status_history.at(-1)?.status_type)).toBe('OK');
  expect(site.state().zones[zoneD.zoneUuid]?.status).toBe('ACTIVE');
  // and one created after it runs alone too
  expect(await submit(zoneCreateBody(PROJECT, site.url, zoneC))).toEqual({ status: 200, body: 'True' });
  expect(site.state().zones[zoneC.zoneUuid]?.status).toBe('ACTIVE');
  expect((await getWithSecret(`${service.url}/runs?project=${PROJECT}&status=revert_failed`)).json.total).toBe(0);
  const config = loadConfig(env);
  const store = await openStore(config);
  try {
    const root = landingZoneRoot({ zone: config.irodsZone, rootPath: config.irodsRootPath }, PROJECT);
    const acl = (await store.dump()).map((l) => JSON.parse(l) as { t: string; path: string; name: string; level: string });
    expect(acl.find((o) => o.t === 'acl' && o.path === root && o.name === projectGroup(PROJECT))?.level).toBe('read');
  } finally {
    await store.close();
  }
}, 60_000);
