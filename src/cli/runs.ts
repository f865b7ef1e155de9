/**
 * `taskflow runs [ID]`: the run records of the journal in the data folder,
 * as a table or `--json`, a run's progress with `--follow` until it ends
 * (see run-follow.ts); `taskflow runs retry-revert ID` retries the revert
 * of a `revert_failed` run, which frees its project once it succeeds, and
 * tells the site how the run ended, as recovery does;
 * `taskflow runs cancel ID` cancels a waiting async run, whichever service
 * process owns it; `taskflow queue` shows the line of accepted async runs.
 *
 * Reads `<TASKFLOW_DATA_DIR>/journal.sqlite` directly, so it works whether or
 * not the service is running.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { SqliteJournal, retryRevert } from '../engine/index.js';
import type { JournalRun, JournalRunStatus, JournalRunSummary } from '../engine/types.js';
import { SECRET_HEADER } from '../service/auth.js';
import { cancelWaitingRun, type CancelOutcome } from '../service/cancel-run.js';
import { lineView, type ProjectLineView } from '../service/queue-view.js';
import { reportRunEnd } from '../service/recovery.js';
import { OutcomeReporter } from '../service/reporter.js';
import { LEGACY_FENCE_KEYS, parseRunMeta } from '../service/run-meta.js';
import { journalPath } from '../service/server.js';
import { SiteClient } from '../site/client.js';
import { openStore } from '../store/index.js';
import { taskRegistry } from '../tasks/index.js';
import { FOLLOW_EXIT, RunNotFoundForFollowError, followRun, progressText } from './run-follow.js';

/** Raised for a missing journal or run; the CLI prints it and exits 1. */
export class RunsCommandError extends Error {
  override readonly name = 'RunsCommandError';
}

function openJournal(): SqliteJournal {
  const config = loadConfig();
  const path = journalPath(config.dataDir);
  if (!existsSync(path)) throw new RunsCommandError(`No run journal at ${path} (set TASKFLOW_DATA_DIR)`);
  return new SqliteJournal(path, { legacyFenceKeys: LEGACY_FENCE_KEYS });
}

/** Pads columns to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const metaField = (run: JournalRunSummary, key: string): string => {
  const meta = run.meta as Record<string, unknown> | undefined;
  const v = meta && typeof meta === 'object' ? meta[key] : undefined;
  return typeof v === 'string' ? v : '';
};

const duration = (run: JournalRunSummary): string =>
  run.result ? `${(run.result.durationMs / 1000).toFixed(3)}s` : '';

/**
 * A run still `running` whose revert has begun: rolling back, or, with
 * tasks whose revert threw, waiting for the next recovery (the site was out
 * of reach: see `RevertDeferredError`). Undefined for any other run.
 */
function rollbackOf(run: JournalRun): { waiting: JournalRun['tasks'] } | undefined {
  if (run.status !== 'running' || !run.tasks.some((t) => t.state === 'reverted' || t.state === 'revert_failed')) return undefined;
  return { waiting: run.tasks.filter((t) => t.state === 'revert_failed') };
}

/** A run's status as shown: `running` says whether it is rolling back, or its rollback waits. */
function statusText(run: JournalRun | undefined, status: string): string {
  const rollback = run === undefined ? undefined : rollbackOf(run);
  if (rollback === undefined) return status;
  return rollback.waiting.length > 0 ? `${status} (rollback waits, recovery tries again)` : `${status} (rolling back)`;
}

function runsTable(runs: JournalRunSummary[], journal: SqliteJournal): string {
  return formatTable(
    ['RUN', 'FLOW', 'PROJECT', 'MODE', 'STATUS', 'TASKS', 'STARTED', 'DURATION'],
    runs.map((r) => [
      r.runId,
      r.flowName,
      r.label ?? '',
      metaField(r, 'mode'),
      // only an unfinished run needs its tasks read, and few are
      statusText(r.status === 'running' ? journal.getRun(r.runId) : undefined, r.status),
      String(r.taskCount),
      r.startedAt,
      duration(r),
    ]),
  );
}

