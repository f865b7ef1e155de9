/**
 * `npm run bench -- zone-create --colls N [--fail]`
 *
 * End to end through `POST /submit` (sync): a `taskflow serve` process, a
 * test site and a project, then one `landing_zone_create` whose `colls`
 * lists N collections (in folders of 100), timed from request to answer.
 * SODAR found zones with 5,000+ collections very slow to create. With
 * `--fail` the request asks for a forced failure, so the time includes
 * rolling every collection back (the answer is then 500). Progress on
 * stderr; the last stdout line is one JSON object.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TEST_SECRET, makeTempDir, removeDir, spawnService, testEnv } from '../test/support/service-harness.js';
import { projectCreateBody, zoneCreateBody } from '../test/support/service-flows.js';
import { defaultZone } from '../test/support/service-zone.js';
import { startTestSite } from '../test/support/test-site.js';
import { KeepAliveClient, cpuMs, peakRssMb } from './service-client.js';

interface Args {
  colls: number;
  fail: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { colls: 5000, fail: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--colls') args.colls = Number(argv[++i]);
    else if (a === '--fail') args.fail = true;
    else throw new Error(`unknown option ${a} (use --colls N [--fail])`);
  }
  if (!Number.isInteger(args.colls) || args.colls < 0) throw new Error('--colls must be a non-negative integer');
  return args;
}

const log = (msg: string) => process.stderr.write(`[bench zone-create] ${msg}\n`);
const PROJECT = 'cafe0000-0000-4000-8000-000000000002';

/** Runs the benchmark. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const work = makeTempDir('taskflow-bench-zone-create-');
  const site = await startTestSite({ secret: TEST_SECRET });
  const env = testEnv(join(work, 'data'), { TASKFLOW_LOG_LEVEL: 'warn', TASKFLOW_SODAR_URL: site.url, TASKFLOW_SITE_TIMEOUT: '600000' });
  const service = await spawnService(env);
  const client = new KeepAliveClient(service.url, 1);
  try {
    const zone = defaultZone();
    site.seedProject({ project_uuid: PROJECT, title: 'Zone create project' });
    site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: PROJECT, status: 'CREATING', status_info: '' });
    const project = await client.post('/submit', { ...projectCreateBody(PROJECT, site.url), sodar_secret: TEST_SECRET });
    if (project.status !== 200) throw new Error(`project_create failed: ${project.status} ${project.body}`);

    const body = zoneCreateBody(PROJECT, site.url, zone);
    const colls = Array.from({ length: args.colls }, (_, i) => `batch_${String(Math.floor(i / 100)).padStart(4, '0')}/sample_${i}`);
    const request = { ...body, force_fail: args.fail, flow_data: { ...(body.flow_data as object), colls }, sodar_secret: TEST_SECRET };

    log(`creating a zone with ${args.colls} collections${args.fail ? ', failing at the end' : ''}`);
    const cpu0 = cpuMs(service.proc.pid!);
    const start = performance.now();
    const res = await client.post('/submit', request);
    const seconds = (performance.now() - start) / 1000;
    const cpu1 = cpuMs(service.proc.pid!);
    const expected = args.fail ? 500 : 200;
    if (res.status !== expected) throw new Error(`landing_zone_create answered ${res.status} (expected ${expected}): ${res.body}`);
    const zoneState = site.state().zones[zone.zoneUuid];
    log(`answered ${res.status} in ${seconds.toFixed(2)} s; zone ${zoneState?.status}`);

    const result = {
      bench: 'zone-create',
      colls: args.colls,
      fail: args.fail,
      seconds: Math.round(seconds * 1000) / 1000,
      colls_per_s: Math.round(args.colls / seconds),
      zone_status: zoneState?.status,
      rss_mb: peakRssMb(service.proc.pid!),
      service_cpu_s: cpu0 !== undefined && cpu1 !== undefined ? Math.round(cpu1 - cpu0) / 1000 : undefined,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    client.close();
    await service.stop();
    await site.close();
    removeDir(work);
  }
}
