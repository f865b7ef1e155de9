/**
 * The site's forms in a real browser (Debian's Chromium via playwright-core)
 * against a real service and site started from dist/: a post the site
 * refuses for what was typed shows the same form again, with the error
 * above it and the values typed, and the corrected form goes through (with
 * the fresh CSRF token of the page shown again.
 */
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from '../support/browser.js';
import { startPagesBed, type PagesBed } from '../support/site-pages.js';

let bed: PagesBed;
let category: string;
let project: string;
const users: Record<string, string> = {};

beforeAll(async () => {
  bed = await startPagesBed('pages-forms-');
  const { api } = bed;
  for (const name of ['carol', 'dave', 'erin']) users[name] = (await api.post<{ sodar_uuid: string }>('project/api/users/create', { username: name })).sodar_uuid;
  category = (await api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Forms', type: 'CATEGORY' })).sodar_uuid;
  project = (await api.post<{ sodar_uuid: string }>('project/api/create', { title: 'Taken', type: 'PROJECT', parent: category })).sodar_uuid;
  // The one delegate the project may have: a second one is refused.
  await api.post(`project/api/roles/create/${project}`, { role: 'project delegate', user: users.carol });
  await api.post(`project/api/roles/create/${project}`, { role: 'project contributor', user: users.erin });
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

/** Clicks `button` and returns the answer to the form's post (the page it leads to may be a redirect's). */
async function post(page: Page, button: string, action: RegExp): Promise<Response> {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && action.test(new URL(r.url()).pathname)),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return res;
}

/** The refusal shown above form `form`, once the page shown again has it. */
async function refusal(page: Page, form: string): Promise<string> {
  const error = page.locator(`#${form}-error`);
  await error.waitFor();
  // the form points at its error, so a screen reader reads it with the form
  expect(await page.locator(`form#${form}`).getAttribute('aria-describedby')).toBe(`${form}-error`);
  expect(await seriousA11yViolations(page), `accessibility of the refused ${form}`).toEqual([]);
  return error.innerText();
}


describe('a refused form in a browser', () => {
  it('shows the project form again with the error and what was typed when the category has the title already; the corrected title creates the project', async () => {
    const page = await bed.signedIn();
    await page.getByLabel('Type').selectOption('PROJECT');
    await page.getByLabel('Title').fill('Taken');
    await page.getByLabel('In category').selectOption({ label: 'Forms' });
    await page.getByLabel('Description').fill('Typed with care');
    await page.getByLabel('Readme (Markdown)').fill('# Notes\n\nKeep **these**.');
    const res = await post(page, 'Create', /^\/project\/create$/);
    expect(res.status()).toBe(400);
    expect(await refusal(page, 'project-create')).toContain('A project or category titled "Taken" already exists in this category');
    expect(await page.getByLabel('Type').inputValue()).toBe('PROJECT');
    expect(await page.getByLabel('Title').inputValue()).toBe('Taken');
    expect(await page.getByLabel('In category').inputValue()).toBe(category);
    expect(await page.getByLabel('Description').inputValue()).toBe('Typed with care');
    expect(await page.getByLabel('Readme (Markdown)').inputValue()).toBe('# Notes\n\nKeep **these**.');

    await page.getByLabel('Title').fill('Taken again');
    const again = await post(page, 'Create', /^\/project\/create$/);
    expect(again.status()).toBe(303);
    await page.getByText('Created project "Taken again".').waitFor();
    expect(await page.locator('.facts').innerText()).toContain('Typed with care');
    expect(await page.locator('.readme strong').innerText()).toBe('these');
  });

  it('shows the add-member form again with the user and role chosen when the project has its delegate already; another role adds the member', async () => {
    const page = await bed.signedIn();
    await page.goto(`${bed.sys.siteUrl}/project/${project}`);
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'dave' });
    await page.getByLabel('Role', { exact: true }).selectOption('project delegate');
    const res = await post(page, 'Add member', /\/roles\/add$/);
    expect(res.status()).toBe(400);
    expect(await refusal(page, 'role-add')).toContain('already has 1 delegate(s) ("carol")');
    expect(await page.getByLabel('User', { exact: true }).inputValue()).toBe(users.dave);
    expect(await page.getByLabel('Role', { exact: true }).inputValue()).toBe('project delegate');

    await page.getByLabel('Role', { exact: true }).selectOption('project contributor');
    expect((await post(page, 'Add member', /\/roles\/add$/)).status()).toBe(303);
    await page.getByText('Added dave as project contributor.').waitFor();
    expect(await page.locator('table.members').innerText()).toMatch(/dave\s+project contributor/);
  });

  it("shows a member's role form again with the role chosen when it would make a second delegate; another role changes it", async () => {
    const page = await bed.signedIn();
    await page.goto(`${bed.sys.siteUrl}/project/${project}`);
    await page.getByLabel('New role of erin').selectOption('project delegate');
    const res = await post(page, 'Change role of erin', /\/change$/);
    expect(res.status()).toBe(400);
    const form = await page.locator('form[action$="/change"]:has(button:text-is("Change role of erin"))').getAttribute('id');
    expect(await refusal(page, form!)).toContain('already has 1 delegate(s) ("carol")');
    expect(await page.getByLabel('New role of erin').inputValue()).toBe('project delegate');
    // only erin's form says so: carol's form shows her own role
    expect(await page.getByLabel('New role of carol').inputValue()).toBe('project delegate');
    expect(await page.locator('p.error').count()).toBe(1);

    await page.getByLabel('New role of erin').selectOption('project guest');
    expect((await post(page, 'Change role of erin', /\/change$/)).status()).toBe(303);
    await page.getByText('erin is now project guest.').waitFor();
  });

  it('shows the sample sheet form again with the text typed when it names no study; a study imports the sheet', async () => {
    const page = await bed.signedIn();
    await page.goto(`${bed.sys.siteUrl}/samplesheets/${project}`);
    await page.getByLabel('Investigation title').fill('Investigation of forms');
    await page.getByLabel(/Studies, one a line/).fill('   \n   ');
    const res = await post(page, 'Import sample sheet', /\/import$/);
    expect(res.status()).toBe(400);
    expect(await refusal(page, 'sheet-import')).toContain('Type at least one study');
    expect(await page.getByLabel('Investigation title').inputValue()).toBe('Investigation of forms');
    expect(await page.getByLabel(/Studies, one a line/).inputValue()).toBe('   \n   ');

    await page.getByLabel(/Studies, one a line/).fill('Forms study: Exome');
    expect((await post(page, 'Import sample sheet', /\/import$/)).status()).toBe(303);
    await page.getByText('Imported the sample sheet.').waitFor();
    expect(await page.locator('main').innerText()).toContain('Investigation of forms');
    expect(await page.locator('main').innerText()).toContain('Assay: Exome');
  });

  it('shows the ownership form again with the choices made when the old owner would be a second delegate; another role transfers it', async () => {
    const page = await bed.signedIn();
    await page.goto(`${bed.sys.siteUrl}/project/${project}`);
    await page.getByLabel('New owner').selectOption('erin');
    await page.getByLabel('Your role after').selectOption('project delegate');
    const res = await post(page, 'Transfer ownership', /\/owner$/);
    expect(res.status()).toBe(400);
    expect(await refusal(page, 'owner-transfer')).toContain('already has 1 delegate(s) ("carol")');
    expect(await page.getByLabel('New owner').inputValue()).toBe('erin');
    expect(await page.getByLabel('Your role after').inputValue()).toBe('project delegate');

    await page.getByLabel('Your role after').selectOption('project guest');
    expect((await post(page, 'Transfer ownership', /\/owner$/)).status()).toBe(303);
    await page.getByText('Ownership transferred to erin.').waitFor();
    expect(await page.locator('table.members').innerText()).toMatch(/erin\s+project owner/);
  });
});
