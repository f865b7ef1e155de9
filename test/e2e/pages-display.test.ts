/**
 * What the site's pages show, in a real browser (Debian's Chromium via
 * playwright-core) against a real service and site started from dist/: a
 * title with markup characters and accents shows as text, and a busy
 * zone's page follows the zone's status without being loaded again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword, startPagesBed, type PagesBed } from '../support/site-pages.js';

let bed: PagesBed;
let category: string;
let carolUuid: string;

beforeAll(async () => {
  bed = await startPagesBed('pages-display-');
  carolUuid = (await bed.api.post<{ sodar_uuid: string }>('project/api/users/create', { username: 'carol' })).sodar_uuid;
  await setPassword(bed.sys, 'carol', 'carol-secret-pw');
  category = (await bed.api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Shown', type: 'CATEGORY' })).sodar_uuid;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

describe('the pages in a browser', () => {
  it('shows a title with markup characters and accents as text in the project tree and the heading', async () => {
    const title = '<b>x</b> & "é" <script>document.title="pwned"</script>';
    const page = await bed.signedIn();
    await page.getByLabel('Type').selectOption('CATEGORY');
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('In category').selectOption({ label: 'Shown' });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText(`Created category "${title}".`).waitFor();
    const heading = page.locator('h1');
    expect(await heading.innerText()).toContain(title);
    expect(await heading.locator('b, script').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');

    await page.goto(`${bed.sys.siteUrl}/`);
    const link = page.locator('.tree a', { hasText: '<b>x</b>' });
    expect(await link.innerText()).toBe(title);
    expect(await page.locator('.tree b, .tree script').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
  });

  it("follows a busy zone's status on its page without a reload, and stops asking once the zone is done", async () => {
    // A project of its own, with a sheet whose collections are in the store: zones need both.
    const zoned = (await bed.api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Zoned', type: 'PROJECT', parent: category })).sodar_uuid;
    await bed.api.post(`project/api/roles/create/${zoned}`, { role: 'project contributor', user: carolUuid });
    await bed.api.post(`samplesheets/api/create/${zoned}`, { studies: [{ title: 'Zone study', assays: [{ title: 'Zone assay' }] }] });
    await bed.api.post(`samplesheets/api/irods/collections/create/${zoned}`);
    const carol = await bed.signedIn('carol', 'carol-secret-pw');
    await carol.goto(`${bed.sys.siteUrl}/landingzones/${zoned}`);
    await carol.getByLabel('Title suffix').fill('live');
    await carol.getByRole('button', { name: 'Create landing zone' }).click();
    await carol.getByText(/Creating landing zone ".*_live"\./).waitFor();
    await carol.locator('.zone-status [data-status="ACTIVE"]').waitFor({ timeout: 40_000 });
    const zoneUrl = carol.url();
    const zone = zoneUrl.split('/').pop()!;

    // The service reports a validation under way, as its flow does at the start.
    const report = async (status: string, info: string): Promise<void> => {
      const res = await fetch(`${bed.sys.siteUrl}/landingzones/taskflow/status/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sodar_secret: bed.sys.env.TASKFLOW_SODAR_SECRET!, zone_uuid: zone, status, status_info: info }),
      });
      expect(res.status, await res.text()).toBe(200);
    };
    await report('VALIDATING', 'Validating 3 files');
    await carol.goto(zoneUrl);
    expect(await carol.locator('.zone-status [data-status]').innerText()).toBe('VALIDATING');
    expect(await carol.locator('.zone-status').getAttribute('hx-get')).toBe(`/landingzones/zone/${zone}/status`);
    // Anything the page holds survives only if the page is never loaded again.
    await carol.evaluate(() => {
      (globalThis as unknown as { stillThisPage: boolean }).stillThisPage = true;
    });
    let loads = 0;
    carol.on('framenavigated', (frame) => {
      if (frame === carol.mainFrame()) loads++;
    });

    await report('ACTIVE', 'Successfully validated 3 files');
    await carol.locator('.zone-status [data-status="ACTIVE"]').waitFor({ timeout: 10_000 });
    expect(await carol.locator('.zone-status .status-info').innerText()).toBe('Successfully validated 3 files');
    expect(await carol.evaluate(() => (globalThis as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
    expect(loads).toBe(0);
    expect(await carol.locator('.zone-status').getAttribute('hx-get')).toBeNull();
    expect(await carol.getByRole('button', { name: /^Validate / }).count()).toBe(1);
  });
});
