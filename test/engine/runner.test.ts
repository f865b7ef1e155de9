import { describe, expect, it } from 'vitest';
import {
  DuplicateRunError,
  LinearFlow,
  MemoryJournal,
  NothingAppliedError,
  RunEndNotRecordedError,
  RunEvents,
  runFlow,
  type Journal,
  type TaskEvent,
} from '../../src/engine/index.js';
import { addItem, addItemAsync, itemFlow, journalCases, newWorld, type World } from './fixtures.js';

const cases = journalCases();

describe.each(cases)('runFlow with the $kind journal', (jc) => {

  it('runs every task in order and ends completed', async () => {
    const journal = jc.make();
    const world = newWorld();
    const result = await runFlow(itemFlow(['a', 'b', 'c']), world, { journal, runId: 'r1', label: 'p1', meta: { mode: 'sync' } });
    expect(result).toMatchObject({
      runId: 'r1',
      flowName: 'test_flow',
      status: 'completed',
      total: 3,
      completed: 3,
      reverted: 0,
      revertFailures: [],
    });
    expect(result.failedTask).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(result.executeMs);
    expect(result.revertMs).toBe(0);
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c']);
    expect([...world.effects]).toEqual(['a', 'b', 'c']);

    const run = journal.getRun('r1')!;
    expect(run).toMatchObject({ runId: 'r1', flowName: 'test_flow', label: 'p1', meta: { mode: 'sync' }, status: 'completed', taskCount: 3 });
    expect(run.result).toEqual(result);
    expect(Date.parse(run.endedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(run.tasks.map((t) => [t.index, t.kind, t.name, t.target, t.args, t.state, t.undo])).toEqual([
      [0, 'test.addItem', 'add a', 'irods', { item: 'a' }, 'done', 'a'],
      [1, 'test.addItem', 'add b', 'irods', { item: 'b' }, 'done', 'b'],
      [2, 'test.addItem', 'add c', 'irods', { item: 'c' }, 'done', 'c'],
    ]);
    for (const t of run.tasks) {
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
      expect(t.revertMs).toBeUndefined();
    }
    expect(journal.unfinishedRuns()).toEqual([]);
  });

  it('on a failure reverts the completed tasks in reverse order and ends rolled_back', async () => {
    const journal = jc.make();
    const world = newWorld();
    world.failExecute.add('c');
    const result = await runFlow(itemFlow(['a', 'b', 'c', 'd']), world, { journal, runId: 'r2' });
    expect(result).toMatchObject({
      status: 'rolled_back',
      total: 4,
      completed: 2,
      reverted: 2,
      failedTask: { index: 2, name: 'add c', kind: 'test.addItem' },
      error: 'cannot add c',
      revertFailures: [],
    });
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    const run = journal.getRun('r2')!;
    expect(run.status).toBe('rolled_back');
    expect(run.tasks.map((t) => t.state)).toEqual(['reverted', 'reverted', 'failed', 'pending']);
    expect(run.tasks[2].error).toBe('cannot add c');
    expect(run.tasks[0].revertMs).toBeGreaterThanOrEqual(0);
    expect(run.tasks[3].durationMs).toBeUndefined();
  });

  it('keeps reverting after a revert throws, and ends revert_failed listing every failure', async () => {
    const journal = jc.make();
    const world = newWorld();
    world.failExecute.add('e');
    world.failRevert.add('b');
    world.failRevert.add('d');
    const result = await runFlow(itemFlow(['a', 'b', 'c', 'd', 'e']), world, { journal, runId: 'r3' });
    expect(result.status).toBe('revert_failed');
    expect(result.completed).toBe(4);
    expect(result.reverted).toBe(2);
    expect(result.revertFailures).toEqual([
      { index: 3, name: 'add d', error: 'cannot remove d' },
      { index: 1, name: 'add b', error: 'cannot remove b' },
    ]);
    expect(world.log.slice(5)).toEqual(['revert:d:d', 'revert:c:c', 'revert:b:b', 'revert:a:a']);
    expect([...world.effects].sort()).toEqual(['b', 'd']);
    const run = journal.getRun('r3')!;
    expect(run.status).toBe('revert_failed');
    expect(run.tasks.map((t) => t.state)).toEqual(['reverted', 'revert_failed', 'reverted', 'revert_failed', 'failed']);
    expect(run.tasks[1].error).toBe('cannot remove b');
  });

  it('force_fail executes the last task, then rolls back everything', async () => {
    const journal = jc.make();
    const world = newWorld();
    const result = await runFlow(itemFlow(['a', 'b', 'c']), world, { journal, runId: 'r4', forceFail: true });
    expect(result).toMatchObject({
      status: 'rolled_back',
      completed: 3,
      reverted: 3,
      failedTask: { index: 2, name: 'add c' },
    });
    expect(result.error).toMatch(/^Forced failure/);
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c', 'revert:c:c', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    expect(journal.getRun('r4')!.tasks.every((t) => t.state === 'reverted')).toBe(true);
  });

  it('keeps the note of a revert that could not restore everything in the result, the run record and the event', async () => {
    const journal = jc.make();
    const events = new RunEvents();
    const seen: TaskEvent[] = [];
    events.on('task:reverted', (e) => seen.push(e));
    const flow = new LinearFlow<World>('noted', ['irods']);
    flow.add({ kind: 'k', name: 'partial', target: 'irods', args: null, prepare: () => 1, apply: () => {}, revert: () => ({ note: 'x stays' }) });
    flow.add({ kind: 'k', name: 'full', target: 'irods', args: null, prepare: () => 1, apply: () => {}, revert: () => undefined });
    const result = await runFlow(flow, newWorld(), { journal, runId: 'rn', forceFail: true, events });
    expect(result).toMatchObject({ status: 'rolled_back', reverted: 2, revertNotes: [{ index: 0, name: 'partial', note: 'x stays' }] });
    expect(journal.getRun('rn')!.result?.revertNotes).toEqual([{ index: 0, name: 'partial', note: 'x stays' }]);
    expect(seen.map((e) => [e.name, e.note])).toEqual([
      ['full', undefined],
      ['partial', 'x stays'],
    ]);
  });

  it('reverts a task whose apply threw part-way with the undo value its prepare gave, before the others', async () => {
    const journal = jc.make();
    const world = newWorld();
    const { registry } = await import('./fixtures.js');
    const half = registry.define<{ items: string[] }, string[]>({
      kind: `test.halfApply.${jc.kind}`,
      prepare: (w, args) => args.items.filter((i) => !w.effects.has(i)),
      apply(w, args) {
        w.effects.add(args.items[0]);
        throw new Error('second item refused');
      },
      revert(w, _args, undo) {
        w.log.push(`revert:half:${undo.join(',')}`);
        for (const i of undo) w.effects.delete(i);
      },
    });
    const flow = itemFlow(['a']).add(half('half', 'irods', { items: ['x', 'y'] }));
    const result = await runFlow(flow, world, { journal, runId: 'half' });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 1, reverted: 2, failedTask: { index: 1 }, error: 'second item refused' });
    expect(world.log).toEqual(['exec:a', 'revert:half:x,y', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    expect(journal.getRun('half')!.tasks.map((t) => [t.state, t.undo])).toEqual([
      ['reverted', 'a'],
      ['reverted', ['x', 'y']],
    ]);
  });

  it('does not revert a task whose apply refused before changing anything (NothingAppliedError), and drops its undo from the journal', async () => {
    const journal = jc.make();
    const world = newWorld();
    const { registry } = await import('./fixtures.js');
    // another run adds the item between this task's prepare and its apply
    const raced = registry.define<{ item: string }, string>({
      kind: `test.raced.${jc.kind}`,
      prepare: (w, args) => (w.effects.has(args.item) ? undefined : args.item),
      apply(w, args) {
        w.effects.add(args.item);
        throw new NothingAppliedError(`${args.item} exists: another run made it meanwhile`);
      },
      revert(w, args) {
        w.log.push(`revert:raced:${args.item}`);
        w.effects.delete(args.item);
      },
    });
    const flow = itemFlow(['a']).add(raced('raced', 'irods', { item: 'theirs' })).add(addItem('add b', 'irods', { item: 'b' }));
    const result = await runFlow(flow, world, { journal, runId: 'raced' });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 1, reverted: 1, failedTask: { index: 1 }, error: 'theirs exists: another run made it meanwhile' });
    expect(world.log).toEqual(['exec:a', 'revert:a:a']);
    expect([...world.effects]).toEqual(['theirs']);
    const tasks = journal.getRun('raced')!.tasks;
    expect(tasks.map((t) => [t.state, t.undo])).toEqual([
      ['reverted', 'a'],
      ['failed', undefined],
      ['pending', undefined],
    ]);
  });

  it('stops before the next task once stopIf gives a reason, and rolls back what was applied', async () => {
    const journal = jc.make();
    const world = newWorld();
    let lost = false;
    const events = new RunEvents();
    events.on('task:done', (e: { index: number }) => {
      if (e.index === 1) lost = true;
    });
    const result = await runFlow(itemFlow(['a', 'b', 'c', 'd']), world, { journal, runId: 'stopped', events, stopIf: () => (lost ? 'the lock was lost' : undefined) });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 2, reverted: 2, failedTask: { index: 2 }, error: 'the lock was lost' });
    expect(world.log).toEqual(['exec:a', 'exec:b', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    expect(journal.getRun('stopped')!.tasks.map((t) => [t.state, t.undo])).toEqual([
      ['reverted', 'a'],
      ['reverted', 'b'],
      ['failed', undefined],
      ['pending', undefined],
    ]);
  });

  it('calls beforeEnd once, after the last task (or revert) and before the end is recorded; a throw changes nothing', async () => {
    for (const forceFail of [false, true]) {
      const journal = jc.make();
      const world = newWorld();
      const runId = `before-end-${forceFail}`;
      const seen: Array<[string[], string | undefined]> = [];
      const result = await runFlow(itemFlow(['a', 'b']), world, {
        journal,
        runId,
        forceFail,
        beforeEnd: () => {
          seen.push([[...world.log], journal.getRun(runId)?.status]);
          throw new Error('a caller bug');
        },
      });
      expect(result.status).toBe(forceFail ? 'rolled_back' : 'completed');
      expect(seen).toEqual([[world.log, 'running']]);
      expect(journal.getRun(runId)!.status).toBe(result.status);
    }
  });

  it('force_fail stops before the closing tail, which it never applies', async () => {
    const journal = jc.make();
    const world = newWorld();
    const flow = itemFlow(['a', 'b']).addClosing(addItem('add z', 'irods', { item: 'z' }));
    const result = await runFlow(flow, world, { journal, forceFail: true });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 2, reverted: 2, failedTask: { index: 1, name: 'add b' } });
    expect(world.log).toEqual(['exec:a', 'exec:b', 'revert:b:b', 'revert:a:a']);
    expect(journal.getRun(result.runId)!.tasks.map((t) => t.state)).toEqual(['reverted', 'reverted', 'pending']);
  });

  it('force_fail on an empty flow rolls back nothing', async () => {
    const journal = jc.make();
    const result = await runFlow(new LinearFlow<World>('empty', ['irods']), newWorld(), { journal, forceFail: true });
    expect(result).toMatchObject({ status: 'rolled_back', total: 0, completed: 0, reverted: 0 });
    expect(result.error).toMatch(/^Forced failure/);
  });

  it('runs an empty flow to completed', async () => {
    const journal = jc.make();
    const result = await runFlow(new LinearFlow<World>('empty', ['irods']), newWorld(), { journal });
    expect(result).toMatchObject({ status: 'completed', total: 0 });
    expect(journal.getRun(result.runId)!.tasks).toEqual([]);
  });

  it('does not call revert for a task that changed nothing (undo undefined)', async () => {
    const journal = jc.make();
    const world = newWorld();
    world.effects.add('b'); // already there: the task changes nothing and must not remove it
    const result = await runFlow(itemFlow(['a', 'b', 'c']), world, { journal, runId: 'r5', forceFail: true });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 3, reverted: 3 });
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c', 'revert:c:c', 'revert:a:a']);
    expect([...world.effects]).toEqual(['b']);
    const run = journal.getRun('r5')!;
    expect(run.tasks[1].undo).toBeUndefined();
    expect(run.tasks[1].state).toBe('reverted');
  });

  it('mixes asynchronous and synchronous tasks', async () => {
    const journal = jc.make();
    const world = newWorld();
    world.failExecute.add('d');
    const flow = new LinearFlow<World>('mixed', ['irods']);
    flow
      .add(addItemAsync('a', 'irods', { item: 'a' }))
      .add(addItem('b', 'irods', { item: 'b' }))
      .add(addItemAsync('c', 'irods', { item: 'c' }))
      .add(addItemAsync('d', 'irods', { item: 'd' }));
    const result = await runFlow(flow, world, { journal });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 3, reverted: 3, error: 'cannot add d' });
    expect(world.log).toEqual(['exec:a', 'exec:b', 'exec:c', 'exec:d', 'revert:c:c', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
  });

  it('rejects a run id that is already in the journal', async () => {
    const journal = jc.make();
    await runFlow(itemFlow(['a']), newWorld(), { journal, runId: 'same' });
    await expect(runFlow(itemFlow(['a']), newWorld(), { journal, runId: 'same' })).rejects.toThrow(DuplicateRunError);
  });

  it('stores undo values as JSON, null distinct from nothing', async () => {
    const journal = jc.make();
    const { registry } = await import('./fixtures.js');
    const kind = `test.json.${jc.kind}`;
    const make = registry.define<{ v: number }, { nested: (number | null)[] } | null>({
      kind,
      prepare: (_w, args) => (args.v === 0 ? null : { nested: [args.v, null] }),
      apply: () => {},
      revert: () => {},
    });
    const flow = new LinearFlow<World>('json', ['irods']).add(make('zero', 'irods', { v: 0 })).add(make('one', 'irods', { v: 1 }));
    const result = await runFlow(flow, newWorld(), { journal });
    const tasks = journal.getRun(result.runId)!.tasks;
    expect(tasks[0].undo).toBeNull();
    expect(tasks[1].undo).toEqual({ nested: [1, null] });
  });
});

