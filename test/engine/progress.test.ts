/**
 * Run progress: the tracker keeps counts in memory, only growing, writes
 * them to the journal at most every interval (the last change of a quiet
 * spell once the interval has passed) and at the end; the journals show it
 * with the run record; the runner counts applied tasks and can be held
 * after a task.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryJournal, RunProgressTracker, runFlow, type Journal, type RunProgress } from '../../src/engine/index.js';
import { journalsPerTest } from '../support/engine-journals.js';
import { itemFlow, journalCases, newWorld } from './fixtures.js';

const TASKS = [
  { kind: 'k', name: 't0', target: 'irods', args: {} },
  { kind: 'k', name: 't1', target: 'irods', args: {} },
  { kind: 'k', name: 't2', target: 'irods', args: {} },
];

/** A journal that records every progress write. */
function recording(inner: Journal): { journal: Journal; writes: RunProgress[] } {
  const writes: RunProgress[] = [];
  const journal: Journal = Object.create(inner) as Journal;
  journal.progress = (runId, p) => {
    writes.push(structuredClone(p));
    inner.progress(runId, p);
  };
  return { journal, writes };
}

describe('RunProgressTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps counts that only grow, and tasks done', () => {
    const t = new RunProgressTracker('r', new MemoryJournal(), 5);
    t.taskDone(2);
    t.count('filesMoved', 10, 30);
    t.count('filesMoved', 5, 30); // lower: ignored
    t.taskDone(1); // lower: ignored
    t.count('filesChecked', 30, 30);
    expect(t.snapshot()).toEqual({ tasks: { done: 2, total: 5 }, counts: { filesMoved: { done: 10, total: 30 }, filesChecked: { done: 30, total: 30 } } });
    t.end();
  });

  it('writes at most once per interval: the first change after it at once, later ones when it has passed again, the rest at the end', () => {
    const base = new MemoryJournal();
    base.start({ runId: 'r', flowName: 'f', tasks: TASKS });
    const { journal, writes } = recording(base);
    const t = new RunProgressTracker('r', journal, 3, { persistEveryMs: 1000 });
    t.count('files', 1, 100);
    expect(writes).toHaveLength(0); // the run is younger than the interval
    for (let i = 2; i <= 50; i++) t.count('files', i, 100);
    expect(writes).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    // the last change of the spell, written once the interval passed
    expect(writes).toEqual([{ tasks: { done: 0, total: 3 }, counts: { files: { done: 50, total: 100 } } }]);
    vi.advanceTimersByTime(5000); // nothing changed: nothing written
    expect(writes).toHaveLength(1);
    t.count('files', 60, 100); // the interval has long passed: written at once
    expect(writes.at(-1)?.counts?.files).toEqual({ done: 60, total: 100 });
    t.count('files', 70, 100);
    t.taskDone(2);
    expect(writes).toHaveLength(2);
    t.end(); // the counts not written yet, without waiting for the interval
    expect(writes).toHaveLength(3);
    expect(writes.at(-1)).toEqual({ tasks: { done: 2, total: 3 }, counts: { files: { done: 70, total: 100 } } });
    vi.advanceTimersByTime(5000);
    t.count('files', 100, 100); // after the end: ignored
    expect(writes).toHaveLength(3);
  });

  it('writes nothing for a run without counts that ends within the interval (its result says how far it got)', () => {
    const base = new MemoryJournal();
    base.start({ runId: 'r', flowName: 'f', tasks: TASKS });
    const { journal, writes } = recording(base);
    const t = new RunProgressTracker('r', journal, 3, { persistEveryMs: 1000 });
    t.taskDone(1);
    t.taskDone(2);
    t.end();
    vi.advanceTimersByTime(5000);
    expect(writes).toEqual([]);
  });

  it('tells a listener of every change; a throwing listener changes nothing', () => {
    const seen: number[] = [];
    const t = new RunProgressTracker('r', new MemoryJournal(), 2, {
      onChange: (p) => {
        seen.push(p.tasks.done);
        throw new Error('listener bug');
      },
    });
    t.taskDone(1);
    t.taskDone(2);
    expect(seen).toEqual([1, 2]);
    t.end();
  });
});

