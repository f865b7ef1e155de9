/**
 * Fences (src/engine/fences.ts): for a key, a journal either finds the runs
 * carrying it or fences it, and a fenced key is refused at a run's start and
 * at its acceptance, atomically with their records, whichever handle
 * (process) on the file did what.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MemoryJournal, RunFencedError, type Journal, type RunFences } from '../../src/engine/index.js';
import type { NewQueuedRun, QueuedRun, RunQueueStore } from '../../src/engine/queue-store.js';
import { journalsPerTest } from '../support/engine-journals.js';

const journals = journalsPerTest();
type Full = Journal & RunQueueStore & RunFences;

const startOf = (runId: string, fenceKey?: string) => ({ runId, flowName: 'f', label: 'p1', fenceKey, tasks: [{ kind: 'k', name: 't', target: 'irods', args: null }] });
const accepted = (runId: string, fenceKey?: string): NewQueuedRun => ({ runId, projectUuid: 'p1', owner: 'o1', input: { runId }, fenceKey });

describe.each([
  { kind: 'memory', pair: (): [Full, Full] => { const j = new MemoryJournal(); return [j, j]; } },
  // two handles on one file stand for two service processes on one data folder
  { kind: 'sqlite', pair: (): [Full, Full] => { const file = journals.newFile(); return [journals.open({ file }), journals.open({ file })]; } },
])('$kind journal', ({ pair }) => {
  it('fences a key no run carries, and refuses a later start carrying it, recording nothing', () => {
    const [a, b] = pair();
    const fence = a.fence('ev-1');
    expect(fence).toMatchObject({ fenced: true });
    const fencedAt = (fence as { fencedAt: string }).fencedAt;
    expect(() => b.start(startOf('r1', 'ev-1'))).toThrow(RunFencedError);
    expect(b.getRun('r1')).toBeUndefined();
    expect(a.getRun('r1')).toBeUndefined();
    // idempotent, from either side
    expect(b.fence('ev-1')).toEqual({ fenced: true, fencedAt });
    expect(b.fencedAt('ev-1')).toBe(fencedAt);
    // runs without the key, or with another, start as before
    b.start(startOf('r2'));
    b.start(startOf('r3', 'ev-2'));
    expect(a.getRun('r3')?.status).toBe('running');
  });

  it('finds the runs carrying a key instead of fencing it: started, waiting in line, cancelled', () => {
    const [a, b] = pair();
    a.start(startOf('r1', 'ev-run'));
    b.enqueueRuns([accepted('q1', 'ev-queued'), accepted('q2', 'ev-cancelled')]);
    b.cancelQueuedRun('q2');
    expect(b.fence('ev-run')).toEqual({ fenced: false, runs: [{ runId: 'r1', status: 'running' }] });
    expect(a.fence('ev-queued')).toEqual({ fenced: false, runs: [{ runId: 'q1', status: 'waiting' }] });
    expect(a.fence('ev-cancelled')).toEqual({ fenced: false, runs: [{ runId: 'q2', status: 'cancelled' }] });
    expect(a.fencedAt('ev-run')).toBeUndefined();
    // an accepted run keeps its key when it starts: still found, never fenced
    a.start(startOf('q1', 'ev-queued'));
    expect(b.fence('ev-queued')).toEqual({ fenced: false, runs: [{ runId: 'q1', status: 'running' }] });
  });

  it('refuses only the fenced run of a group of accepted runs; the others are recorded', () => {
    const [a, b] = pair();
    a.fence('ev-late');
    const out = b.enqueueRuns([accepted('q1'), accepted('q2', 'ev-late'), accepted('q3', 'ev-ok')]);
    expect(out[1]).toBeInstanceOf(RunFencedError);
    expect((out[1] as RunFencedError).fenceKey).toBe('ev-late');
    expect([out[0], out[2]].map((q) => (q as QueuedRun).runId)).toEqual(['q1', 'q3']);
    expect(a.queuedRuns().map((q) => q.runId)).toEqual(['q1', 'q3']);
  });
});

describe('a journal from before fence keys', () => {
  it('finds its runs by the key where their writer kept it, so they are never fenced', () => {
    const file = journals.newFile();
    const old = journals.open({ file });
    old.start({ ...startOf('r-old'), meta: { timeline_uuid: 'ev-old' } });
    old.start({ ...startOf('r-none'), meta: { timeline_uuid: 'None' } });
    old.close();
    // stands for the older version's file: no fence key column, the key only in the meta
    const raw = journals.open({ file });
    raw.close();
    const db = new Database(file);
    db.exec('DROP INDEX runs_by_fence_key; ALTER TABLE runs DROP COLUMN fence_key; ALTER TABLE queued_runs DROP COLUMN fence_key');
    db.close();
    const upgraded = journals.open({ file, legacyFenceKeys: { runMeta: '$.timeline_uuid', queuedInput: '$.timelineUuid', none: 'None' } });
    expect(upgraded.fence('ev-old')).toEqual({ fenced: false, runs: [{ runId: 'r-old', status: 'running' }] });
    expect(upgraded.fence('None')).toMatchObject({ fenced: true });
  });
});
