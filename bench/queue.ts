/**
 * `npm run bench -- queue --runs N --projects P [--clients-per-project C] [--warmup W] [--cpu-prof DIR]`
 *
 * Async submits through the line: N async `landing_zone_move` submits of
 * empty zones (targets `["irods"]`) spread over P projects, against a
 * `taskflow serve` process. Each answer `True` comes after the run was
 * written to the journal and synced (group commit and group fsync).
 *
 * Why not `role_update`, as issue 16 asks: it may not be submitted async.
 * protocol.md section 5 lists it as `sync` only, and so did the original
 * (SODAR Taskflow v0.6.x flows/base_flow.py: `supported_modes` is `['sync']`
 * unless a flow adds `'async'`, which flows/role_update.py does not); an
 * async `role_update` is refused 400 by validation. A move of an empty zone
 * is the cheapest async flow that takes the project lock, so it exercises
 * the same line. It costs more than a `role_update` would: four store tasks,
 * each journaled, and the zone's listings.
 *
 * One client per project submits its project's runs one after another, so
 * the submit order per project is known; completion is the timeline callback
 * each run sends to a small site in this process. Prints accepted/s,
 * completed/s, p50/p99 time from answer to completion, and whether every
 * project's runs started in submit order (from the journal via `GET /runs`).
 *
 * Warm-up: before the measured submits, each project moves W more zones
 * (`--warmup`, default 50; 0 measures a cold process) the same way, and the
 * bench waits for them to end. A freshly started service compiles its hot
 * code while it serves its first runs (about a second of slower runs on this
 * machine); the goal is about a running service, so those runs are not
 * counted. `warmup_runs` in the JSON line says how many there were.
 * Progress on stderr; the last stdout line is one JSON object.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { TEST_SECRET, getWithSecret, makeTempDir, removeDir, spawnService, testEnv } from '../test/support/service-harness.js';
import { projectCreateBody, zoneCreateBody, zoneMoveBody, type ZoneSpec } from '../test/support/service-flows.js';
import { KeepAliveClient, cpuMs, peakRssMb, quantile } from './service-client.js';

interface Args {
  runs: number;
  projects: number;
  clientsPerProject: number;
  /** Zone moves per project before the measured ones, not counted. */
  warmupPerProject: number;
  /** Where the service writes a V8 CPU profile (`node --cpu-prof`), if asked. */
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 1000, projects: 10, clientsPerProject: 1, warmupPerProject: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--cpu-prof') {
      args.cpuProfDir = argv[++i];
      continue;
    }
    const v = Number(argv[++i]);
    if (a === '--runs') args.runs = v;
    else if (a === '--projects') args.projects = v;
    else if (a === '--clients-per-project') args.clientsPerProject = v;
    else if (a === '--warmup') args.warmupPerProject = v;
    else throw new Error(`unknown option ${a} (use --runs N --projects P [--clients-per-project C] [--warmup W])`);
  }
  for (const k of ['runs', 'projects', 'clientsPerProject'] as const) if (!(Number.isInteger(args[k]) && args[k] > 0)) throw new Error(`--${k} must be a positive integer`);
  if (!(Number.isInteger(args.warmupPerProject) && args.warmupPerProject >= 0)) throw new Error('--warmup must be a non-negative integer');
  return args;
}

const log = (msg: string) => process.stderr.write(`[bench queue] ${msg}\n`);
const TARGETS = ['irods'];

