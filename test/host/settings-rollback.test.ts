/**
 * The service's settings task against the reference site's callbacks: a
 * failed run puts every setting the site reported back as it was (a dict
 * that settings/get handed out as a JSON string comes back a dict, a list a
 * list), and names in its note a setting the site did not report before,
 * which it cannot take back.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LinearFlow } from '../../src/engine/flow.js';
import { MemoryJournal } from '../../src/engine/memory-journal.js';
import { runFlow } from '../../src/engine/runner.js';
import { getSettings, insertProject, setSettings } from '../../src/host/repo.js';
import { SiteClient } from '../../src/site/client.js';
import type { TaskContext } from '../../src/tasks/context.js';
import { setSettings as setSettingsTask } from '../../src/tasks/site-tasks.js';
import { TEST_SECRET, injectSite, type InjectSite } from '../support/host-inject-site.js';

const P = '51515151-0000-4000-8000-000000000001';
let site: InjectSite;
let url: string;

beforeEach(async () => {
  site = await injectSite();
  await site.app.listen({ host: '127.0.0.1', port: 0 });
  const address = site.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the site listens on no port');
  url = `http://127.0.0.1:${address.port}`;
  await insertProject(site.db, { uuid: P, type: 'PROJECT', parent_uuid: null, title: 'Proj', description: '', readme: '', public_guest_access: false });
});
afterEach(async () => {
  await site?.close();
});

it('a forced failure sets the reported settings back as they were and names the one it cannot take back', async () => {
  await setSettings(site.db, P, { 'samplesheets.display': { columns: ['a', 'b'] }, 'projectroles.ip_allowlist': ['10.0.0.1'], 'projectroles.ip_restrict': false });
  const before = await getSettings(site.db, P);
  const flow = new LinearFlow<TaskContext>('settings', ['sodar']);
  flow.add(
    setSettingsTask('Set project settings', {
      sodar_url: url,
      project_uuid: P,
      settings: {
        'settings.samplesheets.display': { columns: ['x'] },
        'settings.projectroles.ip_allowlist': ['10.9.9.9'],
        'settings.projectroles.ip_restrict': true,
        'settings.landingzones.member_access': true,
      },
    }),
  );
  const ctx = { site: new SiteClient({ secret: TEST_SECRET, timeoutMs: 10_000 }) } as unknown as TaskContext;
  const result = await runFlow(flow, ctx, { journal: new MemoryJournal(), forceFail: true });
  expect(result.status).toBe('rolled_back');
  expect(result.revertNotes).toEqual([
    {
      index: 0,
      name: 'Set project settings',
      note: 'settings not restored, the site did not report their previous values: settings.landingzones.member_access (left as the update set them)',
    },
  ]);
  expect(await getSettings(site.db, P)).toEqual({ ...before, 'landingzones.member_access': true });
});
