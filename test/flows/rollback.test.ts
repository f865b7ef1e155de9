/**
 * Rollback: for every flow, a forced failure (for each target combination),
 * a failure injected at every task position, and a crash-style revert (the
 * last task's undo never journaled, whether or not it ran) each leave the
 * whole store dump and the whole site state as they were. The site reports
 * every project field here, as our reference site does: against SODAR Core
 * 0.10, which reports only title and description, a project update cannot be
 * fully undone (test/service/site-compat.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/engine/memory-journal.js';
import { runFlow } from '../../src/engine/runner.js';
import type { Json } from '../../src/engine/types.js';
import { FORCED_FAILURE_MESSAGE } from '../../src/engine/runner.js';
import { build, failingAt, irreversible, openWorld, runInput, snapshot, type World } from './harness.js';
import { scenarios } from './scenarios.js';

let w: World;
beforeEach(async () => {
  w = await openWorld({}, { richProjectGet: true });
});
afterEach(async () => w.close());

describe('rollback', () => {
  for (const s of scenarios) {
    it(`${s.name}: force_fail rolls back for every target combination`, async () => {
      const input = await s.setup(w);
      const before = await snapshot(w);
      for (const targets of [['irods', 'sodar'], ['irods'], ['sodar']]) {
        const r = await runInput(w, { ...input, targets, forceFail: true });
        expect(r.status, `${targets.join('+')}: ${r.error}`).toBe('rolled_back');
        expect(r.error).toBe(FORCED_FAILURE_MESSAGE);
        expect(await snapshot(w)).toEqual(before);
      }
    });

    it(`${s.name}: a failure at every task position rolls back`, async () => {
      const input = await s.setup(w);
      const before = await snapshot(w);
      const n = (await build(w, input)).tasks.length;
      expect(n).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const flow = failingAt(await build(w, input), i, input.targets);
        const r = await runFlow(flow, w.ctx, { journal: new MemoryJournal() });
        expect(r.status, `position ${i}: ${r.error}`).toBe('rolled_back');
        expect(r.revertFailures).toEqual([]);
        expect(await snapshot(w), `after a failure at task ${i} (${flow.tasks[i].name})`).toEqual(before);
      }
    });

    it(`${s.name}: a crash at every task position is reverted from the journal alone`, async () => {
      const input = await s.setup(w);
      const before = await snapshot(w);
      const n = (await build(w, input)).tasks.length;
      for (let i = 0; i < n; i++) {
        for (const executedLast of [true, false]) {
          const tasks = (await build(w, input)).tasks;
          if (executedLast && irreversible(tasks[i])) continue;
          const undos: (Json | undefined)[] = [];
          for (let j = 0; j < i; j++) {
            undos[j] = await tasks[j].prepare(w.ctx);
            await tasks[j].apply(w.ctx, undos[j]);
          }
          // the crashed task: intent journaled with its undo value, done not
          const undo = await tasks[i].prepare(w.ctx);
          if (executedLast) await tasks[i].apply(w.ctx, undo);
          if (undo !== undefined) await tasks[i].revert(w.ctx, undo);
          for (let j = i - 1; j >= 0; j--) {
            const u = undos[j];
            if (u !== undefined) await tasks[j].revert(w.ctx, u);
          }
          const where = `crash at task ${i} (${tasks[i].name}) ${executedLast ? 'after' : 'before'} it ran`;
          expect(await snapshot(w), where).toEqual(before);
        }
      }
    });
  }

  it('a site failure answer rolls back what was done before it', async () => {
    const s = scenarios.find((x) => x.flow === 'project_create')!;
    const input = await s.setup(w);
    const before = await snapshot(w);
    w.site.failNext('project/taskflow/settings/set', 500);
    const r = await runInput(w, input);
    expect(r.status).toBe('rolled_back');
    expect(r.error).toContain('project/taskflow/settings/set answered 500');
    expect(await snapshot(w)).toEqual(before);
  });

  it('reverting twice changes nothing more (idempotent reverts)', async () => {
    const s = scenarios.find((x) => x.flow === 'landing_zone_move' && x.name === 'landing_zone_move')!;
    const input = await s.setup(w);
    const before = await snapshot(w);
    const tasks = (await build(w, input)).tasks.filter((t) => !irreversible(t));
    const undos: (Json | undefined)[] = [];
    for (const t of tasks) {
      const undo = await t.prepare(w.ctx);
      await t.apply(w.ctx, undo);
      undos.push(undo);
    }
    for (let j = tasks.length - 1; j >= 0; j--) {
      const undo = undos[j];
      if (undo === undefined) continue;
      await tasks[j].revert(w.ctx, undo);
      await tasks[j].revert(w.ctx, undo);
    }
    expect(await snapshot(w)).toEqual(before);
  });
});