/** A run as `taskflow runs ID` prints it: its record, what a rollback could not restore, its tasks. */
export function runDetail(run: JournalRun): string {
  const head = [
    `run:      ${run.runId}`,
    `flow:     ${run.flowName}`,
    `project:  ${run.label ?? ''}`,
    `mode:     ${metaField(run, 'mode')}`,
    `status:   ${statusText(run, run.status)}`,
    `started:  ${run.startedAt}`,
    `ended:    ${run.endedAt ?? ''}`,
    `duration: ${duration(run)}`,
  ];
  if (run.progress) head.push(`progress: ${progressText(run.progress)}`);
  if (run.result?.error) head.push(`error:    ${run.result.error}`);
  for (const t of rollbackOf(run)?.waiting ?? []) head.push(`waits:    task ${t.index} "${t.name}": ${t.error ?? ''}`);
  for (const n of run.result?.revertNotes ?? []) head.push(`not restored: task ${n.index} "${n.name}": ${n.note}`);
  const tasks = formatTable(
    ['#', 'NAME', 'KIND', 'TARGET', 'STATE', 'MS', 'ERROR'],
    run.tasks.map((t) => [
      String(t.index),
      t.name,
      t.kind,
      t.target,
      t.state,
      t.durationMs === undefined ? '' : t.durationMs.toFixed(1),
      t.error ?? '',
    ]),
  );
  return `${head.join('\n')}\n\n${tasks}`;
}

const STATUSES: readonly JournalRunStatus[] = ['running', 'completed', 'rolled_back', 'revert_failed'];

interface ListOpts {
  json?: boolean;
  follow?: boolean;
  project?: string;
  flow?: string;
  status?: string;
  limit: string;
  offset: string;
}

function nonNegativeInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new RunsCommandError(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** Registers `taskflow runs [ID]` and `taskflow runs retry-revert ID`. */
export function registerRunsCommands(program: Command): void {
  const runs = program
    .command('runs')
    .description('List run records (or show one by ID) from the journal in TASKFLOW_DATA_DIR')
    .argument('[id]', 'a run id: show its tasks')
    .option('--json', 'print JSON instead of a table')
    .option('--follow', 'with ID: show the run\'s progress until it ends (a bar on a terminal, else a line per change); the exit status says how it ended')
    .option('--project <uuid>', 'only runs of this project')
    .option('--flow <name>', 'only runs of this flow')
    .option('--status <status>', `only runs in this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'page size', '50')
    .option('--offset <n>', 'runs to skip', '0')
    .action(async (id: string | undefined, opts: ListOpts) => {
      if (opts.follow && id === undefined) throw new RunsCommandError('--follow needs a run ID');
      const journal = openJournal();
      try {
        if (opts.follow && id !== undefined) {
          try {
            process.exitCode = FOLLOW_EXIT[await followRun(journal, id, process.stdout)];
          } catch (err) {
            if (err instanceof RunNotFoundForFollowError) throw new RunsCommandError(err.message);
            throw err;
          }
          return;
        }
        if (id !== undefined) {
          const run = journal.getRun(id);
          if (!run) throw new RunsCommandError(`Run "${id}" not found`);
          process.stdout.write(`${opts.json ? JSON.stringify(run, null, 2) : runDetail(run)}\n`);
          return;
        }
        if (opts.status !== undefined && !STATUSES.includes(opts.status as JournalRunStatus)) {
          throw new RunsCommandError(`--status must be one of ${STATUSES.join(', ')}`);
        }
        const page = journal.listRuns({
          status: opts.status as JournalRunStatus | undefined,
          flowName: opts.flow,
          label: opts.project,
          limit: Math.max(1, nonNegativeInt(opts.limit, 'limit')),
          offset: nonNegativeInt(opts.offset, 'offset'),
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        else process.stdout.write(`${runsTable(page.runs, journal)}\n${page.runs.length} of ${page.total} run(s)\n`);
      } finally {
        journal.close();
      }
    });

  registerCancelCommand(runs);
  runs
    .command('retry-revert')
    .description('Retry the revert of a revert_failed run; on success its project is free again')
    .argument('<id>', 'the run id')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const journal = openJournal();
      const store = await openStore(config);
      try {
        const site = new SiteClient({ secret: config.sodarSecret, timeoutMs: config.siteTimeoutMs });
        const result = await retryRevert(journal, taskRegistry, { store, site, config }, id);
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else {
          const failures = result.revertFailures.map((f) => `\n  task ${f.index} "${f.name}": ${f.error}`).join('');
          process.stdout.write(`run ${id}: ${result.status}, ${result.reverted} task(s) reverted${failures}\n`);
        }
        if (result.status !== 'rolled_back') {
          process.exitCode = 1;
          return;
        }
        // The reverts set a zone back to the busy status the run found; no service reports this run again.
        const meta = parseRunMeta(journal.getRunSummary(id)?.meta);
        if (meta === undefined) return;
        // warnings (a callback the site refused) to stderr; stdout holds the answer
        const reporter = new OutcomeReporter(site, pino({ level: 'warn' }, pino.destination(2)));
        if ((await reportRunEnd(reporter, result.flowName, meta, result, { store, site, config })) === 'owed') {
          process.stderr.write(`run ${id}: rolled back, but the site could not be reached to be told (zone status, timeline event)\n`);
          process.exitCode = 1;
        }
      } finally {
        await store.close();
        journal.close();
      }
    });
}

/** What `taskflow runs cancel` says when a run is not cancelled. */
const NOT_CANCELLED: Record<Exclude<CancelOutcome, 'cancelled'>, string> = {
  not_waiting: 'it runs or has its turn; only a waiting run can be cancelled',
  not_found: 'it is not waiting in line (unknown, ended, or cancelled before)',
};

/**
 * Registers `taskflow runs cancel ID` (on the `runs` command): in the journal
 * of the data folder, as a service does (the owner of the run skips it), or,
 * with `--url`, by asking that service.
 */
function registerCancelCommand(runs: Command): void {
  runs
    .command('cancel')
    .description('Cancel an async run waiting in line, whichever service process on the data folder owns it (a started run cannot be cancelled)')
    .argument('<id>', 'the run id')
    .option('--url <url>', 'ask this service instead of cancelling in the journal of TASKFLOW_DATA_DIR')
    .action(async (id: string, opts: { url?: string }) => {
      const config = loadConfig();
      if (opts.url === undefined) {
        const journal = openJournal();
        try {
          const site = new SiteClient({ secret: config.sodarSecret, timeoutMs: config.siteTimeoutMs });
          // warnings (a callback the site refused) to stderr; stdout holds the answer
          const log = pino({ level: 'warn' }, pino.destination(2));
          const outcome = await cancelWaitingRun({ journal, site, log }, id);
          if (outcome !== 'cancelled') throw new RunsCommandError(`Run ${id} not cancelled: ${NOT_CANCELLED[outcome]}`);
        } finally {
          journal.close();
        }
        process.stdout.write(`run ${id}: cancelled\n`);
        return;
      }
      const url = `${opts.url.replace(/\/+$/, '')}/runs/${encodeURIComponent(id)}`;
      let res: Response;
      try {
        res = await fetch(url, { method: 'DELETE', headers: { [SECRET_HEADER]: config.sodarSecret } });
      } catch (err) {
        throw new RunsCommandError(`The service at ${url} cannot be reached: ${err instanceof Error ? err.message : String(err)}`);
      }
      const body = await res.text();
      if (res.status !== 200) throw new RunsCommandError(`Run ${id} not cancelled (${res.status}): ${body}`);
      process.stdout.write(`run ${id}: cancelled\n`);
    });
}

function queueText(lines: ProjectLineView[]): string {
  const rows: string[][] = [];
  for (const l of lines) {
    for (const r of l.running) rows.push([l.project_uuid, 'running', '', r.run_id, r.flow_name, r.accepted_at]);
    for (const r of l.waiting) rows.push([l.project_uuid, 'waiting', String(r.position), r.run_id, r.flow_name, r.accepted_at]);
  }
  return formatTable(['PROJECT', 'STATE', 'POS', 'RUN', 'FLOW', 'ACCEPTED'], rows);
}

/** Registers `taskflow queue`. */
export function registerQueueCommand(program: Command): void {
  program
    .command('queue')
    .description('Show the line of accepted async runs (from the journal in TASKFLOW_DATA_DIR): running and waiting, with positions')
    .option('--project <uuid>', 'only this project')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { project?: string; json?: boolean }) => {
      const journal = openJournal();
      try {
        const lines = lineView(journal, opts.project);
        if (opts.json) process.stdout.write(`${JSON.stringify({ projects: lines }, null, 2)}\n`);
        else process.stdout.write(`${queueText(lines)}\n`);
      } finally {
        journal.close();
      }
    });
}
