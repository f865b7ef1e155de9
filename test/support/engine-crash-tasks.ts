/**
 * Task kinds for the engine's crash tests: each inserts one row into a
 * SQLite table (its side effect, committed at once so it survives SIGKILL),
 * and its revert deletes that row. Used by the crash child process (built to
 * dist/test/support/) and by the test that recovers after killing it.
 */
import Database from 'better-sqlite3';
import { TaskRegistry } from '../../src/engine/index.js';

/** What the tasks act on; hooks let the child stop at an exact point (recovery passes none). */
export interface CrashWorld {
  db: Database.Database;
  /** Called inside task `id`'s apply, after its row is written. */
  afterInsert?: (id: number) => void;
  /** Called inside task `id`'s revert, after its row is deleted. */
  afterDelete?: (id: number) => void;
  /** Prepare of this task id throws (so it changes nothing and is not reverted). */
  failAt?: number;
}

/** Opens the side-effect database (WAL, commits reach the OS cache: they survive a kill). */
export function openEffects(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS effects (id INTEGER PRIMARY KEY, note TEXT NOT NULL)');
  return db;
}

export const crashRegistry = new TaskRegistry<CrashWorld>();

export const insertRow = crashRegistry.define<{ id: number }, { id: number }>({
  kind: 'crash.insertRow',
  prepare(world, args) {
    if (world.failAt === args.id) throw new Error(`task ${args.id} fails on purpose`);
    return { id: args.id };
  },
  apply(world, args) {
    world.db.prepare('INSERT INTO effects (id, note) VALUES (?, ?)').run(args.id, `row ${args.id}`);
    world.afterInsert?.(args.id);
  },
  revert(world, _args, undo) {
    // the row is the task's own: deleting it works whether the apply finished or maybe half did
    world.db.prepare('DELETE FROM effects WHERE id = ?').run(undo.id);
    world.afterDelete?.(undo.id);
  },
});
