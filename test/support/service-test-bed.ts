/**
 * The start-up the end-to-end service tests share: one test site and one
 * work folder a test file, data folders for services in it, a service's
 * environment, and `taskflow serve` processes that are stopped, and folders
 * that are removed, once the test that made them ends (or, when made outside
 * a test, once the file's tests end).
 *
 *   let site: TestSite;
 *   const bed = serviceTestBed('taskflow-queue-', (b) => ({ site } = b));
 *   it('...', async () => {
 *     const env = bed.env(bed.dataDir('one'), { TASKFLOW_LOCK_LEASE: '1' });
 *     const service = await bed.spawn(env);
 *   });
 *
 * @module
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from 'vitest';
import { TEST_SECRET, makeTempDir, removeDir, spawnService, testEnv, type ServiceProcess } from './service-harness.js';
import { startTestSite, type TestSite } from './test-site.js';

/** What {@link serviceTestBed} gives a test file; usable once its `beforeAll` has run. */
export interface ServiceTestBed {
  /** The file's test site, with the test secret. */
  readonly site: TestSite;
  /** The file's work folder, removed after its tests. */
  readonly work: string;
  /** A new data folder in the work folder, its name starting with `name`. */
  dataDir(name: string): string;
  /** The environment of a test service on `dataDir` that calls the test site and logs warnings, plus `extra`. */
  env(dataDir: string, extra?: Record<string, string>): Record<string, string>;
  /** Spawns `taskflow serve` with `env` and waits until it listens. */
  spawn(env: Record<string, string>): Promise<ServiceProcess>;
}

/**
 * Starts the test site and makes the work folder (prefix `prefix`) before the
 * calling file's tests, then calls `opened` (to seed the site or keep its
 * parts); closes and removes them after the tests.
 */
export function serviceTestBed(prefix: string, opened?: (bed: ServiceTestBed) => unknown): ServiceTestBed {
  let site: TestSite | undefined;
  let work: string | undefined;
  let inTest = false;
  const atEnd: Array<() => unknown> = [];
  // What a test made goes when it ends (its vault may hold thousands of files: removing them all in
  // afterAll outlasted the hook's deadline on a loaded machine); what beforeAll made goes after the file.
  const undo = (fn: () => unknown): void => {
    if (inTest) onTestFinished(async () => void (await fn()));
    else atEnd.push(fn);
  };
  const bed: ServiceTestBed = {
    get site() {
      if (!site) throw new Error('the test site starts in beforeAll');
      return site;
    },
    get work() {
      if (!work) throw new Error('the work folder is made in beforeAll');
      return work;
    },
    dataDir(name) {
      const dir = mkdtempSync(join(bed.work, `${name}-`));
      undo(() => removeDir(dir));
      return dir;
    },
    env: (dataDir, extra = {}) => testEnv(dataDir, { TASKFLOW_SODAR_URL: bed.site.url, TASKFLOW_LOG_LEVEL: 'warn', ...extra }),
    async spawn(env) {
      const service = await spawnService(env);
      undo(() => service.stop());
      return service;
    },
  };
  beforeAll(async () => {
    site = await startTestSite({ secret: TEST_SECRET });
    work = makeTempDir(prefix);
    await opened?.(bed);
  });
  beforeEach(() => {
    inTest = true;
  });
  afterEach(() => {
    inTest = false;
  });
  afterAll(async () => {
    for (const fn of atEnd.splice(0).reverse()) await fn();
    await site?.close();
    if (work) removeDir(work);
  });
  return bed;
}
