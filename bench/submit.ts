/**
 * `npm run bench -- submit --concurrency C --projects P --seconds S [--warmup W]`
 *
 * Sync `role_update` submits with targets `["irods"]` against a `taskflow
 * serve` process: C clients in a closed loop, client k on project k mod P.
 * Reports submits per second (answered 200 `True`), p50 and p99 latency over
 * the S seconds that follow W seconds of the same load (default 1) that are
 * not counted: the service's JIT warm-up, and the first round of each
 * client's users, which the store creates then. `--warmup 0` counts everything.
 * Clients sharing a project wait for its lock (retries every 2 ms), as a
 * site's users would. Progress on stderr; the last stdout line is one JSON object.
 */
import { performance } from 'node:perf_hooks';
import { makeTempDir, removeDir, spawnService, testEnv } from '../test/support/service-harness.js';
import { projectCreateBody, roleUpdateBody } from '../test/support/service-flows.js';
import { loadavg } from 'node:os';
import { KeepAliveClient, cpuMs, peakRssMb, quantile } from './service-client.js';

interface Args {
  concurrency: number;
  projects: number;
  seconds: number;
  warmup: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { concurrency: 64, projects: 50, seconds: 10, warmup: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[++i]);
    if (a === '--concurrency') args.concurrency = v;
    else if (a === '--projects') args.projects = v;
    else if (a === '--seconds') args.seconds = v;
    else if (a === '--warmup') args.warmup = v;
    else throw new Error(`unknown option ${a} (use --concurrency C --projects P --seconds S [--warmup W])`);
  }
  for (const [k, v] of Object.entries(args)) {
    if (k === 'warmup' ? !(v >= 0) : !(v > 0) || (k !== 'seconds' && !Number.isInteger(v))) {
      throw new Error(`--${k} must be a ${k === 'warmup' ? 'non-negative' : 'positive'} number`);
    }
  }
  return args;
}

const log = (msg: string) => process.stderr.write(`[bench submit] ${msg}\n`);
const SITE_URL = 'http://127.0.0.1:9'; // targets are irods only: no callback is made

/** Runs the benchmark. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const dataDir = makeTempDir('taskflow-bench-submit-');
  const service = await spawnService(
    testEnv(dataDir, {
      TASKFLOW_LOG_LEVEL: 'warn',
      TASKFLOW_LOCK_RETRY_COUNT: '1000',
      TASKFLOW_LOCK_RETRY_INTERVAL: '0.002',
    }),
  );
  const client = new KeepAliveClient(service.url, args.concurrency);
  try {
    const projects = Array.from({ length: args.projects }, (_, i) => `b${String(i).padStart(7, '0')}-0000-4000-8000-000000000000`);
    for (const p of projects) {
      const res = await client.post('/submit', projectCreateBody(p, SITE_URL));
      if (res.status !== 200) throw new Error(`project_create failed: ${res.status} ${res.body}`);
    }
    log(`${args.projects} projects created; ${args.concurrency} clients for ${args.warmup} s of warm-up, then ${args.seconds} s`);
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    let firstError: string | undefined;
    const start = performance.now() + args.warmup * 1000;
    const deadline = start + args.seconds * 1000;
    // the service's CPU time at the end of the warm-up (a timer: on time even while all clients wait)
    let cpuBefore: number | undefined;
    const counting = new Promise<void>((resolve) =>
      setTimeout(() => {
        cpuBefore = cpuMs(service.proc.pid!);
        resolve();
      }, args.warmup * 1000),
    );
    const worker = async (k: number) => {
      const project = projects[k % args.projects];
      for (let n = 0; performance.now() < deadline; n++) {
        const body = roleUpdateBody(project, SITE_URL, `user_${k}_${n % 16}`);
        const t0 = performance.now();
        const res = await client.post('/submit', body);
        // a submit counts when it was sent after the warm-up (a failure during it is still reported)
        if (t0 < start) {
          if (res.status !== 200) firstError ??= `${res.status} ${res.body} (during the warm-up)`;
          continue;
        }
        latencies.push(performance.now() - t0);
        if (res.status === 200) ok++;
        else {
          failed++;
          firstError ??= `${res.status} ${res.body}`;
        }
      }
    };
    await Promise.all([counting, ...Array.from({ length: args.concurrency }, (_, k) => worker(k))]);
    const elapsed = (performance.now() - start) / 1000;
    const cpuAfter = cpuMs(service.proc.pid!);
    latencies.sort((a, b) => a - b);
    if (firstError) log(`first failure: ${firstError}`);
    const result = {
      bench: 'submit',
      concurrency: args.concurrency,
      projects: args.projects,
      warmup_s: args.warmup,
      seconds: Math.round(elapsed * 100) / 100,
      submits: latencies.length,
      ok,
      failed,
      submits_per_s: Math.round(ok / elapsed),
      p50_ms: Math.round(quantile(latencies, 0.5) * 100) / 100,
      p99_ms: Math.round(quantile(latencies, 0.99) * 100) / 100,
      service_rss_mb: peakRssMb(service.proc.pid!),
      // CPU the service spent per submit: comparable even when other work shares the machine
      service_cpu_ms_per_submit:
        cpuBefore === undefined || cpuAfter === undefined || latencies.length === 0
          ? undefined
          : Math.round(((cpuAfter - cpuBefore) / latencies.length) * 1000) / 1000,
      load_avg_1m: Math.round(loadavg()[0] * 100) / 100,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    client.close();
    await service.stop();
    removeDir(dataDir);
  }
}
