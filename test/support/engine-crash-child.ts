/**
 * Child process of the engine crash tests: runs a flow of `n` row-inserting
 * tasks with a SQLite journal and, at the requested point, prints `READY`
 * and blocks its thread forever so the test's SIGKILL lands exactly there.
 *
 * usage: node engine-crash-child.js <journal.sqlite> <effects.sqlite> <n> <point> <k> [failAt]
 *   point: after-done    task k's done is journaled (event task:done)
 *          mid-execute   task k wrote its row, its done is not journaled
 *          after-revert  task k's revert is journaled (event task:reverted)
 *          mid-revert    task k's revert deleted its row, not journaled
 *   failAt: task that fails (so the run reverts); default none
 */
import { writeSync } from 'node:fs';
import { LinearFlow, RunEvents, SqliteJournal, runFlow } from '../../src/engine/index.js';
import { insertRow, openEffects, type CrashWorld } from './engine-crash-tasks.js';

const [journalPath, effectsPath, nText, point, kText, failAtText] = process.argv.slice(2);
const n = Number(nText);
const k = Number(kText);

/** Tells the test where we are, then blocks this thread for good (Atomics.wait never returns here). */
function signalAndBlock(): never {
  writeSync(1, 'READY\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error('unreachable');
}

const world: CrashWorld = { db: openEffects(effectsPath) };
if (failAtText !== undefined) world.failAt = Number(failAtText);
const events = new RunEvents();
switch (point) {
  case 'after-done':
    events.on('task:done', (e) => e.index === k && signalAndBlock());
    break;
  case 'mid-execute':
    world.afterInsert = (id) => id === k && signalAndBlock();
    break;
  case 'after-revert':
    events.on('task:reverted', (e) => e.index === k && signalAndBlock());
    break;
  case 'mid-revert':
    world.afterDelete = (id) => id === k && signalAndBlock();
    break;
  default:
    throw new Error(`unknown point "${point}"`);
}

const flow = new LinearFlow<CrashWorld>('crash_flow', ['irods']);
for (let i = 0; i < n; i++) flow.add(insertRow(`insert ${i}`, 'irods', { id: i }));
const journal = new SqliteJournal(journalPath);
const result = await runFlow(flow, world, { journal, events, runId: 'crash-run', label: 'crash' });
// only reached when the point was never hit: the test fails on this line
writeSync(1, `FINISHED ${result.status}\n`);
