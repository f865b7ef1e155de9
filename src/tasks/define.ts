/**
 * The task registry of this service and the helper that defines its task
 * kinds: each with a fixed target and the three steps of the engine's
 * {@link TaskDefinition} (prepare returns the undo value, apply and revert
 * get it).
 *
 * @module
 */
import { TaskRegistry } from '../engine/registry.js';
import type { Json, RevertOutcome, Task } from '../engine/types.js';
import type { TaskContext } from './context.js';

/** Every task kind the flows use; the service rebuilds journaled tasks with it for recovery. */
export const taskRegistry = new TaskRegistry<TaskContext>();

/** A task kind of this service. */
export interface ServiceTaskDefinition<A extends Json, U extends Json> {
  kind: string;
  /** Target every task of this kind has (`irods` or `sodar`). */
  target: string;
  /**
   * Reads the store or site, changes nothing, and decides everything the
   * change depends on; returns the undo value (undefined: nothing to undo).
   * A prepare that throws fails the task before anything changed.
   */
  prepare(ctx: TaskContext, args: A): Promise<U | undefined>;
  /** Makes the change. May throw part-way: the engine then reverts it with the same undo value. */
  apply(ctx: TaskContext, args: A, undo: U | undefined): Promise<void>;
  /**
   * Undoes the change from `undo` alone, after a failure or a crash, the
   * apply maybe half done or not done at all: checks before it undoes, and
   * is idempotent. Returns a note when it could not restore everything.
   */
  revert(ctx: TaskContext, args: A, undo: U): Promise<RevertOutcome>;
}

/** Makes a task of one kind: a display name, its args and (rarely) a target other than the kind's. */
export type TaskMaker<A extends Json> = (name: string, args: A, target?: string) => Task<TaskContext>;

/** Defines a task kind in {@link taskRegistry}; returns its maker. */
export function defineTask<A extends Json, U extends Json>(def: ServiceTaskDefinition<A, U>): TaskMaker<A> {
  const factory = taskRegistry.define<A, U>({
    kind: def.kind,
    prepare: (ctx, args) => def.prepare(ctx, args),
    apply: (ctx, args, undo) => def.apply(ctx, args, undo),
    revert: (ctx, args, undo) => def.revert(ctx, args, undo),
  });
  return (name, args, target = def.target) => factory(name, target, args) as unknown as Task<TaskContext>;
}