/** A site that only records when each timeline event was reported, and answers OK to everything else. */
async function startRecordingSite(onTimeline: (eventUuid: string, status: string) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if ((req.url ?? '').includes('timeline/taskflow/status/set')) {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        onTimeline(form.get('event_uuid') ?? '', form.get('status_type') ?? '');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Runs the benchmark. */
export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const done = new Map<string, { at: number; status: string }>();
  // the zones whose end a phase waits for; the phase's promise resolves when the last one ends
  let waitingFor = new Set<string>();
  let phaseDone: (() => void) | undefined;
  const ended = (event: string): void => {
    if (waitingFor.delete(event) && waitingFor.size === 0) phaseDone?.();
  };
  const site = await startRecordingSite((event, status) => {
    done.set(event, { at: performance.now(), status });
    ended(event);
  });
  const dataDir = makeTempDir('taskflow-bench-queue-');
  const service = await spawnService(
    testEnv(dataDir, { TASKFLOW_LOG_LEVEL: 'warn', TASKFLOW_SODAR_URL: site.url, TASKFLOW_ASYNC_CONCURRENCY: String(Math.max(2, args.projects)) }),
    30_000,
    args.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.cpuProfDir}`],
  );
  const client = new KeepAliveClient(service.url, args.projects * args.clientsPerProject);
  try {
    const projects = Array.from({ length: args.projects }, (_, i) => `c${String(i).padStart(7, '0')}-0000-4000-8000-000000000000`);
    // zone i belongs to project i mod P: runs of project k are indices k, k + P, k + 2P, ...
    const zoneSpecs = (prefix: string, count: number): ZoneSpec[] =>
      Array.from({ length: count }, (_, i) => ({
        zoneUuid: `${prefix}-${String(i).padStart(6, '0')}`,
        zoneTitle: `20261205_${prefix}_${String(i).padStart(6, '0')}`,
        userName: 'bench_user',
        assayPath: 'study_1/assay_1',
      }));
    const warmZones = zoneSpecs('warm', args.warmupPerProject * args.projects);
    const zones = zoneSpecs('zone', args.runs);
    const post = async (body: Record<string, unknown>, what: string): Promise<void> => {
      const res = await client.post('/submit', body);
      if (res.status !== 200) throw new Error(`${what} failed: ${res.status} ${res.body}`);
    };
    for (const p of projects) {
      await post(projectCreateBody(p, site.url, TARGETS), 'project_create');
      await post({ ...projectCreateBody(p, site.url, TARGETS), flow_name: 'sheet_colls_create', flow_data: { colls: ['study_1/assay_1'] } }, 'sheet_colls_create');
    }
    for (const list of [warmZones, zones]) {
      for (let i = 0; i < list.length; i++) await post(zoneCreateBody(projects[i % args.projects], site.url, list[i], TARGETS), 'landing_zone_create');
    }
    log(`${args.projects} projects, ${args.runs} + ${warmZones.length} (warm-up) empty zones created`);

    const acceptedAt = new Map<string, number>();
    const submitted = new Map<string, string[]>(projects.map((p) => [p, []]));
    let failed = 0;
    let firstError: string | undefined;
    /** Moves `list`'s zones, one client loop per project and client; resolves when every move has ended. */
    const moveAll = async (list: ZoneSpec[], record: boolean): Promise<void> => {
      waitingFor = new Set(list.map((z) => z.zoneUuid));
      const finished = new Promise<void>((r) => (phaseDone = r));
      const clientLoop = async (k: number, c: number): Promise<void> => {
        const p = projects[k];
        for (let i = k + c * args.projects; i < list.length; i += args.projects * args.clientsPerProject) {
          const z = list[i];
          const res = await client.post('/submit', zoneMoveBody(p, site.url, z, { mode: 'async', targets: TARGETS, timelineUuid: z.zoneUuid }));
          if (res.status === 200) {
            if (!record) continue;
            acceptedAt.set(z.zoneUuid, performance.now());
            submitted.get(p)!.push(z.zoneUuid);
          } else {
            if (!record) throw new Error(`warm-up move refused: ${res.status} ${res.body}`);
            failed++;
            firstError ??= `${res.status} ${res.body}`;
            done.set(z.zoneUuid, { at: performance.now(), status: 'REFUSED' });
            ended(z.zoneUuid);
          }
        }
      };
      await Promise.all(projects.flatMap((_, k) => Array.from({ length: args.clientsPerProject }, (_, c) => clientLoop(k, c))));
      if (record) {
        acceptSeconds = (performance.now() - t0) / 1000;
        log(`${acceptedAt.size} accepted in ${acceptSeconds.toFixed(2)} s; waiting for the runs`);
      }
      await finished;
    };
    if (warmZones.length > 0) {
      await moveAll(warmZones, false);
      log(`${warmZones.length} warm-up moves ended; submitting`);
    }
    let acceptSeconds = 0;
    const cpuBefore = cpuMs(service.proc.pid!);
    const t0 = performance.now();
    await moveAll(zones, true);
    const completeSeconds = (performance.now() - t0) / 1000;
    const cpuAfter = cpuMs(service.proc.pid!);

    const waits = [...acceptedAt].map(([z, at]) => done.get(z)!.at - at).sort((a, b) => a - b);
    const notOk = [...acceptedAt.keys()].filter((z) => done.get(z)?.status !== 'OK');
    // order: each project's runs started in the order they were accepted (one client per project: its submit order)
    let orderBroken = 0;
    for (const p of projects) {
      const res = await getWithSecret(`${service.url}/runs?project=${p}&flow=landing_zone_move&limit=500`, TEST_SECRET);
      // newest first: the measured runs of the project, without the warm-up's before them
      const started = (res.json.runs as Array<{ meta: { flow_data: { zone_uuid: string } } }>)
        .map((r) => r.meta.flow_data.zone_uuid)
        .filter((z) => z.startsWith('zone-'))
        .reverse();
      const expected = submitted.get(p)!;
      if (args.clientsPerProject === 1 && started.join() !== expected.join()) orderBroken++;
      if (new Set(started).size !== started.length || started.length !== expected.length) orderBroken++;
    }
    if (firstError) log(`first refusal: ${firstError}`);
    if (notOk.length > 0) log(`${notOk.length} run(s) did not end OK, e.g. ${notOk[0]}: ${done.get(notOk[0])?.status}`);
    const result = {
      bench: 'queue',
      runs: args.runs,
      projects: args.projects,
      clients_per_project: args.clientsPerProject,
      warmup_runs: warmZones.length,
      accepted: acceptedAt.size,
      refused: failed,
      completed_ok: acceptedAt.size - notOk.length,
      accepted_per_s: Math.round(acceptedAt.size / acceptSeconds),
      completed_per_s: Math.round((acceptedAt.size - notOk.length) / completeSeconds),
      p50_time_to_complete_ms: Math.round(quantile(waits, 0.5) * 100) / 100,
      p99_time_to_complete_ms: Math.round(quantile(waits, 0.99) * 100) / 100,
      order_checked: args.clientsPerProject === 1,
      projects_out_of_order: orderBroken,
      service_rss_mb: peakRssMb(service.proc.pid!),
      service_cpu_ms_per_run:
        cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(((cpuAfter - cpuBefore) / args.runs) * 1000) / 1000,
      load_avg_1m: Math.round(loadavg()[0] * 100) / 100,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (orderBroken > 0 || notOk.length > 0 || failed > 0) process.exitCode = 1;
  } finally {
    client.close();
    await service.stop();
    await new Promise<void>((r) => site.server.close(() => r()));
    removeDir(dataDir);
  }
}
