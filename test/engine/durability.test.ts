import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_WORKER_AFTER_COMMITS,
  LinearFlow,
  MemoryJournal,
  RunEvents,
  TaskRegistry,
  runFlow,
} from '../../src/engine/index.js';
import { journalsPerTest } from '../support/engine-journals.js';
import { itemFlow, newWorld } from './fixtures.js';

/** Tasks that wait for a shared gate, so many runs reach their end in the same tick. */
interface Gated {
  gate: Promise<void>;
}
const gatedRegistry = new TaskRegistry<Gated>();
const waitForGate = gatedRegistry.define<{ n: number }, number>({
  kind: 'test.waitForGate',
  prepare: (_ctx, args) => args.n,
  async apply(ctx) {
    await ctx.gate;
  },
  revert() {},
});

const journals = journalsPerTest();

describe('durable run ends', () => {
  it('memory journal: whenDurable resolves at once', async () => {
    const journal = new MemoryJournal();
    await expect(journal.whenDurable()).resolves.toBeUndefined();
    const result = await runFlow(itemFlow(['a']), newWorld(), { journal });
    expect(result.status).toBe('completed');
  });

  it('sqlite journal: a run syncs once before it returns, and an idle journal does not sync', async () => {
    const journal = journals.open();
    await journal.whenDurable();
    expect(journal.syncCount).toBe(0);
    const result = await runFlow(itemFlow(['a', 'b']), newWorld(), { journal, runId: 'one' });
    expect(result.status).toBe('completed');
    expect(journal.syncCount).toBe(1);
    await journal.whenDurable();
    expect(journal.syncCount).toBe(1);
    // a failed run too: its final state is synced before runFlow returns
    const world = newWorld();
    world.failExecute.add('y');
    expect((await runFlow(itemFlow(['x', 'y']), world, { journal })).status).toBe('rolled_back');
    expect(journal.syncCount).toBe(2);
  });

  it('sqlite journal: the ends of many concurrent runs share their fsyncs', async () => {
    const journal = journals.open();
    const runs = 64;
    let open!: () => void;
    const ctx: Gated = { gate: new Promise<void>((resolve) => (open = resolve)) };
    const pending = Array.from({ length: runs }, (_, i) => {
      const flow = new LinearFlow<Gated>('gated', ['irods']);
      flow.add(waitForGate(`wait ${i}`, 'irods', { n: i }));
      flow.add(waitForGate(`again ${i}`, 'irods', { n: i }));
      return runFlow(flow, ctx, { journal, runId: `run-${i}` });
    });
    open();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    // the first run's end starts an fsync; the other 63 finish while it is in flight and share the next
    expect(journal.syncCount).toBeGreaterThanOrEqual(1);
    expect(journal.syncCount).toBeLessThanOrEqual(2);
    const other = journals.open({ file: journal.filePath });
    expect(other.listRuns({ status: 'completed', limit: 0, offset: 0 }).total).toBe(runs);
  });

  it('sqlite journal, a commit per turn: runs writing together share a commit, and each undo value is committed before its apply', async () => {
    const journal = journals.open({ commitPerTurn: true });
    // another connection sees only what is committed: what a process started after a crash would find
    const reader = journals.open({ file: journal.filePath });
    const runs = 10;
    const tasks = 4;
    const seenBeforeApply: string[] = [];
    const registry = new TaskRegistry<null>();
    const step = registry.define<{ run: number; task: number }, string>({
      kind: 'test.checkedStep',
      prepare: (_ctx, args) => `undo ${args.run}.${args.task}`,
      async apply(_ctx, args) {
        const recorded = reader.getRun(`run-${args.run}`)?.tasks[args.task];
        seenBeforeApply.push(`${recorded?.state} ${String(recorded?.undo)}`);
        // an await per task, as the store and site calls have: the runs interleave
        await new Promise<void>((resolve) => setImmediate(resolve));
      },
      revert() {},
    });
    const commitsBefore = journal.commitCount;
    const results = await Promise.all(
      Array.from({ length: runs }, (_, r) => {
        const flow = new LinearFlow<null>('stepped', ['irods']);
        for (let t = 0; t < tasks; t++) flow.add(step(`step ${t}`, 'irods', { run: r, task: t }));
        return runFlow(flow, null, { journal, runId: `run-${r}` });
      }),
    );
    expect(results.every((res) => res.status === 'completed')).toBe(true);
    expect(seenBeforeApply).toHaveLength(runs * tasks);
    expect(seenBeforeApply.filter((s) => !/^intent undo \d+\.\d+$/.test(s))).toEqual([]);
    // the ten starts, written in one go, share a commit; each run then resumes alone (one setImmediate
    // callback each), so every later intent takes one; each run's last done goes with its end, and the
    // ends of runs resumed together share one. One commit per record would be runs * (tasks + 2)
    const commits = journal.commitCount - commitsBefore;
    expect(commits).toBeGreaterThanOrEqual(runs * (tasks - 1) + 1);
    expect(commits).toBeLessThanOrEqual(runs * (tasks - 1) + 2);
    expect(reader.listRuns({ status: 'completed', limit: 0, offset: 0 }).total).toBe(runs);
  });

  it('sqlite journal, a commit per turn: the last done is committed before a listener or the afterTask hook sees it, and with neither it shares the end\'s commit', async () => {
    const journal = journals.open({ commitPerTurn: true });
    const reader = journals.open({ file: journal.filePath });
    const stateOfLast = (runId: string): string | undefined => reader.getRun(runId)?.tasks[1]?.state;
    // a listener of task:done (the freeze hook of the crash tests stops the process right there)
    const seenByListener: Array<string | undefined> = [];
    const events = new RunEvents();
    events.on('task:done', (e) => {
      if (e.index === 1) seenByListener.push(stateOfLast('listened'));
    });
    await runFlow(itemFlow(['a', 'b']), newWorld(), { journal, runId: 'listened', events });
    expect(seenByListener).toEqual(['done']);
    // the afterTask hook (the pause hook)
    const seenByHook: Array<string | undefined> = [];
    await runFlow(itemFlow(['a', 'b']), newWorld(), {
      journal,
      runId: 'hooked',
      afterTask: (i) => {
        if (i === 1) seenByHook.push(stateOfLast('hooked'));
      },
    });
    expect(seenByHook).toEqual(['done']);
    // neither: the last done and the end are one commit
    const before = journal.commitCount;
    await runFlow(itemFlow(['a', 'b']), newWorld(), { journal, runId: 'quiet' });
    // start (with task 0's intent), task 1's intent, then the last done with the end
    expect(journal.commitCount - before).toBe(3);
    const run = reader.getRun('quiet');
    expect(run?.status).toBe('completed');
    expect(run?.tasks.map((t) => t.state)).toEqual(['done', 'done']);
  });

  it('sqlite journal, a commit per turn: a first task with nothing to undo applies before the start is committed, one with an undo value after', async () => {
    const journal = journals.open({ commitPerTurn: true });
    const reader = journals.open({ file: journal.filePath });
    const seen: Record<string, string | undefined> = {};
    const registry = new TaskRegistry<null>();
    // what another process would find at the apply: the run's committed record, if any
    const look = (args: { run: string; task: number }): void => {
      seen[`${args.run}.${args.task}`] = reader.getRun(args.run)?.tasks[args.task]?.state ?? 'no record';
    };
    const check = registry.define<{ run: string; task: number }, string>({
      kind: 'test.check',
      // nothing to undo
      prepare: () => undefined as unknown as string,
      apply: (_ctx, args) => look(args),
      revert() {},
    });
    const change = registry.define<{ run: string; task: number }, string>({
      kind: 'test.change',
      prepare: () => 'undo',
      apply: (_ctx, args) => look(args),
      revert() {},
    });
    const flowOf = (run: string, first: typeof check): LinearFlow<null> => {
      const flow = new LinearFlow<null>('quiet', ['irods']);
      flow.add(first('first', 'irods', { run, task: 0 }));
      flow.add(change('second', 'irods', { run, task: 1 }));
      return flow;
    };
    const before = journal.commitCount;
    expect((await runFlow(flowOf('checks-first', check), null, { journal, runId: 'checks-first' })).status).toBe('completed');
    // the start rode on the commit before the second task's apply: two commits, not three
    expect(journal.commitCount - before).toBe(2);
    expect((await runFlow(flowOf('changes-first', change), null, { journal, runId: 'changes-first' })).status).toBe('completed');
    // a listener of task:start sees the start committed (the crash tests freeze there)
    const events = new RunEvents();
    events.on('task:start', () => undefined);
    expect((await runFlow(flowOf('listened', check), null, { journal, runId: 'listened', events })).status).toBe('completed');
    expect(seen).toEqual({
      'checks-first.0': 'no record',
      'checks-first.1': 'intent',
      'changes-first.0': 'intent',
      'changes-first.1': 'intent',
      'listened.0': 'intent',
      'listened.1': 'intent',
    });
    expect(reader.getRun('checks-first')?.tasks.map((t) => t.state)).toEqual(['done', 'done']);
  });

  it('sqlite journal: a busy journal checkpoints in a worker and reopens intact', async () => {
    const journal = journals.open();
    // each run commits at least twice, so this passes the worker threshold
    const runs = CHECKPOINT_WORKER_AFTER_COMMITS;
    for (let i = 0; i < runs; i++) await runFlow(itemFlow(['a']), newWorld(), { journal, runId: `r${i}` });
    journal.close();
    const reopened = journals.open({ file: journal.filePath });
    expect(reopened.listRuns({ status: 'completed', limit: 1, offset: 0 }).total).toBe(runs);
    expect(reopened.unfinishedRuns()).toEqual([]);
  });
});
