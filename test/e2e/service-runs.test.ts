/**
 * Run records: the runs API and the `taskflow runs` CLI, including a run
 * whose revert failed (the site refusing the revert call), the quarantine of
 * its project, and `taskflow runs retry-revert` freeing it.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_PATH,
  TEST_SECRET,
  getWithSecret,
  startServiceFixture,
  testEnv,
  type ServiceFixture,
} from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../support/service-flows.js';

const PROJECT = 'c0c0c0c0-0000-4000-8000-000000000003';
let fx: ServiceFixture;

/** Runs the built CLI without blocking this process (the test site answers its callbacks). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: { ...process.env, ...testEnv(fx.dataDir, { TASKFLOW_SODAR_URL: fx.site.url }) }, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  fx = await startServiceFixture();
  fx.site.seedProject({ project_uuid: PROJECT, title: 'Runs project' });
  fx.site.seedUser({ user_uuid: 'uuid-dave', username: 'dave' });
  fx.site.seedUser({ user_uuid: 'uuid-erin', username: 'erin' });
  expect((await fx.submit(projectCreateBody(PROJECT, fx.site.url))).status).toBe(200);
});
afterAll(async () => {
  await fx?.close();
});

describe('runs API', () => {
  it('needs the secret header', async () => {
    expect((await getWithSecret(`${fx.service.url}/runs`, 'nope')).status).toBe(403);
    expect((await getWithSecret(`${fx.service.url}/runs/x`, 'nope')).status).toBe(403);
  });

  it('lists runs with filters and pages, and shows one with its tasks', async () => {
    expect((await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'dave', ['irods', 'sodar']))).status).toBe(200);
    expect((await fx.submit({ ...roleUpdateBody(PROJECT, fx.site.url, 'erin'), force_fail: true })).status).toBe(500);

    const all = await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}`);
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.runs.map((r: { flowName: string }) => r.flowName)).toEqual(['role_update', 'role_update', 'project_create']);

    const failed = await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}&status=rolled_back`);
    expect(failed.json.total).toBe(1);
    const page = await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}&flow=role_update&limit=1&offset=1`);
    expect(page.json).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(page.json.runs).toHaveLength(1);
    expect(page.json.runs[0].status).toBe('completed');

    const id = failed.json.runs[0].runId;
    const one = await getWithSecret(`${fx.service.url}/runs/${id}`);
    expect(one.json).toMatchObject({ runId: id, flowName: 'role_update', status: 'rolled_back', label: PROJECT });
    expect(one.json.meta).toMatchObject({ mode: 'sync', targets: ['irods'], timeline_uuid: 'None' });
    expect(one.json.tasks.length).toBeGreaterThan(0);
    expect(one.json.tasks.every((t: { state: string }) => ['reverted', 'failed'].includes(t.state))).toBe(true);
  });

  it('answers 404 for an unknown run and 400 for bad filters', async () => {
    expect((await getWithSecret(`${fx.service.url}/runs/nope`)).status).toBe(404);
    expect((await getWithSecret(`${fx.service.url}/runs?status=bogus`)).status).toBe(400);
    expect((await getWithSecret(`${fx.service.url}/runs?limit=0`)).status).toBe(400);
    expect((await getWithSecret(`${fx.service.url}/runs?offset=-1`)).status).toBe(400);
  });

  it('refuses a filter given twice, on /runs as on /queue, instead of listing everything unfiltered', async () => {
    for (const [path, param] of [
      ['runs?status=completed&status=rolled_back', 'status'],
      [`runs?flow=role_update&flow=project_create`, 'flow'],
      [`runs?project=${PROJECT}&project=${PROJECT}`, 'project'],
      ['runs?limit=1&limit=2', 'limit'],
      [`queue?project=${PROJECT}&project=${PROJECT}`, 'project'],
    ]) {
      const res = await getWithSecret(`${fx.service.url}/${path}`);
      expect([path, res.status, res.text]).toEqual([path, 400, `Invalid "${param}": give it once`]);
    }
    // the secret is still asked first
    expect((await getWithSecret(`${fx.service.url}/runs?flow=a&flow=b`, 'nope')).status).toBe(403);
  });
});

describe('a run whose revert failed', () => {
  let runId: string;

  it('answers 500, stays revert_failed and keeps its project locked', async () => {
    // The forced failure rolls back the site role; the site refuses that revert once.
    fx.site.failNext('project/taskflow/role/delete', 500, 1);
    const res = await fx.submit({ ...roleUpdateBody(PROJECT, fx.site.url, 'erin', ['irods', 'sodar']), force_fail: true });
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/^Error running flow: .*rollback failed.*taskflow runs retry-revert/);
    const list = await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}&status=revert_failed`);
    expect(list.json.total).toBe(1);
    runId = list.json.runs[0].runId;
    expect(res.body).toContain(runId);

    const next = await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'dave'));
    expect(next.status).toBe(503);
    expect(next.body).toBe(
      `Unable to acquire project lock: run ${runId} could not be rolled back; retry it with "taskflow runs retry-revert ${runId}"`,
    );
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).json).toEqual({ project_uuid: PROJECT, locked: true });
  });

  it('stays quarantined across a service restart', async () => {
    await fx.restart();
    expect((await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'dave'))).status).toBe(503);
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).json.locked).toBe(true);
  });

  it('shows in `taskflow runs` as a table and as JSON', async () => {
    const table = await cli(['runs', '--project', PROJECT]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^RUN\s+FLOW\s+PROJECT\s+MODE\s+STATUS/);
    expect(table.stdout).toContain(runId);
    expect(table.stdout).toMatch(/revert_failed/);
    expect(table.stdout).toMatch(/4 of 4 run\(s\)/);

    const json = await cli(['runs', '--json', '--status', 'revert_failed']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, runs: [{ runId, status: 'revert_failed' }] });

    const detail = await cli(['runs', runId]);
    expect(detail.status).toBe(0);
    expect(detail.stdout).toContain(`run:      ${runId}`);
    expect(detail.stdout).toMatch(/^progress: \d+\/\d+ tasks$/m);
    const follow = await cli(['runs', runId, '--follow']);
    expect(follow.status).toBe(3);
    expect(follow.stdout).toMatch(new RegExp(`^run ${runId}: revert_failed \\(\\d+/\\d+ tasks\\): Forced failure`));
    expect(detail.stdout).toMatch(/site\.setRole\s+sodar\s+revert_failed/);
    expect(JSON.parse((await cli(['runs', runId, '--json'])).stdout)).toMatchObject({ runId, status: 'revert_failed' });

    const missing = await cli(['runs', 'no-such-run']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('Run "no-such-run" not found');
  });

  it('`taskflow runs retry-revert` rolls it back and frees the project', async () => {
    const retry = await cli(['runs', 'retry-revert', runId]);
    expect(retry.stderr).toBe('');
    expect(retry.status).toBe(0);
    expect(retry.stdout).toContain(`run ${runId}: rolled_back`);
    expect(fx.site.state().roles[`${PROJECT}/uuid-erin`]).toBeUndefined();
    expect((await getWithSecret(`${fx.service.url}/runs/${runId}`)).json.status).toBe('rolled_back');
    expect((await getWithSecret(`${fx.service.url}/locks/${PROJECT}`)).json.locked).toBe(false);
    expect(await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'dave'))).toEqual({ status: 200, body: 'True' });
  });

  it('`taskflow runs ID --follow` of an ended run prints how it ended and exits with a status saying so', async () => {
    const rolledBack = await cli(['runs', runId, '--follow']);
    expect(rolledBack.status).toBe(2);
    expect(rolledBack.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^run ${runId}: rolled_back \\(\\d+/\\d+ tasks\\): Forced failure`))]);
    const completed = (await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}&status=completed&limit=1`)).json.runs[0];
    const ok = await cli(['runs', completed.runId, '--follow']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`run ${completed.runId}: completed (${completed.taskCount}/${completed.taskCount} tasks)\n`);
    const missing = await cli(['runs', 'no-such-run', '--follow']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('Run "no-such-run" not found');
    const noId = await cli(['runs', '--follow']);
    expect(noId.status).toBe(1);
    expect(noId.stderr).toContain('--follow needs a run ID');
  });

  it('retry-revert of a run that is not revert_failed fails with a message', async () => {
    const again = await cli(['runs', 'retry-revert', runId]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is rolled_back, expected revert_failed/);
  });
});

describe('TEST_SECRET stays out of records', () => {
  it('no run meta holds the secret', async () => {
    const all = await getWithSecret(`${fx.service.url}/runs?limit=500`);
    expect(all.text).not.toContain(TEST_SECRET);
  });
});
