/**
 * `PUT /runs/fences/<timeline uuid>` (our extension beside `/runs`): for the
 * site's change whose submit it never saw answered, the service either finds
 * the runs carrying the event or fences the event, and refuses every later
 * submit carrying it (409, recorded nowhere, nothing changed), sync or
 * async, in whichever service process on the data folder it arrives. Two
 * `taskflow serve` processes on one data folder and the test site.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/index.js';
import { TEST_SECRET, getWithSecret, postJson } from '../support/service-harness.js';
import { dataDeleteAsyncBody, projectCreateBody, roleUpdateBody } from '../support/service-flows.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'f1f1f1f1-0000-4000-8000-000000000041';
let site: TestSite;
const bed = serviceTestBed('taskflow-fences-', (b) => {
  ({ site } = b);
  site.seedProject({ project_uuid: PROJECT, title: 'Fence project' });
  for (const name of ['erin', 'dave']) site.seedUser({ user_uuid: `uuid-${name}`, username: name });
});

async function putFence(base: string, event: string, secret = TEST_SECRET): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${base}/runs/fences/${encodeURIComponent(event)}`, { method: 'PUT', headers: { 'x-taskflow-secret': secret } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

it('fences an event no run carries: later submits carrying it are refused by every process, and change nothing', async () => {
  const dataDir = bed.dataDir('data');
  const env = bed.env(dataDir);
  const a = await bed.spawn(env);
  const b = await bed.spawn(env);
  expect(await postJson(`${a.url}/submit`, projectCreateBody(PROJECT, site.url))).toEqual({ status: 200, body: 'True' });

  // the secret, as for /runs
  expect((await putFence(a.url, 'ev-late', 'wrong')).status).toBe(403);
  const fence = await putFence(a.url, 'ev-late');
  expect(fence.status).toBe(200);
  expect(fence.json).toMatchObject({ timeline_uuid: 'ev-late', fenced: true });
  // idempotent, and the same in the other process
  expect((await putFence(b.url, 'ev-late')).json).toEqual(fence.json);

  const runsBefore = (await getWithSecret(`${a.url}/runs?limit=500`)).json;
  const siteBefore = JSON.stringify(site.state());
  const config = loadConfig(env);
  const dump = async (): Promise<string[]> => {
    const store = await openStore(config);
    try {
      return await store.dump();
    } finally {
      await store.close();
    }
  };
  const storeBefore = await dump();

  for (const url of [a.url, b.url]) {
    const sync = await postJson(`${url}/submit`, { ...roleUpdateBody(PROJECT, site.url, 'erin'), timeline_uuid: 'ev-late' });
    expect(sync.status).toBe(409);
    expect(sync.body).toMatch(/timeline event "ev-late" was fenced at .*this flow runs nowhere/);
    const async = await postJson(`${url}/submit`, dataDeleteAsyncBody(PROJECT, site.url, [`/x/${PROJECT}/nothing`], 'ev-late'));
    expect(async.status).toBe(409);
  }
  expect((await getWithSecret(`${b.url}/runs?limit=500`)).json).toEqual(runsBefore);
  expect((await getWithSecret(`${b.url}/queue`)).json).toEqual({ projects: [] });
  expect(JSON.stringify(site.state())).toBe(siteBefore);
  expect(await dump()).toEqual(storeBefore);

  // an event a run carries is found, not fenced, from the other process too; its submits go on as before
  expect(await postJson(`${a.url}/submit`, { ...roleUpdateBody(PROJECT, site.url, 'dave'), timeline_uuid: 'ev-ran' })).toEqual({ status: 200, body: 'True' });
  const found = await putFence(b.url, 'ev-ran');
  expect(found.json).toEqual({ timeline_uuid: 'ev-ran', fenced: false, runs: [{ run_id: expect.any(String), status: 'completed' }] });
  expect((await getWithSecret(`${a.url}/runs/${found.json.runs[0].run_id}`)).json.meta.timeline_uuid).toBe('ev-ran');
  // what a submit without an event sends is no event
  expect((await putFence(a.url, 'None')).status).toBe(400);
}, 60_000);
