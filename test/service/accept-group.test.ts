/**
 * Group commit of accepted runs over a real SQLite journal: the submits of
 * one moment share one transaction and one fsync, and none is answered
 * before the fsync that covers its own record has completed.
 */
import { describe, expect, it } from 'vitest';
import type { NewQueuedRun } from '../../src/engine/queue-store.js';
import { AcceptGroup } from '../../src/service/accept-group.js';
import { journalsPerTest } from '../support/engine-journals.js';

const journals = journalsPerTest();

const run = (i: number): NewQueuedRun => ({ runId: `run-${i}`, projectUuid: `p${i % 3}`, owner: 'o', input: { flowName: 'f', i } });

describe('AcceptGroup', () => {
  it('writes the accepts of one moment in one transaction, in order, and answers each only after its fsync', async () => {
    const j = journals.open();
    // hold the fsync, to see that nobody is answered before it completes
    let syncs = 0;
    let releaseSync: () => void = () => {};
    const held = new Promise<void>((r) => (releaseSync = r));
    const group = new AcceptGroup({
      enqueueRuns: (runs) => j.enqueueRuns(runs),
      dequeueRun: (id) => j.dequeueRun(id),
      queuedRun: (id) => j.queuedRun(id),
      queuedRuns: (f) => j.queuedRuns(f),
      queuedOwners: () => j.queuedOwners(),
      setQueuedOwner: (id, o) => j.setQueuedOwner(id, o),
      cancelQueuedRun: (id) => j.cancelQueuedRun(id),
      whenDurable: async () => {
        syncs++;
        await held;
        return j.whenDurable();
      },
    });
    const answered: string[] = [];
    const pending = Array.from({ length: 20 }, (_, i) => group.accept(run(i)).then((q) => (answered.push(q.runId), q)));
    // the transaction is written once this turn's I/O is done; the answers wait for the sync
    await new Promise((r) => setImmediate(r));
    expect(j.queuedRuns()).toHaveLength(20);
    expect(group.commitCount).toBe(1);
    expect(syncs).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(answered).toEqual([]);
    releaseSync();
    const recorded = await Promise.all(pending);
    expect(answered).toEqual(recorded.map((q) => q.runId));
    expect(recorded.map((q) => q.runId)).toEqual(Array.from({ length: 20 }, (_, i) => `run-${i}`));
    expect(recorded.map((q) => q.seq)).toEqual([...recorded.map((q) => q.seq)].sort((a, b) => a - b));
    expect(j.queuedRuns().map((q) => q.seq)).toEqual(recorded.map((q) => q.seq));
  });

  it('accepts of later moments get commits of their own, sharing fsyncs when they come while one is in flight', async () => {
    const j = journals.open();
    const group = new AcceptGroup(j);
    const syncsBefore = j.syncCount;
    const first = Array.from({ length: 5 }, (_, i) => group.accept(run(i)));
    await new Promise((r) => setImmediate(r));
    const second = Array.from({ length: 5 }, (_, i) => group.accept(run(5 + i)));
    await Promise.all([...first, ...second]);
    expect(group.commitCount).toBe(2);
    expect(j.syncCount - syncsBefore).toBeLessThanOrEqual(2);
    expect(j.queuedRuns()).toHaveLength(10);
  });

  it('a failed write rejects every accept of its group, and records none of them', async () => {
    const j = journals.open();
    const group = new AcceptGroup(j);
    await group.accept(run(1));
    // the same run id again: the unique run id fails the whole transaction
    const results = await Promise.allSettled([group.accept(run(2)), group.accept(run(1))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(j.queuedRuns().map((q) => q.runId)).toEqual(['run-1']);
    expect(group.commitCount).toBe(1);
  });
});
