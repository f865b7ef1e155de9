/**
 * A site change whose submit the service never journaled: the site died
 * between its commit and its submit, or the service died with the submit
 * read but not journaled. The service holds no run of the change's timeline
 * event, so the site fences the event (`PUT /runs/fences/<uuid>`) and, once
 * fenced, takes its change back: site rows and store exactly as before. And
 * a fence that finds a completed run the site could not find in `GET /runs`
 * (a category's owner change runs under no project) keeps the change.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { SiteApi } from '../../src/host/client.js';
import { openDb } from '../../src/host/db/index.js';
import { FREEZE_BEFORE_SUBMIT_ENV } from '../../src/host/test-hooks.js';
import { journalPath } from '../../src/service/server.js';
import { FREEZE_UNJOURNALED_ENV, PAUSE_ENV } from '../../src/service/test-hooks.js';
import { hostState } from '../support/host-state.js';
import { restartBed, type CliProcess, type RestartBed } from '../support/host-processes.js';

const running: CliProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** What the site database answers to `sql`. */
async function siteQuery(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await openDb(loadConfig({ TASKFLOW_DATA_DIR: dir }));
  try {
    return await db.query(sql);
  } finally {
    await db.close();
  }
}

/** Waits until the site has no pending undo left (polling its database: observable state, no sleeps as sync). */
async function settled(dir: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await siteQuery(dir, 'SELECT event_uuid FROM pending_undos')).length > 0) {
    expect(Date.now(), 'the change was never settled').toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The journal's fences and its runs of `flow`, read with nothing running. */
function journalOf(dir: string, flow: string): { fences: string[]; runs: number } {
  const db = new Database(journalPath(dir), { readonly: true });
  try {
    const fences = db.prepare('SELECT fence_key FROM fences').pluck().all() as string[];
    const runs = db.prepare('SELECT COUNT(*) FROM runs WHERE flow_name = ?').pluck().get(flow) as number;
    return { fences, runs };
  } finally {
    db.close();
  }
}

/** {@link restartBed} with this file's cleanup. */
const bed = <T>(prefix: string, env: Record<string, string>, seed: (api: SiteApi) => Promise<T>): Promise<RestartBed<T>> =>
  restartBed(prefix, env, seed, { running, dirs });

const projectSeed = async (api: SiteApi): Promise<string> => {
  const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
  return String((await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid, description: 'before' })).sodar_uuid);
};

describe('a change whose submit never reached the service journal', () => {
  it('site SIGKILLed after its commit, before its submit: at its restart it fences the event and takes the change back', async () => {
    const b = await bed('host-lost-submit-site-', { SODAR_SITE_UNDO_LOOK: '0.2' }, projectSeed);
    const before = await hostState(b.dir);
    const service = b.serve();
    await service.waitFor(/taskflow service listening/);
    const freezing = b.site({ [FREEZE_BEFORE_SUBMIT_ENV]: 'project_update' });
    await freezing.waitFor(/taskflow site listening/);
    const answer = b.api.request('PATCH', `project/api/update/${b.ids}`, { title: 'Renamed', description: 'after' }).catch((e: unknown) => e);
    await freezing.waitFor(/SODAR_SITE_TEST_FROZEN_BEFORE_SUBMIT flow=project_update/);
    await freezing.stop('SIGKILL');
    await answer;
    // the change and its undo are committed; no submit left
    expect((await hostState(b.dir)).site).not.toEqual(before.site);
    const [pending] = await siteQuery(b.dir, 'SELECT event_uuid FROM pending_undos');

    const site = b.site();
    await site.waitFor(/taskflow site listening/);
    await settled(b.dir);
    const [status] = await siteQuery(b.dir, `SELECT status_type, status_desc FROM timeline_statuses WHERE event_uuid = '${String(pending.event_uuid)}' ORDER BY seq DESC LIMIT 1`);
    expect(status).toMatchObject({ status_type: 'FAILED', status_desc: expect.stringMatching(/^The flow never ran/) });
    await site.stop();
    await service.stop();
    const after = await hostState(b.dir);
    expect(after.site).toEqual(before.site);
    expect(after.store).toEqual(before.store);
    expect(journalOf(b.dir, 'project_update')).toEqual({ fences: [pending.event_uuid], runs: 0 });
  }, 90_000);

  it('service SIGKILLed with the submit read, not journaled: once it is back, the site fences the event and takes the change back', async () => {
    const b = await bed('host-lost-submit-service-', { SODAR_SITE_UNDO_LOOK: '0.2' }, projectSeed);
    const before = await hostState(b.dir);
    const freezing = b.serve({ [FREEZE_UNJOURNALED_ENV]: 'project_update' });
    await freezing.waitFor(/taskflow service listening/);
    const site = b.site();
    await site.waitFor(/taskflow site listening/);
    const answer = b.api.request('PATCH', `project/api/update/${b.ids}`, { title: 'Renamed', description: 'after' }).catch((e: unknown) => e);
    await freezing.waitFor(/TASKFLOW_TEST_FROZEN_UNJOURNALED flow=project_update/);
    await freezing.stop('SIGKILL');
    // sent whole, no answer: the site cannot know whether the flow runs, and keeps its change while the service is away
    expect(String(await answer)).toMatch(/may have received the request/);
    expect((await b.api.get(`project/api/retrieve/${b.ids}`)).title).toBe('Renamed');

    const service = b.serve();
    await service.waitFor(/taskflow service listening/);
    await settled(b.dir);
    expect((await b.api.get(`project/api/retrieve/${b.ids}`)).title).toBe('Proj');
    await site.stop();
    await service.stop();
    const after = await hostState(b.dir);
    expect(after.site).toEqual(before.site);
    expect(after.store).toEqual(before.store);
    const journal = journalOf(b.dir, 'project_update');
    expect(journal.runs).toBe(0);
    expect(journal.fences).toHaveLength(1);
  }, 90_000);
});

