/**
 * `taskflow runs ID --follow`: watches a run in the journal until it ends.
 * On a terminal a progress bar is redrawn in place; otherwise (a pipe, a
 * log) one plain line is printed each time what it shows changes. The
 * command's exit status says how the run ended ({@link FOLLOW_EXIT}).
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { RunQueueStore } from '../engine/queue-store.js';
import type { Journal } from '../engine/journal.js';
import type { JournalRunSummary, RunProgress } from '../engine/types.js';

/** How a followed run ended. */
export type FollowEnd = 'completed' | 'rolled_back' | 'revert_failed' | 'cancelled';

/** Exit status of `taskflow runs ID --follow` per ending (1 stays the CLI's error status: no such run, no journal). */
export const FOLLOW_EXIT: Readonly<Record<FollowEnd, number>> = {
  completed: 0,
  rolled_back: 2,
  revert_failed: 3,
  cancelled: 4,
};

/** How often the journal is read while following. */
export const FOLLOW_POLL_MS = 200;

/** Where the follow writes: a stream, a terminal or not. */
export interface FollowOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Raised when the run is neither in the journal nor waiting in line. */
export class RunNotFoundForFollowError extends Error {
  override readonly name = 'RunNotFoundForFollowError';
}

const words = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** A run's progress in words: `7/15 tasks, files checked 2500/2500, files moved 500/2500`. */
export function progressText(p: RunProgress): string {
  const parts = [`${p.tasks.done}/${p.tasks.total} tasks`];
  for (const [key, c] of Object.entries(p.counts ?? {})) parts.push(`${words(key)} ${c.done}/${c.total}`);
  return parts.join(', ');
}

/** The part done that a bar shows: the step under way (a count not complete yet), else the tasks. */
export function progressFraction(p: RunProgress): number {
  const step = Object.values(p.counts ?? {}).find((c) => c.total > 0 && c.done < c.total);
  const c = step ?? p.tasks;
  return c.total > 0 ? Math.min(1, c.done / c.total) : 1;
}

const BAR_WIDTH = 30;

function bar(fraction: number): string {
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

/** What the follow shows at one moment. */
type Sight =
  | { kind: 'waiting'; position: number | undefined }
  | { kind: 'running'; progress: RunProgress | undefined }
  | { kind: 'ended'; run: JournalRunSummary }
  | { kind: 'gone' };

/** Where run `runId` is: ended, running, waiting in line, or nowhere (never accepted, or cancelled). */
function look(journal: Pick<Journal, 'getRunSummary'> & Pick<RunQueueStore, 'queuedRuns'>, runId: string): Sight {
  const summaryOf = (): Sight | undefined => {
    const run = journal.getRunSummary(runId);
    if (run === undefined) return undefined;
    return run.status === 'running' ? { kind: 'running', progress: run.progress } : { kind: 'ended', run };
  };
  const seen = summaryOf();
  if (seen !== undefined) return seen;
  const queued = journal.queuedRuns().find((q) => q.runId === runId);
  if (queued !== undefined) {
    // a run enters the run records before it leaves the line: read the records again, it may have started meanwhile
    const started = summaryOf();
    if (started !== undefined) return started;
    // marked cancelled: it will never run, though its owner has not yet taken it out of the line
    if (queued.cancelledAt !== undefined) return { kind: 'gone' };
    const line = journal
      .queuedRuns({ projectUuid: queued.projectUuid })
      .filter((q) => q.cancelledAt === undefined && journal.getRunSummary(q.runId) === undefined);
    const at = line.findIndex((q) => q.runId === runId);
    return { kind: 'waiting', position: at < 0 ? undefined : at + 1 };
  }
  // it may have started and left the line between the two reads
  return summaryOf() ?? { kind: 'gone' };
}

function sightText(s: Sight): string {
  switch (s.kind) {
    case 'waiting':
      return `waiting in line${s.position !== undefined ? ` (position ${s.position})` : ''}`;
    case 'running':
      return s.progress !== undefined ? `running: ${progressText(s.progress)}` : 'running';
    case 'ended': {
      const p = s.run.progress;
      const error = s.run.result?.error ? `: ${s.run.result.error}` : '';
      return `${s.run.status}${p ? ` (${progressText(p)})` : ''}${error}`;
    }
    case 'gone':
      return 'cancelled: left the line without running';
  }
}

/** Options of {@link followRun}. */
export interface FollowOptions {
  /** Time between two reads of the journal (default {@link FOLLOW_POLL_MS}). */
  pollMs?: number;
  /** How to wait between two reads (default: a timer; tests step a scripted journal here). */
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Follows run `runId` until it ends, writing to `out`; resolves with how it
 * ended. Throws {@link RunNotFoundForFollowError} when the run is neither
 * recorded nor waiting in line.
 */
export async function followRun(
  journal: Pick<Journal, 'getRunSummary'> & Pick<RunQueueStore, 'queuedRuns'>,
  runId: string,
  out: FollowOutput,
  opts: FollowOptions = {},
): Promise<FollowEnd> {
  const { pollMs = FOLLOW_POLL_MS, sleep = delay } = opts;
  let first = true;
  let shown = '';
  const tty = out.isTTY === true;
  for (;;) {
    const sight = look(journal, runId);
    if (sight.kind === 'gone' && first) throw new RunNotFoundForFollowError(`Run "${runId}" not found (not recorded, not waiting in line)`);
    first = false;
    const text = `run ${runId}: ${sightText(sight)}`;
    const ended = sight.kind === 'ended' || sight.kind === 'gone';
    if (tty) {
      const line = sight.kind === 'running' && sight.progress !== undefined ? `${bar(progressFraction(sight.progress))}  ${text}` : text;
      const width = Math.max(20, (out.columns ?? 80) - 1);
      // redrawn in place: carriage return, clear the line, cut to the terminal's width
      if (line !== shown || ended) out.write(`\r\x1b[2K${ended ? line : line.slice(0, width)}${ended ? '\n' : ''}`);
      shown = line;
    } else if (text !== shown) {
      out.write(`${text}\n`);
      shown = text;
    }
    if (sight.kind === 'ended') return sight.run.status as FollowEnd;
    if (sight.kind === 'gone') return 'cancelled';
    await sleep(pollMs);
  }
}
