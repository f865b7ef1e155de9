import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { DuplicateRunError, RunNotFoundError, runFlow } from '../../src/engine/index.js';
import { itemFlow, journalCases, newWorld } from './fixtures.js';
import { journalsPerTest } from '../support/engine-journals.js';
import { waitFor } from '../support/service-wait.js';

describe.each(journalCases())('$kind journal', (jc) => {

  it('records started, intent, done, failed, reverted and the final state', () => {
    const journal = jc.make();
    const tasks = [
      { kind: 'k', name: 't0', target: 'irods', args: { a: 1 } },
      { kind: 'k', name: 't1', target: 'sodar', args: [1, 'x'] },
      { kind: 'k', name: 't2', target: 'irods', args: null },
    ];
    journal.start({ runId: 'r', flowName: 'f', label: 'L', meta: { mode: 'async', targets: ['irods'] }, tasks });
    expect(journal.unfinishedRuns()).toEqual(['r']);
    let run = journal.getRun('r')!;
    expect(run).toMatchObject({ status: 'running', taskCount: 3, label: 'L', meta: { mode: 'async', targets: ['irods'] } });
    expect(run.endedAt).toBeUndefined();
    expect(run.result).toBeUndefined();
    expect(run.tasks.map((t) => t.state)).toEqual(['pending', 'pending', 'pending']);
    expect(run.tasks[1].args).toEqual([1, 'x']);

    journal.intent('r', 0, { u: [1] });
    expect(journal.getRun('r')!.tasks[0].state).toBe('intent');
    journal.doneThenIntent('r', 0, 1.5, undefined);
    journal.failed('r', 1, 'boom', 2.5);
    journal.reverted('r', 0, 0.5);
    run = journal.getRun('r')!;
    expect(run.tasks[0]).toEqual({
      index: 0, kind: 'k', name: 't0', target: 'irods', args: { a: 1 },
      state: 'reverted', undo: { u: [1] }, durationMs: 1.5, revertMs: 0.5,
    });
    expect(run.tasks[1]).toMatchObject({ state: 'failed', error: 'boom', durationMs: 2.5 });
    expect(run.tasks[2]).toEqual({ index: 2, kind: 'k', name: 't2', target: 'irods', args: null, state: 'pending' });

    const result = {
      runId: 'r', flowName: 'f', status: 'rolled_back' as const, total: 3, completed: 1, reverted: 1,
      revertFailures: [], durationMs: 5, executeMs: 4, revertMs: 1, error: 'boom',
      failedTask: { index: 1, name: 't1', kind: 'k' },
    };
    journal.finish('r', result);
    run = journal.getRun('r')!;
    expect(run.status).toBe('rolled_back');
    expect(run.result).toEqual(result);
    expect(run.endedAt).toBeDefined();
    expect(journal.unfinishedRuns()).toEqual([]);
  });

  it('records a revert failure with its error', () => {
    const journal = jc.make();
    journal.start({ runId: 'r', flowName: 'f', tasks: [{ kind: 'k', name: 't', target: 'irods', args: {} }] });
    journal.intent('r', 0, 'u');
    journal.done('r', 0, 1);
    journal.revertFailed('r', 0, 'nope', 2);
    expect(journal.getRun('r')!.tasks[0]).toMatchObject({ state: 'revert_failed', error: 'nope', undo: 'u', revertMs: 2 });
    expect(journal.getRun('r')!.label).toBeUndefined();
  });

  it('keeps the error of a task whose apply failed once it is reverted, and forgets the error of a failed revert once one succeeds', () => {
    const journal = jc.make();
    journal.start({ runId: 'r', flowName: 'f', tasks: [{ kind: 'k', name: 't0', target: 'irods', args: {} }, { kind: 'k', name: 't1', target: 'irods', args: {} }] });
    journal.intent('r', 0, 'u0');
    journal.doneThenIntent('r', 0, 1, 'u1');
    journal.failed('r', 1, 'apply broke', 2);
    journal.reverted('r', 1, 0.5);
    journal.revertFailed('r', 0, 'revert broke', 0.5);
    let tasks = journal.getRun('r')!.tasks;
    expect(tasks[1]).toMatchObject({ state: 'reverted', error: 'apply broke' });
    expect(tasks[0]).toMatchObject({ state: 'revert_failed', error: 'revert broke' });
    journal.reverted('r', 0, 0.5);
    tasks = journal.getRun('r')!.tasks;
    expect(tasks[0].state).toBe('reverted');
    expect(tasks[0].error).toBeUndefined();
  });

  it('refuses a duplicate run id and writes to unknown runs', () => {
    const journal = jc.make();
    journal.start({ runId: 'r', flowName: 'f', tasks: [] });
    expect(() => journal.start({ runId: 'r', flowName: 'f', tasks: [] })).toThrow(DuplicateRunError);
    expect(() => journal.intent('missing', 0, undefined)).toThrow(RunNotFoundError);
    expect(journal.getRun('missing')).toBeUndefined();
  });

  it('lists the unfinished runs of one label, oldest first, with their meta', () => {
    const journal = jc.make();
    const done = { flowName: 'f', status: 'completed' as const, total: 0, completed: 0, reverted: 0, revertFailures: [], durationMs: 0, executeMs: 0, revertMs: 0 };
    journal.start({ runId: 'a1', flowName: 'f', label: 'A', meta: { n: 1 }, tasks: [] });
    journal.start({ runId: 'b1', flowName: 'f', label: 'B', tasks: [] });
    journal.start({ runId: 'a2', flowName: 'g', label: 'A', meta: { n: 2 }, tasks: [] });
    journal.start({ runId: 'a3', flowName: 'f', label: 'A', tasks: [] });
    journal.finish('a2', { ...done, runId: 'a2' });
    expect(journal.unfinishedRunsLabelled('A').map((r) => [r.runId, r.status, r.meta])).toEqual([
      ['a1', 'running', { n: 1 }],
      ['a3', 'running', undefined],
    ]);
    expect(journal.unfinishedRunsLabelled('C')).toEqual([]);
    expect(journal.unfinishedRuns()).toEqual(['a1', 'b1', 'a3']);
  });

  it("names a label's latest revert_failed run until it is rolled back", () => {
    const journal = jc.make();
    const ended = (runId: string, status: 'revert_failed' | 'rolled_back' | 'completed') =>
      journal.finish(runId, { runId, flowName: 'f', status, total: 0, completed: 0, reverted: 0, revertFailures: [], durationMs: 0, executeMs: 0, revertMs: 0 });
    for (const [runId, label] of [['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['a3', 'A']]) journal.start({ runId, flowName: 'f', label, tasks: [] });
    expect(journal.revertFailedRunLabelled('A')).toBeUndefined();
    ended('a1', 'revert_failed');
    ended('b1', 'revert_failed');
    ended('a2', 'revert_failed');
    ended('a3', 'completed');
    expect(journal.revertFailedRunLabelled('A')).toBe('a2');
    expect(journal.revertFailedRunLabelled('B')).toBe('b1');
    expect(journal.revertFailedRunLabelled('C')).toBeUndefined();
    // a retried revert that succeeds ends the run again
    ended('a2', 'rolled_back');
    expect(journal.revertFailedRunLabelled('A')).toBe('a1');
    ended('a1', 'rolled_back');
    expect(journal.revertFailedRunLabelled('A')).toBeUndefined();
  });

  it('lists runs newest first, filtered by status, flow and label, with paging', async () => {
    const journal = jc.make();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const world = newWorld();
      const result = await runFlow(itemFlow(['a', 'b'], i % 2 === 0 ? 'even_flow' : 'odd_flow'), world, {
        journal,
        runId: `run-${i}`,
        label: i < 4 ? 'project-1' : 'project-2',
        forceFail: i % 3 === 0,
      });
      ids.push(result.runId);
    }
    journal.start({ runId: 'live', flowName: 'odd_flow', label: 'project-2', tasks: [] });

    const all = journal.listRuns({ limit: 100, offset: 0 });
    expect(all.total).toBe(8);
    expect(all.runs.map((r) => r.runId)).toEqual(['live', ...ids.slice().reverse()]);
    expect(all.runs[1]).toMatchObject({ runId: 'run-6', flowName: 'even_flow', status: 'rolled_back', label: 'project-2', taskCount: 2 });
    expect(all.runs[1].result?.error).toMatch(/^Forced failure/);
    expect('tasks' in all.runs[1]).toBe(false);

    const page = journal.listRuns({ limit: 3, offset: 2 });
    expect(page.total).toBe(8);
    expect(page.runs.map((r) => r.runId)).toEqual(['run-5', 'run-4', 'run-3']);
    expect(journal.listRuns({ limit: 3, offset: 100 })).toEqual({ total: 8, runs: [] });

    const rolledBack = journal.listRuns({ status: 'rolled_back', limit: 10, offset: 0 });
    expect(rolledBack.runs.map((r) => r.runId)).toEqual(['run-6', 'run-3', 'run-0']);
    expect(journal.listRuns({ status: 'running', limit: 10, offset: 0 }).runs.map((r) => r.runId)).toEqual(['live']);
    expect(journal.listRuns({ flowName: 'odd_flow', limit: 10, offset: 0 }).total).toBe(4);
    const combined = journal.listRuns({ flowName: 'even_flow', label: 'project-1', status: 'completed', limit: 10, offset: 0 });
    expect(combined.runs.map((r) => r.runId)).toEqual(['run-2']);
    expect(journal.listRuns({ label: 'nobody', limit: 10, offset: 0 })).toEqual({ total: 0, runs: [] });
  });

  it('lists a finished run that owes a report until it is marked reported; others never', async () => {
    const journal = jc.make();
    const tasks = [{ kind: 'k', name: 't', target: 'irods', args: {} }];
    const result = (runId: string) => ({
      runId, flowName: 'f', status: 'completed' as const, total: 1, completed: 1, reverted: 0,
      revertFailures: [], durationMs: 1, executeMs: 1, revertMs: 0,
    });
    journal.start({ runId: 'owes', flowName: 'f', meta: { m: 1 }, tasks, reportDue: true });
    journal.start({ runId: 'answered', flowName: 'f', tasks });
    journal.start({ runId: 'owes-later', flowName: 'f', tasks, reportDue: true });
    // running: its own process reports it when it ends
    expect(journal.unreportedRuns()).toEqual([]);
    for (const id of ['owes', 'answered', 'owes-later']) journal.finish(id, result(id));
    await journal.whenDurable();
    const unreported = journal.unreportedRuns();
    expect(unreported.map((r) => r.runId)).toEqual(['owes', 'owes-later']);
    // what a report needs
    expect(unreported[0]).toMatchObject({ flowName: 'f', status: 'completed', meta: { m: 1 }, result: result('owes') });
    journal.reported('owes');
    journal.reported('answered'); // owed nothing: no change
    journal.reported('nobody'); // unknown: no change, no throw
    expect(journal.unreportedRuns().map((r) => r.runId)).toEqual(['owes-later']);
    journal.reported('owes-later');
    journal.reported('owes-later');
    expect(journal.unreportedRuns()).toEqual([]);
  });
});

describe('SqliteJournal file', () => {
  const journals = journalsPerTest();

  it('keeps runs across close and reopen, and lets a second handle see them', async () => {
    const first = journals.open();
    const file = first.filePath;
    const second = journals.open({ file });
    await runFlow(itemFlow(['a', 'b']), newWorld(), { journal: first, runId: 'kept', label: 'p' });
    first.start({ runId: 'open', flowName: 'f', tasks: [{ kind: 'k', name: 't', target: 'irods', args: {} }] });
    first.intent('open', 0, 1);
    // another handle (as another process would) writes to a run it did not start
    second.done('open', 0, 3);
    expect(second.getRun('kept')!.status).toBe('completed');
    // grouped reverted records are committed by the end of the run
    await runFlow(itemFlow(['x', 'y', 'z']), newWorld(), { journal: first, runId: 'undone', forceFail: true });
    expect(second.getRun('undone')!.tasks.map((t) => t.state)).toEqual(['reverted', 'reverted', 'reverted']);
    first.close();
    second.close();
    const reopened = journals.open({ file });
    expect(reopened.getRun('kept')!.tasks.map((t) => t.state)).toEqual(['done', 'done']);
    expect(reopened.getRun('open')!.tasks[0]).toMatchObject({ state: 'done', undo: 1, durationMs: 3 });
    expect(reopened.unfinishedRuns()).toEqual(['open']);
    expect(reopened.listRuns({ label: 'p', limit: 5, offset: 0 }).total).toBe(1);
  });

  it('commits a report mark with the next commit of the handle, and by itself soon after', async () => {
    const writer = journals.open({ commitPerTurn: true });
    const reader = journals.open({ file: writer.filePath });
    await runFlow(itemFlow(['a']), newWorld(), { journal: writer, runId: 'r1', reportDue: true });
    await runFlow(itemFlow(['b']), newWorld(), { journal: writer, runId: 'r2', reportDue: true });
    expect(reader.unreportedRuns().map((r) => r.runId)).toEqual(['r1', 'r2']);
    const commits = writer.commitCount;
    writer.reported('r1');
    // no commit of its own: another process still sees it owed
    expect(writer.commitCount).toBe(commits);
    expect(reader.unreportedRuns().map((r) => r.runId)).toEqual(['r1', 'r2']);
    // it rides on the next run's start
    await runFlow(itemFlow(['c']), newWorld(), { journal: writer, runId: 'r3' });
    expect(reader.unreportedRuns().map((r) => r.runId)).toEqual(['r2']);
    // alone, it is committed once the group's time is up
    writer.reported('r2');
    await waitFor('the lone mark to be committed', () => (reader.unreportedRuns().length === 0 ? true : undefined));
  });

  it('opens a journal without the report column: its runs owe no report, new ones do', async () => {
    const file = journals.newFile();
    const old = new Database(file);
    old.exec(`CREATE TABLE runs (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, flow_name TEXT NOT NULL, label TEXT, meta TEXT,
      status TEXT NOT NULL, task_count INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER, result TEXT, progress TEXT)`);
    old.prepare(`INSERT INTO runs (run_id, flow_name, status, task_count, started_at, ended_at) VALUES ('old', 'f', 'completed', 1, 1, 2)`).run();
    old.close();
    const journal = journals.open({ file });
    expect(journal.unreportedRuns()).toEqual([]);
    await runFlow(itemFlow(['a']), newWorld(), { journal, runId: 'new', reportDue: true });
    expect(journal.unreportedRuns().map((r) => r.runId)).toEqual(['new']);
    journal.close();
    // a second open finds the column and its index there
    const again = journals.open({ file });
    expect(again.unreportedRuns().map((r) => r.runId)).toEqual(['new']);
  });
});
