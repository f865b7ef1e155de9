/**
 * What the site's pages show, in a real browser (Debian's Chromium via
 * playwright-core) against a real service and site started from dist/: a
 * title with markup characters and accents shows as text, and a busy
 * zone's page follows the zone's status without being loaded again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteApi } from '../../src/host/client.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { startHostSystem, type HostSystem } from '../support/host-processes.js';
import { setPassword, signIn } from '../support/site-pages.js';

let dir: string;
let sys: HostSystem;
let browser: TestBrowser;
let api: SiteApi;
let adminPassword: string;
let category: string;
let carolUuid: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pages-display-'));
  sys = await startHostSystem(dir);
  adminPassword = (await sys.site.waitFor(/Sign-in password of admin user "admin" \(shown only now\): (\S+)/))[1];
  api = new SiteApi(sys.siteUrl, sys.adminToken);
  carolUuid = (await api.post<{ sodar_uuid: string }>('project/api/users/create', { username: 'carol' })).sodar_uuid;
  await setPassword(sys, 'carol', 'carol-secret-pw');
  category = (await api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Shown', type: 'CATEGORY' })).sodar_uuid;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function adminPage(): Promise<Page> {
  const page = await (await browser.context()).newPage();
  await signIn(page, sys, 'admin', adminPassword);
  return page;
}

describe('the pages in a browser', () => {
  it('shows a title with markup characters and accents as text in the project tree and the heading', async () => {
    const title = '<b>x</b> & "é" <script>document.title="pwned"</script>';
    const page = await adminPage();
    await page.getByLabel('Type').selectOption('CATEGORY');
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('In category').selectOption({ label: 'Shown' });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText(`Created category "${title}".`).waitFor();
    const heading = page.locator('h1');
    expect(await heading.innerText()).toContain(title);
    expect(await heading.locator('b, script').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');

    await page.goto(`${sys.siteUrl}/`);
    const link = page.locator('.tree a', { hasText: '<b>x</b>' });
    expect(await link.innerText()).toBe(title);
    expect(await page.locator('.tree b, .tree script').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
  });

  it("follows a busy zone's status on its page without a reload, and stops asking once the zone is done", async () => {
    // A project of its own, with a sheet whose collections are in the store: zones need both.
    const zoned = (await api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Zoned', type: 'PROJECT', parent: category })).sodar_uuid;
    await api.post(`project/api/roles/create/${zoned}`, { role: 'project contributor', user: carolUuid });
    await api.post(`samplesheets/api/create/${zoned}`, { studies: [{ title: 'Zone study', assays: [{ title: 'Zone assay' }] }] });
    await api.post(`samplesheets/api/irods/collections/create/${zoned}`);
    const carol = await (await browser.context()).newPage();
    await signIn(carol, sys, 'carol', 'carol-secret-pw');
    await carol.goto(`${sys.siteUrl}/landingzones/${zoned}`);
    await carol.getByLabel('Title suffix').fill('live');
    await carol.getByRole('button', { name: 'Create landing zone' }).click();
    await carol.getByText(/Creating landing zone ".*_live"\./).waitFor();
    await carol.locator('.zone-status [data-status="ACTIVE"]').waitFor({ timeout: 40_000 });
    const zoneUrl = carol.url();
    const zone = zoneUrl.split('/').pop()!;

    // The service reports a validation under way, as its flow does at the start.
    const report = async (status: string, info: string): Promise<void> => {
      const res = await fetch(`${sys.siteUrl}/landingzones/taskflow/status/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sodar_secret: sys.env.TASKFLOW_SODAR_SECRET!, zone_uuid: zone, status, status_info: info }),
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
