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
import { TEST_SECRET } from '../test/support/service-harness.js';
import { projectCreateBody, zoneCreateBody } from '../test/support/service-flows.js';
import { defaultZone } from '../test/support/service-zone.js';
import { peakRssMb } from './service-client.js';
import { timedSubmit, withSiteAndService } from './site-and-service.js';

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
  await withSiteAndService('taskflow-bench-zone-create-', async (s) => {
    const { site, service, client } = s;
    const zone = defaultZone();
    site.seedProject({ project_uuid: PROJECT, title: 'Zone create project' });
    site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: PROJECT, status: 'CREATING', status_info: '' });
    const project = await client.post('/submit', { ...projectCreateBody(PROJECT, site.url), sodar_secret: TEST_SECRET });
    if (project.status !== 200) throw new Error(`project_create failed: ${project.status} ${project.body}`);

    const body = zoneCreateBody(PROJECT, site.url, zone);
    const colls = Array.from({ length: args.colls }, (_, i) => `batch_${String(Math.floor(i / 100)).padStart(4, '0')}/sample_${i}`);
    const request = { ...body, force_fail: args.fail, flow_data: { ...(body.flow_data as object), colls }, sodar_secret: TEST_SECRET };

    log(`creating a zone with ${args.colls} collections${args.fail ? ', failing at the end' : ''}`);
    const res = await timedSubmit(s, request);
    const expected = args.fail ? 500 : 200;
    if (res.status !== expected) throw new Error(`landing_zone_create answered ${res.status} (expected ${expected}): ${res.body}`);
    const zoneState = site.state().zones[zone.zoneUuid];
    log(`answered ${res.status} in ${res.seconds.toFixed(2)} s; zone ${zoneState?.status}`);

    const result = {
      bench: 'zone-create',
      colls: args.colls,
      fail: args.fail,
      seconds: Math.round(res.seconds * 1000) / 1000,
      colls_per_s: Math.round(args.colls / res.seconds),
      zone_status: zoneState?.status,
      rss_mb: peakRssMb(service.proc.pid!),
      service_cpu_s: res.cpuSeconds,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}
