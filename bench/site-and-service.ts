/**
 * The setting of the end-to-end flow benchmarks: a test site and a
 * `taskflow serve` process on a fresh data folder, a keep-alive client, and
 * one timed submit with the service's CPU time beside the wall time.
 *
 * @module
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TEST_SECRET, makeTempDir, removeDir, spawnService, testEnv, type ServiceProcess } from '../test/support/service-harness.js';
import { startTestSite, type TestSite } from '../test/support/test-site.js';
import { KeepAliveClient, cpuMs } from './service-client.js';

/** What {@link withSiteAndService} hands its body. */
export interface SiteAndService {
  /** The run's temp folder (the service's data is in `data/` below it). */
  work: string;
  /** The service's environment (its settings, for opening its store beside it). */
  env: Record<string, string>;
  site: TestSite;
  service: ServiceProcess;
  client: KeepAliveClient;
}

/** Runs `body` against a fresh site and service, then stops both and removes the folder. */
export async function withSiteAndService(prefix: string, body: (s: SiteAndService) => Promise<void>): Promise<void> {
  const work = makeTempDir(prefix);
  const site = await startTestSite({ secret: TEST_SECRET });
  const env = testEnv(join(work, 'data'), { TASKFLOW_LOG_LEVEL: 'warn', TASKFLOW_SODAR_URL: site.url, TASKFLOW_SITE_TIMEOUT: '600000' });
  const service = await spawnService(env);
  const client = new KeepAliveClient(service.url, 1);
  try {
    await body({ work, env, site, service, client });
  } finally {
    client.close();
    await service.stop();
    await site.close();
    removeDir(work);
  }
}

/** One submit's answer, its wall time and the service's CPU time for it. */
export interface TimedSubmit {
  status: number;
  body: string;
  seconds: number;
  /**
   * CPU of the service (main thread and hash workers), less at the mercy of a
   * busy machine than wall time; undefined where /proc cannot tell.
   */
  cpuSeconds: number | undefined;
}

/** POSTs `request` to `/submit` and times it. */
export async function timedSubmit(s: SiteAndService, request: unknown): Promise<TimedSubmit> {
  const pid = s.service.proc.pid!;
  const cpu0 = cpuMs(pid);
  const start = performance.now();
  const res = await s.client.post('/submit', request);
  const seconds = (performance.now() - start) / 1000;
  const cpu1 = cpuMs(pid);
  const cpuSeconds = cpu0 !== undefined && cpu1 !== undefined ? Math.round(cpu1 - cpu0) / 1000 : undefined;
  return { ...res, seconds, cpuSeconds };
}
