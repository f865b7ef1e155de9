/**
 * The accepted-run queue beside the journal: group commits keep submit
 * order, a run's record leaves with its start, and a cancel and a start are
 * atomic against each other (two handles on one file stand for two service
 * processes). A journal file of the previous version is brought up to date.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MemoryJournal, RunCancelledError, type Journal } from '../../src/engine/index.js';
import type { NewQueuedRun, QueuedRun, RunQueueStore } from '../../src/engine/queue-store.js';
import { journalsPerTest } from '../support/engine-journals.js';

const journals = journalsPerTest();

const accepted = (runId: string, projectUuid = 'p1', owner = 'o1'): NewQueuedRun => ({
  runId,
  projectUuid,
  owner,
  input: { flowName: 'landing_zone_move', projectUuid, flowData: { zone_uuid: `z-${runId}` } },
});

const startOf = (runId: string) => ({ runId, flowName: 'landing_zone_move', label: 'p1', tasks: [{ kind: 'k', name: 't', target: 'irods', args: null }] });

describe.each([
  { kind: 'memory', make: (): Journal & RunQueueStore => new MemoryJournal() },
  { kind: 'sqlite', make: (): Journal & RunQueueStore => journals.open() },
])('$kind queue', ({ make }) => {
  it('records a group of accepted runs in order, and each leaves the queue with its run\'s start', () => {
    const j = make();
    const first = j.enqueueRuns([accepted('a'), accepted('b', 'p2', 'o2')]) as QueuedRun[];
    const [c] = j.enqueueRuns([accepted('c')]) as QueuedRun[];
    expect(first.map((q) => q.runId)).toEqual(['a', 'b']);
    expect(first[0].seq).toBeLessThan(first[1].seq);
    expect(first[1].seq).toBeLessThan(c.seq);
    expect(first[0].acceptedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(j.enqueueRuns([])).toEqual([]);
    expect(j.queuedRuns().map((q) => q.runId)).toEqual(['a', 'b', 'c']);
    expect(j.queuedRuns({ projectUuid: 'p1' }).map((q) => q.runId)).toEqual(['a', 'c']);
    expect(j.queuedRuns({ owner: 'o2' }).map((q) => q.runId)).toEqual(['b']);
    expect(j.queuedRun('b')).toEqual({ ...accepted('b', 'p2', 'o2'), seq: first[1].seq, acceptedAt: first[1].acceptedAt });

    j.start(startOf('a'));
    expect(j.queuedRun('a')).toBeUndefined();
    expect(j.queuedRuns().map((q) => q.runId)).toEqual(['b', 'c']);
    expect(j.getRun('a')?.status).toBe('running');
    // a run that was never accepted (a sync submit) starts as before
    j.start(startOf('sync'));
    expect(j.queuedRuns().map((q) => q.runId)).toEqual(['b', 'c']);
  });

  it('a cancelled run never starts and stays marked until it is forgotten; a started one cannot be cancelled', () => {
    const j = make();
    j.enqueueRuns([accepted('a'), accepted('b')]);
    expect(j.cancelQueuedRun('b')).toBe(true);
    expect(j.cancelQueuedRun('b')).toBe(false);
    expect(j.queuedRun('b')?.cancelledAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(() => j.start(startOf('b'))).toThrow(RunCancelledError);
    expect(j.getRun('b')).toBeUndefined();
    expect(j.unfinishedRuns()).toEqual([]);
    expect(j.queuedRun('b')?.cancelledAt).toBeDefined();
    expect(j.dequeueRun('b')).toBe(true);
    expect(j.dequeueRun('b')).toBe(false);

    j.start(startOf('a'));
    expect(j.cancelQueuedRun('a')).toBe(false);
    expect(j.cancelQueuedRun('unknown')).toBe(false);
  });
});

describe('sqlite queue shared by two processes', () => {
  it('a cancel through one handle stops the start through the other, and a start stops a later cancel', () => {
    const owner = journals.open();
    const canceller = journals.open({ file: owner.filePath });
    owner.enqueueRuns([accepted('a'), accepted('b')]);
    expect(canceller.cancelQueuedRun('a')).toBe(true);
    expect(() => owner.start(startOf('a'))).toThrow(RunCancelledError);
    owner.start(startOf('b'));
    expect(canceller.cancelQueuedRun('b')).toBe(false);
    expect(canceller.getRun('b')?.status).toBe('running');
    expect(canceller.queuedRuns().map((q) => [q.runId, q.cancelledAt !== undefined])).toEqual([['a', true]]);
  });

  it('upgrades the queue table of the previous version, keeping its rows', () => {
    const file = journals.newFile();
    const db = new Database(file);
    db.exec(`CREATE TABLE queued_runs (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, project TEXT NOT NULL, owner TEXT NOT NULL,
               input TEXT NOT NULL, accepted_at INTEGER NOT NULL);
             CREATE INDEX queued_runs_by_owner ON queued_runs (owner, seq);
             CREATE INDEX queued_runs_by_project ON queued_runs (project, seq);
             INSERT INTO queued_runs (run_id, project, owner, input, accepted_at) VALUES ('old', 'p1', 'o1', '{"flowName":"x"}', 0);`);
    db.close();
    const j = journals.open({ file });
    expect(j.queuedRuns()).toEqual([{ seq: 1, runId: 'old', projectUuid: 'p1', owner: 'o1', input: { flowName: 'x' }, acceptedAt: new Date(0).toISOString() }]);
    expect(j.cancelQueuedRun('old')).toBe(true);
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queued_runs' AND sql IS NOT NULL`).all()).toEqual([]);
    } finally {
      check.close();
    }
  });
});