describe('runFlow events', () => {
  it('emits task and run events in order with their payloads', async () => {
    const events = new RunEvents();
    const seen: string[] = [];
    const payloads: TaskEvent[] = [];
    for (const name of ['task:start', 'task:done', 'task:failed', 'task:reverted', 'task:revert_failed'] as const) {
      events.on(name, (e) => {
        seen.push(`${name} ${e.index}`);
        payloads.push(e);
      });
    }
    let ended: unknown;
    events.on('run:end', (r) => {
      seen.push(`run:end ${r.status}`);
      ended = r;
    });
    const world = newWorld();
    world.failExecute.add('c');
    world.failRevert.add('a');
    const result = await runFlow(itemFlow(['a', 'b', 'c']), world, { events, runId: 'ev' });
    expect(seen).toEqual([
      'task:start 0',
      'task:done 0',
      'task:start 1',
      'task:done 1',
      'task:start 2',
      'task:failed 2',
      'task:reverted 1',
      'task:revert_failed 0',
      'run:end revert_failed',
    ]);
    expect(ended).toBe(result);
    expect(payloads[0]).toEqual({ runId: 'ev', index: 0, name: 'add a', kind: 'test.addItem' });
    expect(payloads[1]).toMatchObject({ runId: 'ev', index: 0, name: 'add a', kind: 'test.addItem' });
    expect(payloads[1].durationMs).toBeGreaterThanOrEqual(0);
    expect(payloads[5]).toMatchObject({ index: 2, error: 'cannot add c' });
    expect(payloads[7]).toMatchObject({ index: 0, error: 'cannot remove a' });
  });

  it('a throwing listener does not change the outcome', async () => {
    const events = new RunEvents();
    events.on('task:done', () => {
      throw new Error('listener bug');
    });
    events.on('run:end', () => {
      throw new Error('listener bug');
    });
    const world = newWorld();
    const result = await runFlow(itemFlow(['a', 'b']), world, { events });
    expect(result.status).toBe('completed');
    expect(world.effects.size).toBe(2);
  });
});

