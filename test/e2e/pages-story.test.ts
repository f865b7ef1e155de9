/**
 * The demo story through the site's pages in a real browser (Debian's
 * Chromium, headless, via playwright-core), against a real service and site
 * started from dist/: the admin signs in with the password the first start
 * printed, creates a category and project, adds a contributor, imports a
 * sheet and creates its collections; the contributor creates a zone, puts
 * files with the store, validates and moves it and watches it reach MOVED
 * with the file count; a move with a wrong checksum shows FAILED naming the
 * file. Then the refusals: a guest sees no zones, another contributor can
 * neither open nor act on the zone (by URL), a form without its CSRF token
 * is refused. axe-core checks every page; each page is photographed into
 * test-output/.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SiteApi } from '../../src/host/client.js';
import { SECRET_HEADER } from '../../src/secret-match.js';
import { openStore } from '../../src/store/index.js';
import type { FlowStore, StoreAdmin } from '../../src/store/types.js';
import { launchBrowser, screenshot, seriousA11yViolations, type TestBrowser } from '../support/browser.js';
import { startHostSystem, type HostSystem } from '../support/host-processes.js';
import { setPassword, signIn } from '../support/site-pages.js';

let dir: string;
let sys: HostSystem;
let browser: TestBrowser;
let store: FlowStore & StoreAdmin;
let adminPassword: string;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

async function put(path: string, text: string): Promise<void> {
  await store.putObject(path, Readable.from([Buffer.from(text)]));
}

/** Uploads files with their .md5 companions; `wrong` gets a checksum of other bytes. */
async function upload(zonePath: string, files: Record<string, string>, wrong?: string): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await put(`${zonePath}/${name}`, content);
    await put(`${zonePath}/${name}.md5`, `${name === wrong ? md5(`${content}!`) : md5(content)}  ${name}\n`);
  }
}

const seen: string[] = [];
/** Checks the page with axe-core and photographs it as `name`. */
async function look(page: Page, name: string): Promise<void> {
  expect(await seriousA11yViolations(page), `accessibility of ${name}`).toEqual([]);
  await screenshot(page, name);
  seen.push(name);
}

/** The end of a process's output, without the lines that show a token or password (printed at the first start). */
const logTail = (out: string): string =>
  out
    .split('\n')
    .filter((line) => !/token|password/i.test(line))
    .join('\n')
    .slice(-2000);

/**
 * Waits until the zone page shows `status` (htmx swaps it in while the zone
 * is busy). Gives up before the test's own time limit, saying what the page
 * shows, whether it still polls, what the site answers for the zone now,
 * the service's line of async runs and latest runs, and the end of both
 * processes' logs, so that a wait that fails tells a page that stopped
 * updating from a zone that stopped moving, and why.
 */
