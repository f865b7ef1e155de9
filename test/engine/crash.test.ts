/**
 * Crash recovery for real: a child process runs a flow whose tasks insert
 * rows into a SQLite table, is SIGKILLed at an exact point (it prints READY
 * and blocks), and this process recovers the run from the journal file.
 * Needs the build: `npx tsc -p tsconfig.build.json` (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteJournal, recoverRuns } from '../../src/engine/index.js';
import { crashRegistry, openEffects } from '../support/engine-crash-tasks.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = join(root, 'dist/test/support/engine-crash-child.js');
const N = 20;

beforeAll(() => {
  const sources = ['test/support/engine-crash-child.ts', 'test/support/engine-crash-tasks.ts', 'src/engine/runner.ts', 'src/engine/sqlite-journal.ts'];
  for (const source of sources) {
    const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, source)).mtimeMs) {
      throw new Error(`${built} is missing or older than ${source}: run \`npx tsc -p tsconfig.build.json\` first`);
    }
  }
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Point = 'after-done' | 'mid-execute' | 'after-revert' | 'mid-revert';

/** Runs the child until it reports READY, kills it with SIGKILL, and returns the two database paths. */
async function runAndKill(point: Point, k: number, failAt?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'engine-crash-'));
  dirs.push(dir);
  const journalPath = join(dir, 'journal.sqlite');
  const effectsPath = join(dir, 'effects.sqlite');
  const args = [childScript, journalPath, effectsPath, String(N), point, String(k)];
  if (failAt !== undefined) args.push(String(failAt));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, signal) => res(signal ?? code)));
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('READY\n')) res();
    });
    child.on('exit', () => rej(new Error(`child exited before READY: stdout=${out} stderr=${err}`)));
  });
  // rows in place at the moment of the kill, as the child left them
  const before = rowIds(effectsPath);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return { journalPath, effectsPath, before };
}

function rowIds(effectsPath: string): number[] {
  const db = openEffects(effectsPath);
  try {
    return (db.prepare('SELECT id FROM effects ORDER BY id').pluck().all() as number[]);
  } finally {
    db.close();
  }
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Recovers in this process from the files alone and checks everything is undone. */
async function recoverAndCheck(journalPath: string, effectsPath: string) {
  const journal = new SqliteJournal(journalPath);
  const db = openEffects(effectsPath);
  try {
    expect(journal.unfinishedRuns()).toEqual(['crash-run']);
    const results = await recoverRuns(journal, crashRegistry, { db });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ runId: 'crash-run', status: 'rolled_back', revertFailures: [] });
    expect(db.prepare('SELECT COUNT(*) FROM effects').pluck().get()).toBe(0);
    const run = journal.getRun('crash-run')!;
    expect(run.status).toBe('rolled_back');
    expect(journal.unfinishedRuns()).toEqual([]);
    return run;
  } finally {
    journal.close();
    db.close();
  }
}

describe('crash while executing', () => {
  it.each([0, 10, N - 1])('killed right after task %i was journaled done: recovery undoes tasks 0..k', async (k) => {
    const { journalPath, effectsPath, before } = await runAndKill('after-done', k);
    expect(before).toEqual(range(0, k));
    const run = await recoverAndCheck(journalPath, effectsPath);
    const states = run.tasks.map((t) => t.state);
    expect(states.slice(0, k + 1).every((s) => s === 'reverted')).toBe(true);
    // the next task's intent was journaled with k's done: it is reverted too (with its undo value, finding nothing)
    if (k + 1 < N) expect(states[k + 1]).toBe('reverted');
    expect(states.slice(k + 2).every((s) => s === 'pending')).toBe(true);
    expect(run.tasks[k].undo).toEqual({ id: k });
  });

  it.each([0, 10, N - 1])('killed inside task %i after its side effect (intent and undo only): recovery undoes it too', async (k) => {
    const { journalPath, effectsPath, before } = await runAndKill('mid-execute', k);
    expect(before).toEqual(range(0, k));
    const journal = new SqliteJournal(journalPath);
    try {
      const tasks = journal.getRun('crash-run')!.tasks;
      expect(tasks[k].state).toBe('intent');
      // the undo value was journaled with the intent, before the apply
      expect(tasks[k].undo).toEqual({ id: k });
    } finally {
      journal.close();
    }
    const run = await recoverAndCheck(journalPath, effectsPath);
    expect(run.tasks.slice(0, k + 1).every((t) => t.state === 'reverted')).toBe(true);
    expect(run.tasks.slice(k + 1).every((t) => t.state === 'pending')).toBe(true);
  });
});

describe('crash while reverting', () => {
  const failAt = N - 1;

  it.each([failAt - 1, 10, 0])('killed right after the revert of task %i: recovery reverts the rest', async (k) => {
    const { journalPath, effectsPath, before } = await runAndKill('after-revert', k, failAt);
    expect(before).toEqual(range(0, k - 1));
    const run = await recoverAndCheck(journalPath, effectsPath);
    expect(run.tasks.slice(0, failAt).every((t) => t.state === 'reverted')).toBe(true);
    expect(run.tasks[failAt]).toMatchObject({ state: 'failed', error: `task ${failAt} fails on purpose` });
  });

  it.each([failAt - 1, 10, 0])('killed inside the revert of task %i (row gone, not journaled): recovery repeats it harmlessly', async (k) => {
    const { journalPath, effectsPath, before } = await runAndKill('mid-revert', k, failAt);
    expect(before).toEqual(range(0, k - 1));
    const journal = new SqliteJournal(journalPath);
    try {
      expect(journal.getRun('crash-run')!.tasks[k].state).toBe('done');
    } finally {
      journal.close();
    }
    const run = await recoverAndCheck(journalPath, effectsPath);
    expect(run.tasks.slice(0, failAt).every((t) => t.state === 'reverted')).toBe(true);
  });
});