describe('runFlow without a journal and with a failing journal', () => {
  it('runs and reverts without any journal', async () => {
    const world = newWorld();
    const result = await runFlow(itemFlow(['a', 'b']), world, { forceFail: true });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 2, reverted: 2 });
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(world.effects.size).toBe(0);
  });

  it('treats a journal write failing after a task as that task failing, and reverts it too', async () => {
    const inner = new MemoryJournal();
    const journal: Journal = Object.create(inner) as Journal;
    journal.doneThenIntent = (runId, index, ms, nextUndo) => {
      if (index === 1) throw new Error('disk full');
      inner.doneThenIntent(runId, index, ms, nextUndo);
    };
    const world = newWorld();
    const result = await runFlow(itemFlow(['a', 'b', 'c']), world, { journal, runId: 'jf' });
    expect(result).toMatchObject({ status: 'rolled_back', completed: 2, reverted: 2, failedTask: { index: 1 } });
    expect(result.error).toMatch(/Journal write failed.*disk full/);
    expect(world.log).toEqual(['exec:a', 'exec:b', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    expect(inner.getRun('jf')!.status).toBe('rolled_back');
  });

  it("throws RunEndNotRecordedError with the run's result, as it ended, when the journal cannot record the end", async () => {
    const inner = new MemoryJournal();
    const journal: Journal = Object.create(inner) as Journal;
    journal.finish = () => {
      throw new Error('disk full');
    };
    const world = newWorld();
    const err = await runFlow(itemFlow(['a', 'b']), world, { journal, runId: 'end' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunEndNotRecordedError);
    expect((err as RunEndNotRecordedError).message).toBe('the run journal could not record how run end ended (completed): disk full');
    expect((err as RunEndNotRecordedError).result).toMatchObject({ runId: 'end', status: 'completed', completed: 2 });
    // applied, and left so: recovery rolls such a run forward
    expect([...world.effects]).toEqual(['a', 'b']);
    expect(inner.getRun('end')!.status).toBe('running');
  });

  it('treats an undo value that is not JSON as a failure (SQLite journal)', async () => {
    const journal = cases.find((c) => c.kind === 'sqlite')!.make();
    const { registry } = await import('./fixtures.js');
    const bad = registry.define({
      kind: 'test.badUndo',
      prepare: () => (() => 1) as unknown as number,
      apply: () => {},
      revert: () => {},
    });
    const world = newWorld();
    const flow = itemFlow(['a']).add(bad('bad', 'irods', {})).add(addItem('add z', 'irods', { item: 'z' }));
    const result = await runFlow(flow, world, { journal });
    // its undo cannot be journaled with its intent, so it is never applied: only task 0 is undone
    expect(result).toMatchObject({ status: 'rolled_back', completed: 1, reverted: 1, failedTask: { index: 1 } });
    expect(result.error).toMatch(/Journal write failed before task "bad": Undo value is not JSON/);
    expect(world.effects.size).toBe(0);
  });
});