describe.each(journalCases())('$kind journal: progress with the run record', (jc) => {

  it('a running run shows what was written, with tasks done counted from its task records; an ended one the result and the last counts', () => {
    const journal = jc.make();
    journal.start({ runId: 'r', flowName: 'f', tasks: TASKS, firstIntent: true });
    expect(journal.getRun('r')!.progress).toEqual({ tasks: { done: 0, total: 3 } });
    expect(journal.getRunSummary('r')!.progress).toBeUndefined(); // nothing written yet
    journal.doneThenIntent('r', 0, 1, undefined);
    journal.progress('r', { tasks: { done: 0, total: 3 }, counts: { filesMoved: { done: 5, total: 10 } } });
    // the task records are ahead of the (throttled) progress
    expect(journal.getRun('r')!.progress).toEqual({ tasks: { done: 1, total: 3 }, counts: { filesMoved: { done: 5, total: 10 } } });
    expect(journal.getRunSummary('r')).toMatchObject({ status: 'running', progress: { tasks: { done: 0, total: 3 }, counts: { filesMoved: { done: 5, total: 10 } } } });
    expect(journal.getRunSummary('r')).not.toHaveProperty('tasks');
    expect(journal.listRuns({ limit: 10, offset: 0 }).runs[0].progress?.counts).toEqual({ filesMoved: { done: 5, total: 10 } });

    journal.done('r', 1, 1);
    journal.progress('r', { tasks: { done: 2, total: 3 }, counts: { filesMoved: { done: 10, total: 10 } } });
    journal.finish('r', {
      runId: 'r', flowName: 'f', status: 'completed', total: 3, completed: 3, reverted: 0,
      revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0,
    });
    const ended = { tasks: { done: 3, total: 3 }, counts: { filesMoved: { done: 10, total: 10 } } };
    expect(journal.getRun('r')!.progress).toEqual(ended);
    expect(journal.getRunSummary('r')!.progress).toEqual(ended);
    expect(journal.getRunSummary('nope')).toBeUndefined();
  });

  it('a rolled-back run never shows fewer tasks done than while it ran', () => {
    const journal = jc.make();
    journal.start({ runId: 'r', flowName: 'f', tasks: TASKS, firstIntent: true });
    journal.doneThenIntent('r', 0, 1, undefined);
    journal.doneThenIntent('r', 1, 1, 'u');
    const during: number[] = [journal.getRun('r')!.progress!.tasks.done];
    journal.failed('r', 2, 'boom', 1);
    during.push(journal.getRun('r')!.progress!.tasks.done);
    for (const i of [2, 1, 0]) {
      journal.reverted('r', i, 1);
      during.push(journal.getRun('r')!.progress!.tasks.done);
    }
    expect(during).toEqual([...during].sort((a, b) => a - b));
    expect(during[0]).toBe(2);
  });
});

describe('an older journal file', () => {
  const journals = journalsPerTest();

  it('gets the progress column when opened; its runs show progress from their results', () => {
    const file = journals.newFile();
    const old = new Database(file);
    old.exec(`CREATE TABLE runs (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, flow_name TEXT NOT NULL, label TEXT, meta TEXT,
      status TEXT NOT NULL, task_count INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, result TEXT)`);
    old.prepare(`INSERT INTO runs (run_id, flow_name, status, task_count, started_at, ended_at, result) VALUES ('old', 'f', 'completed', 2, 1, 2, ?)`).run(
      JSON.stringify({ runId: 'old', flowName: 'f', status: 'completed', total: 2, completed: 2, reverted: 0, revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0 }),
    );
    old.close();
    const journal = journals.open({ file });
    expect(journal.getRunSummary('old')!.progress).toEqual({ tasks: { done: 2, total: 2 } });
    journal.start({ runId: 'new', flowName: 'f', tasks: TASKS });
    journal.progress('new', { tasks: { done: 1, total: 3 } });
    expect(journal.getRunSummary('new')!.progress).toEqual({ tasks: { done: 1, total: 3 } });
    journal.close();
    // a second open finds the column there
    journals.open({ file }).close();
  });
});

describe('the runner and progress', () => {
  it('counts applied tasks into the tracker and ends it with the run', async () => {
    const journal = new MemoryJournal();
    const seen: number[] = [];
    const progress = new RunProgressTracker('r', journal, 3, { onChange: (p) => seen.push(p.tasks.done) });
    const result = await runFlow(itemFlow(['a', 'b', 'c']), newWorld(), { journal, runId: 'r', progress });
    expect(result.status).toBe('completed');
    expect(seen).toEqual([1, 2, 3]);
    progress.count('late', 1, 1); // ended with the run: ignored
    expect(progress.snapshot().counts).toBeUndefined();
  });

  it('holds the run after a task while the promise afterTask returns is pending', async () => {
    const world = newWorld();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atHold = new Promise<void>((r) => (reached = r));
    const run = runFlow(itemFlow(['a', 'b', 'c']), world, {
      afterTask: (i) => {
        if (i !== 0) return;
        reached();
        return held;
      },
    });
    await atHold;
    // however long it is held, the run stays after task 0
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(world.log).toEqual(['exec:a']);
    release();
    expect((await run).status).toBe('completed');
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c']);
  });
});
