/**
 * Project locks through the service: two concurrent submits on one project
 * (the second gets 503, or waits, as configured), two `taskflow serve`
 * processes sharing one data folder, and a graceful SIGTERM while a flow runs.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLockManager } from '../../src/locks/index.js';
import { startService } from '../../src/service/server.js';
import { openEmbeddedStore } from '../../src/store/index.js';
import { getWithSecret, postJson, spawnService, testConfig } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../support/service-flows.js';
import { startSiteGate } from '../support/service-gate.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'e0e0e0e0-0000-4000-8000-000000000005';
const OTHER = 'e1e1e1e1-0000-4000-8000-000000000006';
let site: TestSite;
const bed = serviceTestBed('taskflow-locks-', (b) => {
  site = b.site;
  for (const p of [PROJECT, OTHER]) site.seedProject({ project_uuid: p, title: p });
  for (const u of ['ann', 'ben', 'cat', 'dan', 'eve']) site.seedUser({ user_uuid: `uuid-${u}`, username: u });
});

/** A role_update that calls the site (and so can be held at the gate while holding the project lock). */
const heldRoleUpdate = (project: string, gateUrl: string, user: string) => roleUpdateBody(project, gateUrl, user, ['irods', 'sodar']);

describe('two concurrent submits on one project (one service)', () => {
  it('without retries the second gets 503 while the first holds the lock', async () => {
    const dir = bed.dataDir('data');
    const service = await startService(testConfig(dir, { TASKFLOW_LOCK_RETRY_COUNT: '0' }));
    const gate = await startSiteGate(site.url, ['project/taskflow/role/set']);
    try {
      expect((await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, site.url))).status).toBe(200);
      const first = postJson(`${service.url}/submit`, heldRoleUpdate(PROJECT, gate.url, 'ann'));
      await gate.held();
      expect(await postJson(`${service.url}/submit`, roleUpdateBody(PROJECT, site.url, 'ben'))).toEqual({
        status: 503,
        body: 'Unable to acquire project lock',
      });
      // another project is not blocked
      expect((await postJson(`${service.url}/submit`, projectCreateBody(OTHER, site.url))).status).toBe(200);
      gate.open();
      expect(await first).toEqual({ status: 200, body: 'True' });
      expect((await postJson(`${service.url}/submit`, roleUpdateBody(PROJECT, site.url, 'ben'))).status).toBe(200);
    } finally {
      await gate.close();
      await service.close();
    }
  });

  it('with retries the second waits for the lock and then runs', async () => {
    const dir = bed.dataDir('data');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    const service = await startService(
      testConfig(dir, { TASKFLOW_LOCK_RETRY_COUNT: '1000', TASKFLOW_LOCK_RETRY_INTERVAL: '0.02', TASKFLOW_LOG_LEVEL: 'info' }),
      { logDestination: sink },
    );
    const gate = await startSiteGate(site.url, ['project/taskflow/role/set']);
    try {
      expect((await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, site.url))).status).toBe(200);
      const first = postJson(`${service.url}/submit`, heldRoleUpdate(PROJECT, gate.url, 'cat'));
      await gate.held();
      let secondDone = false;
      const second = postJson(`${service.url}/submit`, roleUpdateBody(PROJECT, site.url, 'dan')).then((r) => {
        secondDone = true;
        return r;
      });
      await waitFor('the second submit to wait for the lock', () => lines.some((l) => l.includes('waiting for project lock')));
      expect(secondDone).toBe(false);
      gate.open();
      expect(await first).toEqual({ status: 200, body: 'True' });
      expect(await second).toEqual({ status: 200, body: 'True' });
      const runs = service.journal.listRuns({ label: PROJECT, flowName: 'role_update', limit: 10, offset: 0 }).runs;
      // the waiting run started only after the first had finished
      expect(runs.map((r) => r.status)).toEqual(['completed', 'completed']);
      expect(Date.parse(runs[0].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[1].endedAt!));
    } finally {
      await gate.close();
      await service.close();
    }
  });
});

