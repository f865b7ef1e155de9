import { describe, expect, it } from 'vitest';
import {
  INTERRUPTED_MESSAGE,
  RunEvents,
  RevertDeferredError,
  RunNotFoundError,
  RunStateError,
  recoverRun,
  recoverRuns,
  retryRevert,
  runFlow,
  type Journal,
} from '../../src/engine/index.js';
import { itemFlow, journalCases, newWorld, registry, type World } from './fixtures.js';

/** Journals a run as a crashed process would have left it, with the world's side effects to match. */
function crashedRun(journal: Journal, world: World, runId: string, items: string[], states: ('done' | 'intent' | 'pending')[]) {
  journal.start({
    runId,
    flowName: 'crashed_flow',
    label: 'p',
    tasks: items.map((item) => ({ kind: 'test.addItem', name: `add ${item}`, target: 'irods', args: { item } })),
  });
  states.forEach((state, i) => {
    if (state === 'pending') return;
    // the undo value is journaled with the intent, before the task's effect
    journal.intent(runId, i, items[i]);
    world.effects.add(items[i]);
    if (state === 'done') journal.done(runId, i, 1);
  });
}

describe.each(journalCases())('recovery with the $kind journal', (jc) => {

  it('reverts done tasks and the task caught mid-apply (with its journaled undo), in reverse order', async () => {
    const journal = jc.make();
    const world = newWorld();
    crashedRun(journal, world, 'c1', ['a', 'b', 'c', 'd'], ['done', 'done', 'intent', 'pending']);
    const results = await recoverRuns(journal, registry, world);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      runId: 'c1',
      flowName: 'crashed_flow',
      status: 'rolled_back',
      total: 4,
      completed: 2,
      reverted: 3,
      error: INTERRUPTED_MESSAGE,
      revertFailures: [],
    });
    expect(world.log).toEqual(['revert:c:c', 'revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    const run = journal.getRun('c1')!;
    expect(run.status).toBe('rolled_back');
    expect(run.result).toEqual(results[0]);
    expect(run.tasks.map((t) => t.state)).toEqual(['reverted', 'reverted', 'reverted', 'pending']);
    expect(journal.unfinishedRuns()).toEqual([]);
    // nothing left to do the second time
    expect(await recoverRuns(journal, registry, world)).toEqual([]);
  });

  it('finishes a revert that was interrupted, keeping the failed task and its error', async () => {
    const journal = jc.make();
    const world = newWorld();
    // d failed in its prepare: no undo journaled, nothing of it to revert
    crashedRun(journal, world, 'c2', ['a', 'b', 'c', 'd'], ['done', 'done', 'done', 'pending']);
    journal.failed('c2', 3, 'disk on fire', 2);
    journal.reverted('c2', 2, 1);
    world.effects.delete('c');
    const events = new RunEvents();
    const reverted: number[] = [];
    events.on('task:reverted', (e) => reverted.push(e.index));
    const [result] = await recoverRuns(journal, registry, world, { events });
    expect(result).toMatchObject({ status: 'rolled_back', failedTask: { index: 3, name: 'add d' }, reverted: 2 });
    expect(result.error).toContain('disk on fire');
    expect(reverted).toEqual([1, 0]);
    expect(world.log).toEqual(['revert:b:b', 'revert:a:a']);
    expect(world.effects.size).toBe(0);
    expect(journal.getRun('c2')!.tasks.map((t) => t.state)).toEqual(['reverted', 'reverted', 'reverted', 'failed']);
  });

  it('recovers every unfinished run oldest first and leaves finished runs alone', async () => {
    const journal = jc.make();
    const world = newWorld();
    await runFlow(itemFlow(['kept']), world, { journal, runId: 'finished' });
    crashedRun(journal, world, 'old', ['x'], ['done']);
    crashedRun(journal, world, 'new', ['y'], ['intent']);
    const results = await recoverRuns(journal, registry, world);
    expect(results.map((r) => [r.runId, r.status])).toEqual([
      ['old', 'rolled_back'],
      ['new', 'rolled_back'],
    ]);
    expect([...world.effects]).toEqual(['kept']);
    expect(journal.getRun('finished')!.status).toBe('completed');
  });

  it('does not call revert for a done task that changed nothing', async () => {
    const journal = jc.make();
    const world = newWorld();
    journal.start({ runId: 'n', flowName: 'f', tasks: [{ kind: 'test.addItem', name: 'noop', target: 'irods', args: { item: 'pre' } }] });
    journal.intent('n', 0, undefined);
    journal.done('n', 0, 1);
    world.effects.add('pre');
    const [result] = await recoverRuns(journal, registry, world);
    expect(result).toMatchObject({ status: 'rolled_back', reverted: 1 });
    expect(world.log).toEqual([]);
    expect([...world.effects]).toEqual(['pre']);
  });

  it('ends revert_failed when a revert throws or a kind is unknown, and retryRevert finishes the job', async () => {
    const journal = jc.make();
    const world = newWorld();
    crashedRun(journal, world, 'rf', ['a', 'b', 'c'], ['done', 'done', 'done']);
    journal.start({ runId: 'unknown', flowName: 'f', tasks: [{ kind: 'gone.kind', name: 'lost', target: 'irods', args: {} }] });
    journal.intent('unknown', 0, {});
    world.failRevert.add('b');
    const results = await recoverRuns(journal, registry, world);
    expect(results[0]).toMatchObject({
      runId: 'rf',
      status: 'revert_failed',
      reverted: 2,
      revertFailures: [{ index: 1, name: 'add b', error: 'cannot remove b' }],
    });
    expect(results[1]).toMatchObject({ runId: 'unknown', status: 'revert_failed' });
    expect(results[1].revertFailures[0].error).toMatch(/Unknown task kind "gone\.kind"/);
    expect([...world.effects]).toEqual(['b']);
    expect(journal.unfinishedRuns()).toEqual([]);

    // still failing: stays revert_failed
    const again = await retryRevert(journal, registry, world, 'rf');
    expect(again).toMatchObject({ status: 'revert_failed', reverted: 0 });
    world.failRevert.clear();
    world.log.length = 0;
    const fixed = await retryRevert(journal, registry, world, 'rf');
    expect(fixed).toMatchObject({ status: 'rolled_back', reverted: 1, revertFailures: [], error: INTERRUPTED_MESSAGE });
    expect(world.log).toEqual(['revert:b:b']);
    expect(world.effects.size).toBe(0);
    expect(journal.getRun('rf')!.status).toBe('rolled_back');
    expect(journal.getRun('rf')!.tasks.every((t) => t.state === 'reverted')).toBe(true);
  });

  it('leaves the run unfinished when every revert that threw may succeed later, and finishes it on the next try', async () => {
    const journal = jc.make();
    const world = newWorld();
    crashedRun(journal, world, 'later', ['a', 'b', 'c'], ['done', 'done', 'done']);
    world.failRevert.add('b');
    const retryLater = (err: unknown): boolean => err instanceof Error && err.message === 'cannot remove b';
    const deferred = await recoverRun(journal, registry, world, 'later', { retryLater }).catch((e: unknown) => e);
    expect(deferred).toBeInstanceOf(RevertDeferredError);
    expect(deferred).toMatchObject({ runId: 'later', failures: [{ index: 1, name: 'add b', error: 'cannot remove b' }] });
    expect(journal.unfinishedRuns()).toEqual(['later']);
    expect(journal.getRun('later')!.tasks.map((t) => t.state)).toEqual(['reverted', 'revert_failed', 'reverted']);

    // a failure that does not pass, beside one that does, ends the run revert_failed as before
    world.failRevert.add('a');
    crashedRun(journal, world, 'mixed', ['a', 'b'], ['done', 'done']);
    expect(await recoverRun(journal, registry, world, 'mixed', { retryLater })).toMatchObject({ status: 'revert_failed' });

    world.failRevert.clear();
    world.log.length = 0;
    expect(await recoverRun(journal, registry, world, 'later', { retryLater })).toMatchObject({ status: 'rolled_back', reverted: 1, revertFailures: [] });
    expect(world.log).toEqual(['revert:b:b']);
    expect(journal.getRun('later')!.tasks.every((t) => t.state === 'reverted')).toBe(true);
  });

  it('retryRevert works on a run that failed its revert while running, and refuses other runs', async () => {
    const journal = jc.make();
    const world = newWorld();
    world.failRevert.add('a');
    const first = await runFlow(itemFlow(['a', 'b']), world, { journal, runId: 'live', forceFail: true });
    expect(first.status).toBe('revert_failed');
    world.failRevert.clear();
    const retried = await retryRevert(journal, registry, world, 'live');
    expect(retried).toMatchObject({ status: 'rolled_back', reverted: 1, failedTask: { index: 1 } });
    expect(retried.error).toMatch(/^Forced failure/);
    expect(world.effects.size).toBe(0);

    await expect(retryRevert(journal, registry, world, 'live')).rejects.toThrow(RunStateError);
    await expect(retryRevert(journal, registry, world, 'nope')).rejects.toThrow(RunNotFoundError);
  });
});
