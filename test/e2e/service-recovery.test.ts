/**
 * Crash recovery: `taskflow serve` killed with SIGKILL in the middle of a
 * landing_zone_move of thousands of files, at several points (the test-only
 * freeze hook stops the process right after a given task, so the kill lands
 * exactly there). After a restart the zone's files are all in the zone or
 * all in sample data, never split; the zone status says which; the project
 * lock is free; fsck is clean. And a killed service's runs are taken over
 * once its owner lease runs out, also when it is restarted at once, again
 * and again: each run reverted and reported once. A submit that wins a dead
 * run's project lock before any look has taken the run over recovers it
 * first, and only then runs. A site that cannot be reached while a killed
 * run is recovered only delays the run's rollback and report: the run stays
 * unfinished, its project locked, until the site is back. A run whose
 * recovery the site refused is reported again once the operator's
 * `taskflow runs retry-revert` has rolled it back.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { SqliteLeaseStore, lockDatabasePath, lockKey, ownerKey } from '../../src/locks/index.js';
import { openEmbeddedStore } from '../../src/store/index.js';
import { CLI_PATH, getWithSecret, postJson, spawnService, unreportedRuns, watchOutput } from '../support/service-harness.js';
import { roleUpdateBody, zoneMoveBody } from '../support/service-flows.js';
import { createZone, defaultZone, uploadToZone, writeZoneFiles, zonePaths } from '../support/service-zone.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import { startSiteOutage } from '../support/site-outage.js';
import type { TestSite } from '../support/test-site.js';

const FILES = 2500; // + 2500 .md5 companions: 5 move tasks of 1000 objects
const PROJECT = 'dead0000-0000-4000-8000-000000000004';
let site: TestSite;
let work: string;
let upload: string;
const bed = serviceTestBed('taskflow-recovery-', (b) => {
  ({ site, work } = b);
  upload = writeZoneFiles(work, FILES, 64);
});

/**
 * A `taskflow serve` leading a process group of its own, under a supervisor
 * (dash, waiting in `read`) that reaps it only when released: once killed,
 * the service stays a zombie, as behind a busy or slow supervisor, so its
 * pid still answers `kill(pid, 0)` when the next one starts.
 */
interface SupervisedService {
  url: string;
  /** The service's pid, which is also its process group id. */
  pid: number;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Kills the service's whole process group. */
  killGroup(): void;
  /** Lets the supervisor reap the service and exit; resolves once it has. */
  release(): Promise<number | string>;
}