// The same exclusion on both lock backends; on Redis the projects get fresh
// ids so parallel test files never share a key.
const LOCK_BACKENDS: Array<[string, Record<string, string>, string, string]> = [
  ['embedded lease', {}, PROJECT, OTHER],
  ['Redis lease', { TASKFLOW_REDIS_URL: 'redis://127.0.0.1:6379' }, randomUUID(), randomUUID()],
];

describe.each(LOCK_BACKENDS)('two service processes sharing one data folder (%s)', (_name, lockEnv, PROJECT, OTHER) => {
  it('exclude each other per project, and a starting one leaves the other one\'s live run alone', async () => {
    const dir = bed.dataDir('data');
    for (const p of [PROJECT, OTHER]) site.seedProject({ project_uuid: p, title: p });
    const env = bed.env(dir, lockEnv);
    const gate = await startSiteGate(site.url, ['project/taskflow/role/set']);
    const a = await spawnService(env);
    let b: Awaited<ReturnType<typeof spawnService>> | undefined;
    try {
      expect((await postJson(`${a.url}/submit`, projectCreateBody(PROJECT, site.url))).status).toBe(200);
      const held = postJson(`${a.url}/submit`, heldRoleUpdate(PROJECT, gate.url, 'eve'));
      await gate.held(); // A is in the middle of its run, holding the project lock

      b = await spawnService(env); // B's start-up recovery sees A's unfinished run
      expect(await postJson(`${b.url}/submit`, roleUpdateBody(PROJECT, site.url, 'ann'))).toEqual({
        status: 503,
        body: 'Unable to acquire project lock',
      });
      expect((await getWithSecret(`${b.url}/locks/${PROJECT}`)).json.locked).toBe(true);
      expect((await postJson(`${b.url}/submit`, projectCreateBody(OTHER, site.url))).status).toBe(200);

      gate.open();
      expect(await held).toEqual({ status: 200, body: 'True' });
      expect((await postJson(`${b.url}/submit`, roleUpdateBody(PROJECT, site.url, 'ann'))).status).toBe(200);
      const runs = await getWithSecret(`${b.url}/runs?project=${PROJECT}&flow=role_update`);
      expect(runs.json.runs.map((r: { status: string }) => r.status)).toEqual(['completed', 'completed']);
    } finally {
      await gate.close();
      expect(await a.stop()).toBe(0);
      if (b) expect(await b.stop()).toBe(0);
    }
    const store = await openEmbeddedStore(loadConfig(env));
    try {
      expect(await store.groupMembers(`omics_project_${PROJECT}`)).toEqual(expect.arrayContaining(['eve', 'ann']));
      const fsck = await store.fsck();
      expect([fsck.missingFiles, fsck.orphanFiles]).toEqual([[], []]);
    } finally {
      await store.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: stops accepting, lets the running flow finish, releases the lock, exits 0', async () => {
    const dir = bed.dataDir('data');
    const env = bed.env(dir);
    const gate = await startSiteGate(site.url, ['project/taskflow/role/set']);
    const service = await spawnService(env);
    try {
      expect((await postJson(`${service.url}/submit`, projectCreateBody(PROJECT, site.url))).status).toBe(200);
      const running = postJson(`${service.url}/submit`, heldRoleUpdate(PROJECT, gate.url, 'ben'));
      await gate.held();
      service.proc.kill('SIGTERM');
      await service.waitForLine(/SIGTERM received, stopping/);
      // no new requests are taken
      const refused = await fetch(`${service.url}/hello`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(refused);
      gate.open();
      expect(await running).toEqual({ status: 200, body: 'True' });
      expect(await service.exited).toBe(0);
    } finally {
      await gate.close();
      await service.stop();
    }
    const config = loadConfig(env);
    const locks = createLockManager(config);
    try {
      expect(await locks.isLocked(PROJECT)).toBe(false);
    } finally {
      await locks.close();
    }
  });
});