describe('a fence that finds the run', () => {
  it('a category owner change whose run completed while no site heard of it: the fence finds the run and the change is kept', async () => {
    const b = await bed('host-lost-submit-found-', { TASKFLOW_LOCK_LEASE: '1' }, async (api) => {
      const cat = String((await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' })).sodar_uuid);
      await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat });
      const bob = String((await api.post('project/api/users/create', { username: 'bob' })).sodar_uuid);
      await api.post(`project/api/roles/create/${cat}`, { role: 'project contributor', user: bob });
      return cat;
    });
    const before = await hostState(b.dir);
    // held after the flow's last task: everything applied and journaled, the answer not yet sent
    const pausing = b.serve({ [PAUSE_ENV]: 'role_update_irods_batch:-1' });
    await pausing.waitFor(/taskflow service listening/);
    const site1 = b.site();
    await site1.waitFor(/taskflow site listening/);
    const answer = b.api.request('POST', `project/api/roles/owner-transfer/${b.ids}`, { new_owner: 'bob', old_owner_role: 'project contributor' }).catch((e: unknown) => e);
    await pausing.waitFor(/TASKFLOW_TEST_PAUSED run=/);
    await site1.stop('SIGKILL');
    await pausing.stop('SIGKILL');
    await answer;

    // the service alone rolls the run forward; its report finds no site, and a sync run's is not sent again
    const alone = b.serve();
    await alone.waitFor(/recovered finished run/);
    await alone.stop();
    const pending = await siteQuery(b.dir, 'SELECT event_uuid FROM pending_undos');
    expect(pending).toHaveLength(1);

    const service = b.serve();
    await service.waitFor(/taskflow service listening/);
    const site2 = b.site();
    await site2.waitFor(/taskflow site listening/);
    await settled(b.dir);
    const [status] = await siteQuery(b.dir, `SELECT status_type, status_desc FROM timeline_statuses WHERE event_uuid = '${String(pending[0].event_uuid)}' ORDER BY seq DESC LIMIT 1`);
    expect(status).toMatchObject({ status_type: 'OK', status_desc: expect.stringMatching(/^Run \S+ completed/) });
    await site2.stop();
    await service.stop();
    const after = await hostState(b.dir);
    expect(after.site).not.toEqual(before.site);
    expect(after.site.some((row) => row.includes('bob'))).toBe(true);
    expect(journalOf(b.dir, 'role_update_irods_batch')).toEqual({ fences: [], runs: 1 });
  }, 90_000);
});
