/**
 * A test world for engine tests: tasks that add names to a set (their side
 * effect) and log every execute and revert, with switches to make any of
 * them throw.
 */
import { LinearFlow, MemoryJournal, TaskRegistry, type Journal } from '../../src/engine/index.js';
import { journalsPerTest } from '../support/engine-journals.js';

export interface World {
  /** Side effects currently in place. */
  effects: Set<string>;
  /** `exec:<name>` / `revert:<name>:<undo>` in call order. */
  log: string[];
  failExecute: Set<string>;
  failRevert: Set<string>;
}

export function newWorld(): World {
  return { effects: new Set(), log: [], failExecute: new Set(), failRevert: new Set() };
}

export const registry = new TaskRegistry<World>();

/**
 * Adds `args.item` to the effects; undo is the item (or nothing when it was
 * already there). A task in `failExecute` fails in its prepare, before
 * changing anything; the log's `exec:` marks the attempt to add.
 */
export const addItem = registry.define<{ item: string }, string>({
  kind: 'test.addItem',
  prepare(world, args) {
    if (world.failExecute.has(args.item)) {
      world.log.push(`exec:${args.item}`);
      throw new Error(`cannot add ${args.item}`);
    }
    return world.effects.has(args.item) ? undefined : args.item;
  },
  apply(world, args, undo) {
    world.log.push(`exec:${args.item}`);
    if (undo !== undefined) world.effects.add(args.item);
  },
  revert(world, args, undo) {
    world.log.push(`revert:${args.item}:${undo}`);
    if (world.failRevert.has(args.item)) throw new Error(`cannot remove ${args.item}`);
    // maybe half applied: deleting what may not be there is fine (the item is the task's own)
    world.effects.delete(args.item);
  },
});

/** The same as addItem but asynchronous. */
export const addItemAsync = registry.define<{ item: string }, string>({
  kind: 'test.addItemAsync',
  async prepare(world, args) {
    await Promise.resolve();
    if (world.failExecute.has(args.item)) {
      world.log.push(`exec:${args.item}`);
      throw new Error(`cannot add ${args.item}`);
    }
    return args.item;
  },
  async apply(world, args) {
    await Promise.resolve();
    world.log.push(`exec:${args.item}`);
    world.effects.add(args.item);
  },
  async revert(world, args, undo) {
    await Promise.resolve();
    world.log.push(`revert:${args.item}:${undo}`);
    if (world.failRevert.has(args.item)) throw new Error(`cannot remove ${args.item}`);
    world.effects.delete(args.item);
  },
});

/** A flow of addItem tasks on target `irods`, one per item. */
export function itemFlow(items: string[], name = 'test_flow'): LinearFlow<World> {
  const flow = new LinearFlow<World>(name, ['irods', 'sodar']);
  for (const item of items) flow.add(addItem(`add ${item}`, 'irods', { item }));
  return flow;
}

/** Journals to run every journal test against; `make` gives a fresh one, closed and removed after the test. */
export interface JournalCase {
  kind: 'memory' | 'sqlite' | 'sqlite, a commit per turn';
  make(): Journal;
}

/**
 * The journal kinds, for `describe.each`; call it at a test file's top
 * level: the SQLite ones live in each test's temp folder (journalsPerTest).
 */
export function journalCases(): JournalCase[] {
  const journals = journalsPerTest();
  return [
    { kind: 'memory', make: () => new MemoryJournal() },
    { kind: 'sqlite', make: () => journals.open() },
    { kind: 'sqlite, a commit per turn', make: () => journals.open({ commitPerTurn: true }) },
  ];
}
