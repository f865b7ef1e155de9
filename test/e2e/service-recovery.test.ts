/**
 * Crash recovery: `taskflow serve` killed with SIGKILL in the middle of a
 * landing_zone_move of thousands of files, at several points (the test-only
 * freeze hook stops the process right after a given task, so the kill lands
 * exactly there). After a restart the zone's files are all in the zone or
 * all in sample data, never split; the zone status says which; the project
 * lock is free; fsck is clean.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openEmbeddedStore } from '../../src/store/index.js';
import {
  TEST_SECRET,
  getWithSecret,
  makeTempDir,
  postJson,
  removeDir,
  spawnService,
  testEnv,
} from '../support/service-harness.js';
import { zoneMoveBody } from '../support/service-flows.js';
import { createZone, defaultZone, uploadToZone, writeZoneFiles, zonePaths } from '../support/service-zone.js';
import { startTestSite, type TestSite } from '../support/test-site.js';

const FILES = 2500; // + 2500 .md5 companions: 5 move tasks of 1000 objects
const PROJECT = 'dead0000-0000-4000-8000-000000000004';
let site: TestSite;
let work: string;
let upload: string;

beforeAll(async () => {
  site = await startTestSite({ secret: TEST_SECRET });
  work = makeTempDir('taskflow-recovery-');
  upload = writeZoneFiles(work, FILES, 64);
});
afterAll(async () => {
  await site?.close();
  if (work) removeDir(work);
});

/**
 * Task positions of the move (14 tasks with 5000 objects): 0 PREPARING,
 * 1 VALIDATING, 2 check files, 3 access (user read, group read: one task),
 * 4 MOVING, 5 create collections, 6-10 move chunks, 11 remove user access,
 * 12 trash zone, 13 MOVED.
 */
const POINTS: Array<{ at: string; expect: 'zone' | 'samples' }> = [
  { at: 'done:2', expect: 'zone' }, // checked, nothing moved yet
  { at: 'start:6', expect: 'zone' }, // zone locked, about to move the first chunk
  { at: 'done:8', expect: 'zone' }, // in the middle of the moves
  { at: 'done:-2', expect: 'zone' }, // zone collection already in the trash
  { at: 'done:-1', expect: 'samples' }, // every task done, only the final record missing: rolled forward
];

describe('recovery after SIGKILL during landing_zone_move', () => {
  for (const point of POINTS) {
    it(`killed at ${point.at}: files all in the ${point.expect === 'zone' ? 'zone' : 'sample data'}`, async () => {
      const dataDir = join(work, `data-${point.at.replace(/[:-]/g, '_')}`);
      const zone = { ...defaultZone(), zoneUuid: `zone-${point.at}` };
      const env = testEnv(dataDir, { TASKFLOW_SODAR_URL: site.url, TASKFLOW_LOCK_LEASE: '1', TASKFLOW_LOG_LEVEL: 'warn' });
      const config = loadConfig(env);
      const paths = zonePaths(config, PROJECT, zone);

      let service = await spawnService({ ...env, TASKFLOW_TEST_FREEZE_AT: `landing_zone_move:${point.at}` });
      try {
        await createZone(service.url, site, PROJECT, zone);
        expect(await uploadToZone(config, PROJECT, zone, upload)).toBe(FILES * 2);
        const answer = postJson(`${service.url}/submit`, zoneMoveBody(PROJECT, site.url, zone)).catch((err: Error) => err);
        const frozen = await service.waitForLine(/TASKFLOW_TEST_FROZEN/);
        expect(frozen).toMatch(/of=14$/);
        service.proc.kill('SIGKILL');
        expect(await service.exited).toBe('SIGKILL');
        expect(await answer).toBeInstanceOf(Error); // the client never got an answer
      } finally {
        await service.stop();
      }

      // Restart: recovery runs before the service listens.
      service = await spawnService(env);
      try {
        expect((await getWithSecret(`${service.url}/locks/${PROJECT}`)).json).toEqual({ project_uuid: PROJECT, locked: false });
        const runs = await getWithSecret(`${service.url}/runs?project=${PROJECT}&flow=landing_zone_move`);
        expect(runs.json.runs[0].status).toBe(point.expect === 'zone' ? 'rolled_back' : 'completed');
      } finally {
        expect(await service.stop()).toBe(0);
      }

      const status = site.state().zones[zone.zoneUuid];
      const store = await openEmbeddedStore(config);
      try {
        const inZone = (await store.collectionExists(paths.zone)) ? await store.listObjectPaths(paths.zone) : [];
        const inSamples = (await store.collectionExists(paths.samples)) ? await store.listObjectPaths(paths.samples) : [];
        if (point.expect === 'zone') {
          expect([inZone.length, inSamples.length]).toEqual([FILES * 2, 0]);
          expect(status.status).toBe('FAILED');
          expect(status.status_info).toMatch(/interrupted/i);
          // the user may write to the zone again
          expect(await store.getAccess(paths.zone, zone.userName)).toBe('own');
        } else {
          expect([inZone.length, inSamples.length]).toEqual([0, FILES * 2]);
          expect(status.status).toBe('MOVED');
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
