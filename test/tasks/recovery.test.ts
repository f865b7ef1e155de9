/**
 * Crash recovery through the engine: a run stops inside a task (before or
 * after the task's store or site call), its journal is reopened as a new
 * process would, and recoverRuns with our taskRegistry rebuilds every task
 * from its journaled JSON and reverts the run: the store dump and the site
 * state are as before the run (the site reports every project field, as our
 * reference site does, so a project update can be fully undone). Which
 * unfinished runs the service takes over is decided from owner leases: a
 * live owner's run is left alone, a gone owner's run is taken over by
 * exactly one process.
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunEvents } from '../../src/engine/events.js';
import { LinearFlow } from '../../src/engine/flow.js';
import { recoverRuns } from '../../src/engine/recover.js';
import { runFlow } from '../../src/engine/runner.js';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import type { TaskContext } from '../../src/tasks/context.js';
import type { FlowInput } from '../../src/flows/types.js';
import { NoopLockManager, OwnerLeases, SqliteLeaseStore, lockDatabasePath, newOwnerId, ownerKey } from '../../src/locks/index.js';
import { recoverProjectRuns, recoverUnfinishedRuns, type RecoveryDeps } from '../../src/service/recovery.js';
import { OutcomeReporter } from '../../src/service/reporter.js';
import { runMetaOf } from '../../src/service/run-meta.js';
import { taskRegistry } from '../../src/tasks/index.js';
import { build, irreversible, openWorld, snapshot, type World } from '../flows/harness.js';
import { ZONE_UUID, scenarios } from '../flows/scenarios.js';
import { waitFor } from '../support/service-wait.js';

let w: World;
const openRichWorld = () => openWorld({}, { richProjectGet: true });
beforeEach(async () => {
  w = await openRichWorld();
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
      prepare: (ctx) => t.prepare(ctx),
      async apply(ctx, undo) {
        if (ran) await t.apply(ctx, undo);
        hung();
        return new Promise<void>(() => {});
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
      w = await openRichWorld();
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

describe('recovery decides from owner leases whose runs to take over', () => {
  const LEASE_MS = 300;
  const log = pino({ level: 'silent' });
  const TIMELINE = 'e0000000-0000-4000-8000-0000000000e1';
  const opened: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  /** A recovering process: its own journal handle and owner lease on the world's data dir. */
  async function recoverer(journalPath: string): Promise<RecoveryDeps> {
    const journal = new SqliteJournal(journalPath);
    const owners = new OwnerLeases(new SqliteLeaseStore(lockDatabasePath(w.dir)), { leaseMs: LEASE_MS });
    opened.push(journal, owners);
    expect(await owners.hold()).toBe(true);
    return {
      config: w.config,
      log,
      journal,
      locks: new NoopLockManager(),
      owners,
      stores: { get: async () => w.store },
      site: w.client,
      reporter: new OutcomeReporter(w.client, log),
      keptLeases: new Map(),
    };
  }

  /** Starts the zone move, owned by `ownerId`, and leaves it hanging in the middle of its moves. */
  async function hangingMove(ownerId: string, locked = false): Promise<{ journalPath: string; before: string[]; project: string }> {
    const s = scenarios.find((x) => x.name === 'landing_zone_move')!;
    const input: FlowInput = { ...(await s.setup(w)), requestMode: 'async', timelineUuid: TIMELINE };
    w.site.seedTimelineEvent({ event_uuid: TIMELINE, project_uuid: input.projectUuid });
    const before = await w.store.dump();
    const built = await build(w, input);
    const at = built.tasks.findIndex((t) => t.kind.includes('move'));
    expect(at).toBeGreaterThan(0);
    const { flow, hanging } = hangingAt(built, at, input.targets, true);
    const journalPath = join(w.dir, 'journal.sqlite');
    const journal = new SqliteJournal(journalPath);
    opened.push(journal);
    void runFlow(flow, w.ctx, { journal, runId: 'run-1', label: input.projectUuid, meta: runMetaOf(input, locked, ownerId) });
    await hanging;
    expect(await w.store.dump()).not.toEqual(before);
    return { journalPath, before, project: input.projectUuid };
  }

  /** The timeline statuses the site got for the run. */
  const reported = () => w.site.state().timeline[TIMELINE].status_history.map((h) => h.status_type);

  it('leaves the run of a live, renewing owner alone, and takes it over at once when that owner releases its lease', async () => {
    const owner = new OwnerLeases(new SqliteLeaseStore(lockDatabasePath(w.dir)), { leaseMs: LEASE_MS });
    opened.push(owner);
    expect(await owner.hold()).toBe(true);
    const { journalPath, before } = await hangingMove(owner.id);
    const deps = await recoverer(journalPath);
    // Three lease periods: the owner's lease lives on only because it is renewed.
    const until = Date.now() + 3 * LEASE_MS;
    while (Date.now() < until) {
      expect(await recoverUnfinishedRuns(deps)).toEqual([]);
      await delay(LEASE_MS / 6);
    }
    expect(deps.journal.unfinishedRuns()).toEqual(['run-1']);
    expect(reported()).toEqual([]);

    await owner.close(); // a clean stop releases it
    const results = await recoverUnfinishedRuns(deps);
    expect(results.map((r) => r.status)).toEqual(['rolled_back']);
    expect(await w.store.dump()).toEqual(before);
    expect(reported()).toEqual(['FAILED']);
    expect(w.site.state().zones[ZONE_UUID].status).toBe('FAILED');
  });

  it('takes over the run of an owner whose lease ran out, in exactly one of two processes looking at once', async () => {
    const deadOwner = newOwnerId();
    const { journalPath, before } = await hangingMove(deadOwner);
    const [a, b] = [await recoverer(journalPath), await recoverer(journalPath)];
    // The owner's last renewal: it renews no more (killed).
    const leases = new SqliteLeaseStore(lockDatabasePath(w.dir));
    opened.push(leases);
    expect(await leases.tryAcquire(ownerKey(deadOwner), 'dead-owner-token', 1000)).toBe(true);
    expect(await recoverUnfinishedRuns(a)).toEqual([]); // its lease still runs

    await waitFor('the dead owner\'s lease to run out', async () => !(await leases.isLocked(ownerKey(deadOwner))));
    const results = (await Promise.all([recoverUnfinishedRuns(a), recoverUnfinishedRuns(b)])).flat();
    expect(results.map((r) => r.status)).toEqual(['rolled_back']);
    expect(await w.store.dump()).toEqual(before);
    expect(reported()).toEqual(['FAILED']);
    expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'FAILED', status_info: expect.stringMatching(/interrupted/i) });
    // Looking again finds nothing left to do.
    expect([...(await recoverUnfinishedRuns(a)), ...(await recoverUnfinishedRuns(b))]).toEqual([]);
  });

  it('a submit holding the project lock recovers a gone owner\'s locked run of the project exactly once, racing a look', async () => {
    const owner = new OwnerLeases(new SqliteLeaseStore(lockDatabasePath(w.dir)), { leaseMs: LEASE_MS });
    opened.push(owner);
    expect(await owner.hold()).toBe(true);
    const { journalPath, before, project } = await hangingMove(owner.id, true);
    const [submitter, watcher] = [await recoverer(journalPath), await recoverer(journalPath)];
    // Its owner lives: the submit may not run, and nothing is touched.
    expect(await recoverProjectRuns(submitter, project)).toMatch(/^an interrupted run \(run-1\) of the project is being recovered/);
    expect(await recoverProjectRuns(submitter, 'another-project')).toBeUndefined();
    expect(submitter.journal.unfinishedRuns()).toEqual(['run-1']);
    expect(reported()).toEqual([]);

    await owner.close();
    const [reason, looked] = await Promise.all([recoverProjectRuns(submitter, project), recoverUnfinishedRuns(watcher)]);
    // Whoever lost the race found the run finished, or (the submit) was told to wait for the taker.
    if (looked.length === 0) expect(reason).toBeUndefined();
    expect(submitter.journal.getRun('run-1')?.status).toBe('rolled_back');
    expect(await w.store.dump()).toEqual(before);
    expect(reported()).toEqual(['FAILED']);
    expect(await recoverProjectRuns(submitter, project)).toBeUndefined();
    expect(await recoverUnfinishedRuns(watcher)).toEqual([]);
  });

  it("a submit holding the project lock lets a live owner's run without the lock go on beside it, and recovers a gone owner's first", async () => {
    const owner = new OwnerLeases(new SqliteLeaseStore(lockDatabasePath(w.dir)), { leaseMs: LEASE_MS });
    opened.push(owner);
    expect(await owner.hold()).toBe(true);
    const { journalPath, before, project } = await hangingMove(owner.id, false);
    const submitter = await recoverer(journalPath);
    // its owner lives: it runs beside the submit, which goes on at once
    expect(await recoverProjectRuns(submitter, project)).toBeUndefined();
    expect(submitter.journal.unfinishedRuns()).toEqual(['run-1']);
    expect(reported()).toEqual([]);

    await owner.close();
    // gone: the submit takes it over and rolls it back before running on the project
    expect(await recoverProjectRuns(submitter, project)).toBeUndefined();
    expect(submitter.journal.getRun('run-1')?.status).toBe('rolled_back');
    expect(await w.store.dump()).toEqual(before);
    expect(reported()).toEqual(['FAILED']);
  });
});