async function superviseService(env: Record<string, string>): Promise<SupervisedService> {
  const supervisor = spawn('sh', ['-c', 'setsid "$0" "$1" serve </dev/null & echo "service pid $!"; read _', process.execPath, CLI_PATH], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = watchOutput(supervisor);
  const pid = Number(/service pid (\d+)/.exec(await out.waitForLine(/^service pid \d+$/))![1]);
  const url = /listening on (http\S+)/.exec(await out.waitForLine(/listening on http/))![1];
  return {
    url,
    pid,
    waitForLine: out.waitForLine,
    killGroup: () => process.kill(-pid, 'SIGKILL'),
    release() {
      supervisor.stdin!.end('\n');
      return out.exited;
    },
  };
}

/** The status of the project's zone move once it is no longer running; undefined while it is. */
async function finalStatus(serviceUrl: string, project: string): Promise<string | undefined> {
  const runs = await getWithSecret(`${serviceUrl}/runs?project=${project}&flow=landing_zone_move`);
  const status: string | undefined = runs.json?.runs?.[0]?.status;
  return status === undefined || status === 'running' ? undefined : status;
}

/** The whole store's dump, from a handle opened for it alone. */
async function dumpStore(config: Config): Promise<string[]> {
  const store = await openEmbeddedStore(config);
  try {
    return await store.dump();
  } finally {
    await store.close();
  }
}

/**
 * Waits for the project's lock to be free. Recovery records a run's end
 * durably before it frees the project lock (so no new run starts on a
 * half-reverted project), and it runs beside the listening service: the lock
 * is freed just after the run's status shows.
 */
async function lockFreed(serviceUrl: string, project: string): Promise<{ project_uuid: string; locked: boolean }> {
  return waitFor(`the lock of ${project} to be freed`, async () => {
    const json = (await getWithSecret(`${serviceUrl}/locks/${project}`)).json;
    return json?.locked === false ? json : undefined;
  });
}

/**
 * Task positions of the move (15 tasks with 5000 objects): 0 PREPARING,
 * 1 VALIDATING, 2 check files, 3 access (user read, group read: one task),
 * 4 MOVING, 5 create collections, 6-10 move chunks (each dropping the zone
 * user's access on its files), 11 remove the user's access on the sample
 * path, 12 remove user access to the zone, 13 trash zone, 14 MOVED.
 */
const POINTS: Array<{ at: string; expect: 'zone' | 'samples' }> = [
  { at: 'done:2', expect: 'zone' }, // checked, nothing moved yet
  { at: 'start:6', expect: 'zone' }, // zone locked, about to move the first chunk
  { at: 'done:8', expect: 'zone' }, // in the middle of the moves
  { at: 'done:11', expect: 'zone' }, // moved, and nothing on sample data names the zone user any more
  { at: 'done:-2', expect: 'zone' }, // zone collection already in the trash
  { at: 'done:-1', expect: 'samples' }, // every task done, only the final record missing: rolled forward
];

describe('recovery after SIGKILL during landing_zone_move', () => {
  for (const point of POINTS) {
    it(`killed at ${point.at}: files all in the ${point.expect === 'zone' ? 'zone' : 'sample data'}`, async () => {
      const zone = { ...defaultZone(), zoneUuid: `zone-${point.at}` };
      const env = bed.env(bed.dataDir(`data-${point.at.replace(/[:-]/g, '_')}`), { TASKFLOW_LOCK_LEASE: '1' });
      const config = loadConfig(env);
      const paths = zonePaths(config, PROJECT, zone);

      let service = await spawnService({ ...env, TASKFLOW_TEST_FREEZE_AT: `landing_zone_move:${point.at}` });
      try {
        await createZone(service.url, site, PROJECT, zone);
        expect(await uploadToZone(config, PROJECT, zone, upload)).toBe(FILES * 2);
        const answer = postJson(`${service.url}/submit`, zoneMoveBody(PROJECT, site.url, zone)).catch((err: Error) => err);
        const frozen = await service.waitForLine(/TASKFLOW_TEST_FROZEN/);
        expect(frozen).toMatch(/of=15$/);
        service.proc.kill('SIGKILL');
        expect(await service.exited).toBe('SIGKILL');
        expect(await answer).toBeInstanceOf(Error); // the client never got an answer
      } finally {
        await service.stop();
      }

      // Restart: the run is taken over once the killed process's owner lease has run out.
      service = await spawnService(env);
      try {
        const status = await waitFor('the killed run to be recovered', () => finalStatus(service.url, PROJECT));
        expect(status).toBe(point.expect === 'zone' ? 'rolled_back' : 'completed');
        expect(await lockFreed(service.url, PROJECT)).toEqual({ project_uuid: PROJECT, locked: false });
      } finally {
        expect(await service.stop()).toBe(0);
      }

      const status = site.state().zones[zone.zoneUuid];
      const store = await openEmbeddedStore(config);
      try {
        const inZone = ((await store.stat(paths.zone))?.type === 'collection') ? await store.listObjectPaths(paths.zone) : [];
        const inSamples = ((await store.stat(paths.samples))?.type === 'collection') ? await store.listObjectPaths(paths.samples) : [];
        if (point.expect === 'zone') {
          expect([inZone.length, inSamples.length]).toEqual([FILES * 2, 0]);
          expect(status.status).toBe('FAILED');
          expect(status.status_info).toMatch(/interrupted/i);
          // the user may write to the zone again, on every file too
          expect((await store.getAccessMany([paths.zone], zone.userName))[0]).toBe('own');
          expect((await store.getAccessMany([inZone[inZone.length - 1]], zone.userName))[0]).toBe('own');
        } else {
          expect([inZone.length, inSamples.length]).toEqual([0, FILES * 2]);
          expect(status.status).toBe('MOVED');
          expect((await store.getAcl(inSamples[0])).map((a) => a.name)).not.toContain(zone.userName);
        }
        const fsck = await store.fsck();
        expect(fsck.missingFiles).toEqual([]);
        expect(fsck.orphanFiles).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }
});

describe('SIGKILL of the whole process group and an immediate restart, round after round', () => {
  it('each killed move is reverted and reported once, about one lease period after the restart', async () => {
    const LEASE_MS = 2000;
    /**
     * After the restart the killed owner's lease runs out within one lease
     * period; the look that follows comes within a quarter lease; then the
     * project lock (renewed on its own timer) and the revert itself.
     */
    const DEADLINE_MS = LEASE_MS + LEASE_MS / 4 + 1500;
    const ROUNDS = 3;
    const env = bed.env(bed.dataDir('data-rounds'), { TASKFLOW_LOCK_LEASE: String(LEASE_MS / 1000) });
    const config = loadConfig(env);
    // Frozen (held for good) in the middle of the move: files already in sample data, zone VALIDATING/MOVING.
    const serviceEnv = { ...env, TASKFLOW_TEST_FREEZE_AT: 'landing_zone_move:done:-4' };
    const files = writeZoneFiles(join(work, 'rounds'), 20, 64);
    const dump = (): Promise<string[]> => dumpStore(config);

    const supervised: SupervisedService[] = [];
    const start = async (): Promise<SupervisedService> => {
      const started = await superviseService(serviceEnv);
      supervised.push(started);
      return started;
    };
    let service = await start();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const project = `dead0000-0000-4000-8000-00000000010${round}`;
        const timeline = `dead0000-0000-4000-8000-00000000020${round}`;
        const zone = { ...defaultZone(), zoneUuid: `zone-round-${round}` };
        await createZone(service.url, site, project, zone);
        expect(await uploadToZone(config, project, zone, files)).toBe(40);
        site.seedTimelineEvent({ event_uuid: timeline, project_uuid: project });
        const before = await dump();

        const accepted = await postJson(`${service.url}/submit`, zoneMoveBody(project, site.url, zone, { mode: 'async', timelineUuid: timeline }));
        expect(accepted).toEqual({ status: 200, body: 'True' });
        await service.waitForLine(/TASKFLOW_TEST_FROZEN/);
        expect(site.state().zones[zone.zoneUuid].status).not.toBe('FAILED');

        // Kill the group and restart at once; the killed one stays a zombie until this round ends.
        const killed = service;
        killed.killGroup();
        service = await start();
        const restarted = Date.now();

        const status = await waitFor(`round ${round}: the killed move to be recovered`, () => finalStatus(service.url, project), DEADLINE_MS + 10_000);
        await waitFor(`round ${round}: the zone to be reported FAILED`, () => site.state().zones[zone.zoneUuid].status === 'FAILED');
        await waitFor(`round ${round}: the timeline event to be reported`, () => site.state().timeline[timeline].status_history.length > 0);
        const took = Date.now() - restarted;
        expect(status).toBe('rolled_back');
        expect(took, `round ${round}: recovered ${took} ms after the restart`).toBeLessThanOrEqual(DEADLINE_MS);
        expect(site.state().zones[zone.zoneUuid].status_info).toMatch(/interrupted/i);
        expect(await dump()).toEqual(before);
        expect((await lockFreed(service.url, project)).locked).toBe(false);
        // Reverted and reported once: one run, one timeline status, one FAILED zone status.
        const runs = await getWithSecret(`${service.url}/runs?project=${project}&flow=landing_zone_move`);
        expect(runs.json.runs.map((r: { status: string }) => r.status)).toEqual(['rolled_back']);
        expect(site.state().timeline[timeline].status_history.map((h) => h.status_type)).toEqual(['FAILED']);
        const failedCalls = site.calls.filter(
          (c) => c.endpoint === 'landingzones/taskflow/status/set' && c.fields.zone_uuid === zone.zoneUuid && c.fields.status === 'FAILED',
        );
        expect(failedCalls).toHaveLength(1);
        await killed.release();
      }
    } finally {
      service.killGroup();
      await Promise.all(supervised.map((s) => s.release()));
    }
  });
});

describe('a submit in the gap between a dead owner\'s lease running out and the next look', () => {
  it('recovers the dead run first, then runs the submit: never on top of the half-finished run', async () => {
    const project = 'dead0000-0000-4000-8000-000000000301';
    const timeline = 'dead0000-0000-4000-8000-000000000302';
    const zone = { ...defaultZone(), zoneUuid: 'zone-gap' };
    const dataDir = bed.dataDir('data-gap');
    const base = bed.env(dataDir);
    const config = loadConfig(base);
    // The owner that dies: leases of 1 s, so its project lock and its owner lease run out soon after it freezes.
    const deadEnv = { ...base, TASKFLOW_LOCK_LEASE: '1', TASKFLOW_TEST_FREEZE_AT: 'landing_zone_move:done:-4' };
    // The survivor: leases of 120 s, so its watch looks every 30 s, long after the submit below.
    const liveEnv = { ...base, TASKFLOW_LOCK_LEASE: '120' };
    const dump = (): Promise<string[]> => dumpStore(config);
    const runsOf = async (url: string, flow: string): Promise<Array<{ status: string; meta: { owner: { id: string } } }>> =>
      (await getWithSecret(`${url}/runs?project=${project}&flow=${flow}`)).json.runs;

    // The survivor starts first: its start-up look finds nothing, its next look is 30 s away.
    const live = await spawnService(liveEnv);
    const dead = await spawnService(deadEnv);
    const leases = new SqliteLeaseStore(lockDatabasePath(dataDir));
    try {
      await createZone(dead.url, site, project, zone);
      expect(await uploadToZone(config, project, zone, writeZoneFiles(join(work, 'gap'), 20, 64))).toBe(40);
      site.seedTimelineEvent({ event_uuid: timeline, project_uuid: project });
      const before = await dump();
      const accepted = await postJson(`${dead.url}/submit`, zoneMoveBody(project, site.url, zone, { mode: 'async', timelineUuid: timeline }));
      expect(accepted).toEqual({ status: 200, body: 'True' });
      // Frozen for good (no more lease renewals) with files already in sample data.
      await dead.waitForLine(/TASKFLOW_TEST_FROZEN/);
      const [moveRun] = await runsOf(live.url, 'landing_zone_move');
      expect(moveRun.status).toBe('running');
      const deadOwner = moveRun.meta.owner.id;

      dead.proc.kill('SIGKILL');
      expect(await dead.exited).toBe('SIGKILL');
      // Both of the dead owner's leases run out: the project is free to lock, and nobody has looked yet.
      await waitFor('the dead owner\'s leases to run out', async () =>
        !(await leases.isLocked(lockKey(project))) && !(await leases.isLocked(ownerKey(deadOwner))) ? true : undefined,
      );
      expect((await runsOf(live.url, 'landing_zone_move'))[0].status).toBe('running');

      const answer = await postJson(`${live.url}/submit`, roleUpdateBody(project, site.url, 'gap_user'));
      // The dead run had ended, reverted, before the submit's flow ran.
      expect((await runsOf(live.url, 'landing_zone_move')).map((r) => r.status)).toEqual(['rolled_back']);
      expect(answer).toEqual({ status: 200, body: 'True' });
      expect((await runsOf(live.url, 'role_update')).map((r) => r.status)).toEqual(['completed']);

      // The move fully reverted, reported once; the new flow's effect (gap_user's membership) once.
      const after = await dump();
      expect(before.filter((l) => !after.includes(l))).toEqual([]);
      const added = after.filter((l) => !before.includes(l));
      expect(added.length).toBeGreaterThan(0);
      for (const l of added) expect(l).toMatch(/gap_user/);
      expect(site.state().zones[zone.zoneUuid].status).toBe('FAILED');
      expect(site.state().zones[zone.zoneUuid].status_info).toMatch(/interrupted/i);
      expect(site.state().timeline[timeline].status_history.map((h) => h.status_type)).toEqual(['FAILED']);
      expect((await lockFreed(live.url, project)).locked).toBe(false);
    } finally {
      await leases.close();
      await dead.stop();
      expect(await live.stop()).toBe(0);
    }
  });
});


/** Runs the built CLI on `env` without blocking this process (the test site answers its callbacks). */
function cli(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface RunRecord {
  runId: string;
  status: string;
  tasks: Array<{ state: string; error?: string }>;
}

/** A killed async zone move of `project`, its site reached at `siteUrl`; the store as it was before the move. */
async function killedMove(env: Record<string, string>, project: string, timeline: string, zoneUuid: string, siteUrl: string): Promise<string[]> {
  const config = loadConfig(env);
  const zone = { ...defaultZone(), zoneUuid };
  const service = await spawnService({ ...env, TASKFLOW_TEST_FREEZE_AT: 'landing_zone_move:done:-4' });
  try {
    await createZone(service.url, site, project, zone);
    expect(await uploadToZone(config, project, zone, writeZoneFiles(join(work, zoneUuid), 10, 64))).toBe(20);
    site.seedTimelineEvent({ event_uuid: timeline, project_uuid: project });
    const before = await dumpStore(config);
    const accepted = await postJson(`${service.url}/submit`, zoneMoveBody(project, siteUrl, zone, { mode: 'async', timelineUuid: timeline }));
    expect(accepted).toEqual({ status: 200, body: 'True' });
    await service.waitForLine(/TASKFLOW_TEST_FROZEN/);
    expect(site.state().zones[zoneUuid].status).toBe('MOVING');
    service.proc.kill('SIGKILL');
    expect(await service.exited).toBe('SIGKILL');
    return before;
  } finally {
    await service.stop();
  }
}

describe('a killed run recovered while the site cannot be reached', () => {
  it('stays unfinished with its project locked, then is rolled back and reported once the site is back', async () => {
    const project = 'dead0000-0000-4000-8000-000000000401';
    const timeline = 'dead0000-0000-4000-8000-000000000402';
    const zoneUuid = 'zone-site-down';
    const outage = await startSiteOutage(site.url);
    const dataDir = bed.dataDir('data-site-down');
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const before = await killedMove(env, project, timeline, zoneUuid, outage.url);

    // The site goes away (as under `taskflow start`, whose service recovers before its site listens).
    await outage.down();
    const service = await bed.spawn(env);
    const runOf = async (): Promise<RunRecord> => {
      const [listed] = (await getWithSecret(`${service.url}/runs?project=${project}&flow=landing_zone_move`)).json.runs;
      return (await getWithSecret(`${service.url}/runs/${listed.runId}`)).json;
    };
    const tried = await waitFor('recovery to try the revert', async () => {
      const run = await runOf();
      return run.status !== 'running' || run.tasks.some((t) => t.state === 'revert_failed') ? run : undefined;
    });
    // Not a failed rollback: unfinished, the reverts that could not reach the site tried again later.
    expect(tried.status).toBe('running');
    expect(tried.tasks.filter((t) => t.state === 'revert_failed').every((t) => /ECONNREFUSED/.test(t.error ?? ''))).toBe(true);
    // Meanwhile the project is locked and nothing else runs on it.
    expect((await getWithSecret(`${service.url}/locks/${project}`)).json).toEqual({ project_uuid: project, locked: true });
    expect((await postJson(`${service.url}/submit`, roleUpdateBody(project, site.url, 'waiting_user'))).status).toBe(503);
    expect(site.state().timeline[timeline].status_history).toEqual([]);
    const shown = await cli(['runs', tried.runId], env);
    expect(shown.stdout).toMatch(/^status: {3}running \(rollback waits, recovery tries again\)$/m);
    expect(shown.stdout).toMatch(/^waits: {4}task \d+ ".*": .*ECONNREFUSED/m);

    await outage.up();
    expect(await waitFor('the move to be rolled back', () => finalStatus(service.url, project))).toBe('rolled_back');
    await waitFor('the timeline event to be reported', () => site.state().timeline[timeline].status_history.length > 0);
    await waitFor('the report to be marked', () => unreportedRuns(dataDir).length === 0);
    expect(site.state().timeline[timeline].status_history.map((h) => h.status_type)).toEqual(['FAILED']);
    expect(site.state().zones[zoneUuid].status).toBe('FAILED');
    expect(site.state().zones[zoneUuid].status_info).toMatch(/interrupted/i);
    expect(await dumpStore(loadConfig(env))).toEqual(before);
    expect((await lockFreed(service.url, project)).locked).toBe(false);
    expect(await postJson(`${service.url}/submit`, roleUpdateBody(project, site.url, 'waiting_user'))).toEqual({ status: 200, body: 'True' });
  });

  it('a report the site could not take is sent again, and the run marked reported only then', async () => {
    const project = 'dead0000-0000-4000-8000-000000000411';
    const timeline = 'dead0000-0000-4000-8000-000000000412';
    const zoneUuid = 'zone-report-down';
    const dataDir = bed.dataDir('data-report-down');
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const before = await killedMove(env, project, timeline, zoneUuid, site.url);

    // the rollback reaches the site; the first timeline report meets a proxy whose site is restarting
    site.failNext('timeline/taskflow/status/set', 503, 1);
    const service = await bed.spawn(env);
    expect(await waitFor('the move to be rolled back', () => finalStatus(service.url, project))).toBe('rolled_back');
    await waitFor('the timeline event to be reported', () => site.state().timeline[timeline].status_history.length > 0);
    await waitFor('the report to be marked', () => unreportedRuns(dataDir).length === 0);
    expect(site.calls.filter((c) => c.endpoint === 'timeline/taskflow/status/set' && c.fields.event_uuid === timeline).map((c) => c.status)).toEqual([503, 200]);
    expect(site.state().timeline[timeline].status_history.map((h) => h.status_type)).toEqual(['FAILED']);
    expect(site.state().zones[zoneUuid].status).toBe('FAILED');
    expect(await dumpStore(loadConfig(env))).toEqual(before);
  });
});

describe('`taskflow runs retry-revert` of a recovered run whose revert the site refused', () => {
  it('rolls it back and tells the site: zone FAILED, timeline FAILED, never left busy', async () => {
    const project = 'dead0000-0000-4000-8000-000000000421';
    const timeline = 'dead0000-0000-4000-8000-000000000422';
    const zoneUuid = 'zone-retry-revert';
    const dataDir = bed.dataDir('data-retry-revert');
    const env = bed.env(dataDir, { TASKFLOW_LOCK_LEASE: '1' });
    const before = await killedMove(env, project, timeline, zoneUuid, site.url);

    // the site refuses recovery's first zone status revert: a failed rollback, the project quarantined
    site.failNext('landingzones/taskflow/status/set', 500, 1);
    const service = await bed.spawn(env);
    expect(await waitFor('the move to be recovered', () => finalStatus(service.url, project))).toBe('revert_failed');
    // the run has no journal mark to wait for before it ends: wait for the report itself, then for its mark
    await waitFor('the failure to be reported', () => site.state().timeline[timeline].status_history.length > 0);
    await waitFor('the report to be marked', () => unreportedRuns(dataDir).length === 0);
    expect(site.state().timeline[timeline].status_history.map((h) => h.status_type)).toEqual(['FAILED']);
    expect(site.state().zones[zoneUuid].status).toBe('FAILED');
    const runId: string = (await getWithSecret(`${service.url}/runs?project=${project}&flow=landing_zone_move`)).json.runs[0].runId;

    const retry = await cli(['runs', 'retry-revert', runId], env);
    expect(retry.stderr).toBe('');
    expect(retry.status).toBe(0);
    expect(retry.stdout).toContain(`run ${runId}: rolled_back`);
    // the retried revert set the zone back to a busy status; the report after it ends that
    const zone = site.state().zones[zoneUuid];
    expect(zone.status).toBe('FAILED');
    expect(zone.status_info).toMatch(/^Failed to move landing zone files: .*interrupted.*; all changes were rolled back$/);
    const history = site.state().timeline[timeline].status_history;
    expect(history.map((h) => h.status_type)).toEqual(['FAILED', 'FAILED']);
    expect(history[1].status_desc).toMatch(/; all changes were rolled back$/);
    expect(await dumpStore(loadConfig(env))).toEqual(before);
    expect((await lockFreed(service.url, project)).locked).toBe(false);
  });
});