async function waitStatus(page: Page, status: string): Promise<string> {
  const started = Date.now();
  try {
    await page.locator(`.zone-status [data-status="${status}"]`).waitFor({ timeout: 40_000 });
  } catch (err) {
    const shown = await page.locator('.zone-status').first().evaluate((e) => ({ html: e.outerHTML })).catch(() => ({ html: '(no .zone-status)' }));
    const zoneUrl = page.url().split('?')[0]!;
    const now = await page.request.get(`${zoneUrl}/status`).then((r) => r.text()).catch((e: Error) => `(status fragment: ${e.message})`);
    const oneLine = (html: string): string => html.replace(/\s+/g, ' ').slice(0, 600);
    const service = (path: string): Promise<string> =>
      fetch(`${sys.serviceUrl}${path}`, { headers: { [SECRET_HEADER]: sys.env.TASKFLOW_SODAR_SECRET! } })
        .then((r) => r.text())
        .catch((e: Error) => `(${e.message})`);
    throw new Error(
      [
        `zone page ${zoneUrl} did not show ${status} within ${Date.now() - started} ms (${(err as Error).message.split('\n')[0]})`,
        `page shows: ${oneLine(shown.html)}`,
        `the site answers now: ${oneLine(now)}`,
        `service queue: ${(await service('/queue')).slice(0, 1500)}`,
        `service runs: ${(await service('/runs?limit=5')).slice(0, 3000)}`,
        `service log: ${logTail(sys.service.output())}`,
        `site log: ${logTail(sys.site.output())}`,
      ].join('\n'),
    );
  }
  return page.locator('.zone-status .status-info').innerText();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pages-story-'));
  sys = await startHostSystem(dir);
  adminPassword = (await sys.site.waitFor(/Sign-in password of admin user "admin" \(shown only now\): (\S+)/))[1];
  store = await openStore(loadConfig(sys.env));
  const admin = new SiteApi(sys.siteUrl, sys.adminToken);
  // Users come from LDAP in SODAR; here the admin creates them through the API, and sets passwords with the command.
  for (const name of ['carol', 'dave', 'gus']) await admin.post('project/api/users/create', { username: name });
  for (const name of ['carol', 'dave', 'gus']) await setPassword(sys, name, `${name}-secret-pw`);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await store?.close?.();
  await sys?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the site in a browser', () => {
  let projectUrl = '';
  let zoneUrl = '';

  it('lets the admin sign in, create a category and a project, add contributors and a guest, import a sheet and create its collections', async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${sys.siteUrl}/`);
    await look(page, 'sign-in');
    // keyboard only: the user name field has the focus, Tab moves on, Enter sends
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(adminPassword);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as admin').first().waitFor();
    await look(page, 'home-empty');

    await page.getByLabel('Type').selectOption('CATEGORY');
    await page.getByLabel('Title').fill('Demo category');
    await page.getByLabel('In category').selectOption({ label: '(top level: categories only)' });
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Created category "Demo category".').waitFor();

    await page.goto(`${sys.siteUrl}/`);
    await page.getByLabel('Type').selectOption('PROJECT');
    await page.getByLabel('Title').fill('Demo project');
    await page.getByLabel('In category').selectOption({ label: 'Demo category' });
    await page.getByLabel('Description').fill('Made in a browser');
    await page.getByLabel('Readme (Markdown)').fill('# Demo\n\nData of **the demo**.');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('Created project "Demo project".').waitFor();
    projectUrl = page.url();
    expect(await page.locator('#lock').innerText()).toBe('no');

    for (const [name, role] of [
      ['carol', 'project contributor'],
      ['dave', 'project contributor'],
      ['gus', 'project guest'],
    ]) {
      await page.getByLabel('User', { exact: true }).selectOption({ label: name });
      await page.getByLabel('Role', { exact: true }).selectOption(role);
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByText(`Added ${name} as ${role}.`).waitFor();
    }
    const members = await page.locator('table.members').innerText();
    expect(members).toMatch(/carol\s+project contributor/);
    expect(members).toMatch(/admin \(Site Admin\)\s+project owner/);
    await look(page, 'project');

    await page.getByRole('link', { name: 'Sample sheet' }).click();
    await page.getByLabel(/Studies, one a line/).fill('Tumour study: Exome, RNA');
    await page.getByRole('button', { name: 'Import sample sheet' }).click();
    await page.getByText('Imported the sample sheet.').waitFor();
    await page.getByRole('button', { name: 'Create collections in the store' }).click();
    await page.getByText(/Created 3 collections in the store/).waitFor();
    expect(await page.locator('#colls').innerText()).toBe('created');
    await look(page, 'sample-sheet');

    await page.goto(projectUrl);
    const timeline = await page.locator('table.timeline').innerText();
    expect(timeline).toContain('create iRODS collections');
    expect(timeline.indexOf('create iRODS collections')).toBeLessThan(timeline.indexOf('create project'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('lets the contributor create a zone, put files, validate and move it and watch it reach MOVED; a wrong checksum shows FAILED naming the file', async () => {
    const page = await (await browser.context()).newPage();
    await signIn(page, sys, 'carol', 'carol-secret-pw');
    await page.goto(projectUrl);
    expect(await page.locator('.facts .role').innerText()).toBe('project contributor');
    await page.getByRole('link', { name: 'Landing zones' }).click();
    await page.getByLabel('Assay').selectOption({ label: 'Tumour study / Exome' });
    await page.getByLabel('Title suffix').fill('upload');
    await page.getByRole('button', { name: 'Create landing zone' }).click();
    await page.getByText(/Creating landing zone ".*_upload"\./).waitFor();
    expect(await waitStatus(page, 'ACTIVE')).toContain('Available with write access');
    zoneUrl = page.url();
    const zonePath = await page.locator('#zone-path').innerText();
    await upload(zonePath, { 'sample1.fastq': 'ACGT\n', 'sample2.fastq': 'TTGCA\n' });

    await page.getByRole('button', { name: /^Validate / }).click();
    // the flash is on the page the action leads to, so the old page's ACTIVE cannot be mistaken for the new one
    await page.getByText('Landing zone validation initiated.').waitFor();
    expect(await waitStatus(page, 'ACTIVE')).toContain('Successfully validated 2 files');
    await page.getByRole('button', { name: /^Move / }).click();
    await page.getByText('Landing zone moving initiated.').waitFor();
    expect(await waitStatus(page, 'MOVED')).toContain('Successfully moved 2 files');
    await look(page, 'zone-moved');

    const zonesPage = projectUrl.replace('/project/', '/landingzones/');
    await page.goto(zonesPage);
    await page.getByLabel('Title suffix').fill('bad');
    await page.getByRole('button', { name: 'Create landing zone' }).click();
    await page.getByText(/Creating landing zone ".*_bad"\./).waitFor();
    await waitStatus(page, 'ACTIVE');
    const badPath = await page.locator('#zone-path').innerText();
    await upload(badPath, { 'good.fastq': 'GGGG\n', 'broken.fastq': 'CCCC\n' }, 'broken.fastq');
    await page.getByRole('button', { name: /^Move / }).click();
    await page.getByText('Landing zone moving initiated.').waitFor();
    // While it runs the page shows the busy states; htmx keeps it current until it ends.
    const reason = await waitStatus(page, 'FAILED');
    expect(reason).toContain('broken.fastq');
    await look(page, 'zone-failed');

    await page.goto(zonesPage);
    const list = await page.locator('table.zones').innerText();
    expect(list).toMatch(/MOVED/);
    expect(list).toMatch(/FAILED/);
    await look(page, 'zones');
  });

  it('shows a guest no zones, keeps another contributor off the zone (by URL too), and refuses a form without its CSRF token', async () => {
    const guest = await (await browser.context()).newPage();
    await signIn(guest, sys, 'gus', 'gus-secret-pw');
    const zonesPage = projectUrl.replace('/project/', '/landingzones/');
    const refused = await guest.goto(zonesPage);
    expect(refused?.status()).toBe(403);
    expect(await guest.locator('.error').innerText()).toContain('guests see none');
    await look(guest, 'guest-refused');

    const dave = await (await browser.context()).newPage();
    await signIn(dave, sys, 'dave', 'dave-secret-pw');
    await dave.goto(zonesPage);
    expect(await dave.locator('table.zones').innerText()).not.toContain('upload');
    // carol's failed zone still takes operations: dave must not reach it
    await dave.goto(zonesPage.replace(/landingzones\/.*/, 'landingzones/zone/') + zoneUrl.split('/').pop()!);
    expect(await dave.locator('.error').innerText()).toContain('landing zones of other users');
    const status = await dave.request.post(`${zoneUrl}/delete`, { form: { _csrf: 'whatever' }, maxRedirects: 0 });
    expect([403]).toContain(status.status());

    // A form whose token was taken out, posted by the browser itself.
    await dave.goto(zonesPage);
    await dave.evaluate(() => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { forEach(f: (e: { remove(): void }) => void): void } } }).document;
      d.querySelectorAll('form input[name="_csrf"]').forEach((e) => e.remove());
    });
    await dave.getByLabel('Title suffix').fill('no-token');
    await dave.getByRole('button', { name: 'Create landing zone' }).click();
    await dave.locator('.error').waitFor();
    expect(await dave.locator('.error').innerText()).toContain('CSRF token is missing or wrong');
    expect(await dave.locator('h1').innerText()).toBe('Not allowed');
  });

  it("shows superusers the service's runs, filtered and with a run's tasks, and nobody else", async () => {
    const admin = await (await browser.context()).newPage();
    await signIn(admin, sys, 'admin', adminPassword);
    await admin.getByRole('link', { name: 'Operator dashboard' }).click();
    const all = await admin.locator('table.runs').innerText();
    expect(all).toContain('landing_zone_move');
    expect(all).toContain('sheet_colls_create');
    // every async run of the story has ended: the service's line is empty, and says so
    expect(await admin.getByRole('region', { name: 'Line of accepted async runs' }).innerText()).toContain('No accepted async run is running or waiting.');
    await look(admin, 'ops');
    await admin.getByLabel('Status').selectOption('rolled_back');
    await admin.getByRole('button', { name: 'Filter runs' }).click();
    await admin.waitForURL(/status=rolled_back/);
    const failed = await admin.locator('table.runs tbody').innerText();
    expect(failed).toContain('broken.fastq');
    expect(failed).not.toContain('sheet_colls_create');
    await admin.locator('table.runs tbody a').first().click();
    expect(await admin.locator('#run-status').innerText()).toBe('rolled_back');
    const tasks = await admin.locator('table.tasks').innerText();
    expect(tasks).toContain('broken.fastq');
    expect(tasks).toMatch(/reverted|done/);
    await look(admin, 'run');

    const carol = await (await browser.context()).newPage();
    await signIn(carol, sys, 'carol', 'carol-secret-pw');
    expect(await carol.getByRole('link', { name: 'Operator dashboard' }).count()).toBe(0);
    const res = await carol.goto(`${sys.siteUrl}/ops`);
    expect(res?.status()).toBe(403);
    expect(await carol.locator('.error').innerText()).toContain('Only superusers may see the operator dashboard');
  });

  it('is readable without JavaScript: the project, zone list and a zone page', async () => {
    const page = await (await browser.context({ javaScript: false })).newPage();
    await signIn(page, sys, 'carol', 'carol-secret-pw');
    await page.goto(projectUrl);
    expect(await page.locator('table.timeline').innerText()).toContain('create iRODS collections');
    await page.goto(projectUrl.replace('/project/', '/landingzones/'));
    expect(await page.locator('table.zones').innerText()).toMatch(/MOVED/);
    await page.goto(zoneUrl);
    expect(await page.locator('.zone-status [data-status]').innerText()).toBe('MOVED');
  });
});
