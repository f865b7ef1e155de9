/**
 * Crash recovery through the engine: a run stops inside a task (before or
 * after the task's store or site call), its journal is reopened as a new
 * process would, and recoverRuns with our taskRegistry rebuilds every task
 * from its journaled JSON and reverts the run: the store dump and the site
 * state are as before the run.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunEvents } from '../../src/engine/events.js';
import { LinearFlow } from '../../src/engine/flow.js';
import { recoverRuns } from '../../src/engine/recover.js';
import { runFlow } from '../../src/engine/runner.js';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import type { Json } from '../../src/engine/types.js';
import type { TaskContext } from '../../src/tasks/context.js';
import { taskRegistry } from '../../src/tasks/index.js';
import { build, irreversible, openWorld, snapshot, type World } from '../flows/harness.js';
import { scenarios } from '../flows/scenarios.js';

let w: World;
beforeEach(async () => {
  w = await openWorld();
});
afterEach(async () => w.close());

/** The flow with task `index` hanging forever, after running for real when `ran`; resolves once it hangs. */
function hangingAt(flow: LinearFlow<TaskContext>, index: number, targets: readonly string[], ran: boolean) {
  let hung!: () => void;
  const hanging = new Promise<void>((resolve) => (hung = resolve));
  const out = new LinearFlow<TaskContext>(flow.name, targets);
  flow.tasks.forEach((t, i) => {
    if (i !== index) return void out.add(t);
    out.add({
      kind: t.kind,
      name: t.name,
      target: t.target,
      args: t.args,
      async execute(ctx) {
        if (ran) await t.execute(ctx);
        hung();
        return new Promise<Json | undefined>(() => {});
      },
      revert() {},
    });
  });
  return { flow: out, hanging };
}

describe('recovery from the journal with taskRegistry', () => {
  it('defines every task kind the flows use', async () => {
    for (const s of scenarios) {
      const input = await s.setup(w);
      for (const t of (await build(w, { ...input, forceFail: true })).tasks) expect(taskRegistry.has(t.kind), t.kind).toBe(true);
      await w.close();
      w = await openWorld();
    }
  });

  for (const s of scenarios) {
    it(`${s.name}: a run interrupted in any task is rolled back by recoverRuns`, async () => {
      const input = await s.setup(w);
      const before = await snapshot(w);
      const n = (await build(w, input)).tasks.length;
      const journalPath = join(w.dir, 'journal.sqlite');
      for (let i = 0; i < n; i++) {
        for (const ran of [false, true]) {
          const built = await build(w, input);
          if (ran && irreversible(built.tasks[i])) continue;
          const { flow, hanging } = hangingAt(built, i, input.targets, ran);
          const journal = new SqliteJournal(journalPath);
          void runFlow(flow, w.ctx, { journal, runId: `run-${i}-${ran}`, events: new RunEvents() });
          await hanging;
          // a new process: reopen the journal and recover
          const reopened = new SqliteJournal(journalPath);
          const results = await recoverRuns(reopened, taskRegistry, w.ctx);
          expect(results.map((r) => r.status)).toEqual(['rolled_back']);
          expect(await snapshot(w), `interrupted in task ${i} (${built.tasks[i].name}), ${ran ? 'after' : 'before'} its call`).toEqual(
            before,
          );
          reopened.close();
          journal.close();
        }
      }
    });
  }
});
