/**
 * `npm run bench -- zone-move --files N --size BYTES`
 *
 * End to end through `POST /submit` (sync): a `taskflow serve` process, a
 * test site, a project with a landing zone holding N files of BYTES bytes
 * (each with its `.md5`), then one `landing_zone_move` timed from request to
 * answer. In the same run, `md5sum` over the same bytes as the yardstick:
 * `move_vs_md5sum` below 1 means the move (with checksum verification) beat
 * one md5sum. Progress on stderr; the last stdout line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { getWithSecret } from '../test/support/service-harness.js';
import { zoneMoveBody } from '../test/support/service-flows.js';
import { createZone, defaultZone, uploadToZone, writeZoneFiles } from '../test/support/service-zone.js';
import { peakRssMb } from './service-client.js';
import { timedSubmit, withSiteAndService } from './site-and-service.js';

interface Args {
  files: number;
  size: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { files: 1000, size: 100 * 1024 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--files') args.files = Number(argv[++i]);
    else if (a === '--size') args.size = Number(argv[++i]);
    else throw new Error(`unknown option ${a} (use --files N --size BYTES)`);
  }
  if (!Number.isInteger(args.files) || args.files < 1) throw new Error('--files must be a positive integer');
  if (!Number.isInteger(args.size) || args.size < 0) throw new Error('--size must be a non-negative integer');
  return args;
}

const log = (msg: string) => process.stderr.write(`[bench zone-move] ${msg}\n`);
const PROJECT = 'cafe0000-0000-4000-8000-000000000001';

/** Where the move's time went: each task's duration from the run record, slowest first. */
async function logTaskTimes(serviceUrl: string): Promise<void> {
  const page = await getWithSecret(`${serviceUrl}/runs?flow=landing_zone_move&limit=1`);
  const runId = page.json?.runs?.[0]?.runId as string | undefined;
  if (!runId) return;
  const run = await getWithSecret(`${serviceUrl}/runs/${runId}`);
  const tasks = (run.json?.tasks ?? []) as Array<{ name: string; durationMs?: number }>;
  const total = tasks.reduce((sum, t) => sum + (t.durationMs ?? 0), 0);
  const slowest = [...tasks].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0)).slice(0, 6);
  log(`tasks: ${tasks.length}, ${Math.round(total)} ms in all; slowest: ${slowest.map((t) => `${t.name} ${Math.round(t.durationMs ?? 0)} ms`).join('; ')}`);
}

/** Runs the benchmark. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  await withSiteAndService('taskflow-bench-zone-', async (s) => {
    const { site, service } = s;
    const zone = defaultZone();
    log(`writing ${args.files} files of ${args.size} bytes`);
    const upload = writeZoneFiles(s.work, args.files, args.size);
    await createZone(service.url, site, PROJECT, zone);
    const t0 = performance.now();
    const put = await uploadToZone(loadConfig(s.env), PROJECT, zone, upload);
    log(`put ${put} objects into the zone in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

    log('moving');
    const { status, body, seconds, cpuSeconds } = await timedSubmit(s, zoneMoveBody(PROJECT, site.url, zone));
    if (status !== 200) throw new Error(`landing_zone_move failed: ${status} ${body}`);
    const zoneState = site.state().zones[zone.zoneUuid];
    log(`moved in ${seconds.toFixed(2)} s (service CPU ${cpuSeconds} s); zone ${zoneState?.status}: ${zoneState?.status_info}`);
    const rss = peakRssMb(service.proc.pid!);
    await logTaskTimes(service.url);

    log('md5sum over the same bytes');
    const m0 = performance.now();
    const md5 = spawnSync('sh', ['-c', `find "${upload}" -type f ! -name '*.md5' -print0 | xargs -0 md5sum > /dev/null`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const md5Seconds = (performance.now() - m0) / 1000;
    if (md5.status !== 0) throw new Error('md5sum failed');

    const mb = (args.files * args.size) / (1024 * 1024);
    const result = {
      bench: 'zone-move',
      files: args.files,
      size: args.size,
      seconds: Math.round(seconds * 1000) / 1000,
      files_per_s: Math.round(args.files / seconds),
      mb_per_s: Math.round((mb / seconds) * 10) / 10,
      rss_mb: rss,
      service_cpu_s: cpuSeconds,
      md5sum_seconds: Math.round(md5Seconds * 1000) / 1000,
      move_vs_md5sum: Math.round((seconds / md5Seconds) * 100) / 100,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}
