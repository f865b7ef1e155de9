/**
 * A run whose end the journal cannot record (a full disk at that moment) is
 * answered as it ended, not as a failure that did not happen: its changes
 * are in place, and the next start of the service rolls its record forward.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import { getWithSecret, startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../support/service-flows.js';

const PROJECT = 'c4c4c4c4-0000-4000-8000-000000000034';
let fx: ServiceFixture | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await fx?.close();
});

it('answers a run whose end the journal could not record as it ended; the next start rolls the record forward', async () => {
  fx = await startServiceFixture();
  fx.site.seedProject({ project_uuid: PROJECT, title: 'Journal end project' });
  fx.site.seedUser({ user_uuid: 'uuid-dave', username: 'dave' });
  expect((await fx.submit(projectCreateBody(PROJECT, fx.site.url))).status).toBe(200);

  vi.spyOn(SqliteJournal.prototype, 'finish').mockImplementationOnce(() => {
    throw new Error('disk full');
  });
  expect(await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'dave', ['irods', 'sodar']))).toEqual({ status: 200, body: 'True' });
  expect(Object.values(fx.site.state().roles).some((r) => r.user_uuid === 'uuid-dave' && r.project_uuid === PROJECT)).toBe(true);
  const runs = async () => (await getWithSecret(`${fx!.service.url}/runs?project=${PROJECT}&flow=role_update`)).json.runs.map((r: { status: string }) => r.status);
  expect(await runs()).toEqual(['running']);

  await fx.restart();
  expect(await runs()).toEqual(['completed']);
  expect(Object.values(fx.site.state().roles).some((r) => r.user_uuid === 'uuid-dave' && r.project_uuid === PROJECT)).toBe(true);
});
