/**
 * The task registry of this service and the helper that defines task kinds
 * with all-or-nothing execution: a task doing several store or site calls
 * reports its partial undo as it goes, and when a later call fails it reverts
 * that part before failing (the engine never reverts the task that failed).
 *
 * @module
 */
import { errorMessage } from '../engine/errors.js';
import { TaskRegistry } from '../engine/registry.js';
import type { Json, RevertOutcome, Task } from '../engine/types.js';
import type { TaskContext } from './context.js';

/** Every task kind the flows use; the service rebuilds journaled tasks with it for recovery. */
export const taskRegistry = new TaskRegistry<TaskContext>();

/** A task kind whose execute may report partial progress. */
export interface AtomicTaskDefinition<A extends Json, U extends Json> {
  kind: string;
  /** Target every task of this kind has (`irods` or `sodar`). */
  target: string;
  /**
   * Does the work and returns the undo value (undefined: nothing changed).
   * Calls `progress` with the undo value of what is done so far whenever a
   * step succeeded that a later failing step would leave behind.
   */
  execute(ctx: TaskContext, args: A, progress: (partial: U) => void): Promise<U | undefined>;
  /**
   * Idempotent; `undo` undefined: the intent was journaled but not the result, check and undo.
   * Returns a note when it could not restore everything (what stays changed, and why).
   */
  revert(ctx: TaskContext, args: A, undo: U | undefined): Promise<RevertOutcome>;
}

/** Makes a task of one kind: a display name, its args and (rarely) a target other than the kind's. */
export type TaskMaker<A extends Json> = (name: string, args: A, target?: string) => Task<TaskContext>;

/** Thrown when a task failed and cleaning up its own partial work failed too. */
export class PartialTaskError extends Error {
  override name = 'PartialTaskError';
  constructor(
    readonly kind: string,
    override readonly cause: unknown,
    readonly cleanupError: unknown,
  ) {
    super(`${errorMessage(cause)} (and undoing the part of task ${kind} already done failed: ${errorMessage(cleanupError)})`);
  }
}

/** Defines a task kind in {@link taskRegistry}; returns its maker. */
export function defineTask<A extends Json, U extends Json>(def: AtomicTaskDefinition<A, U>): TaskMaker<A> {
  const factory = taskRegistry.define<A, U>({
    kind: def.kind,
    async execute(ctx, args) {
      let partial: U | undefined;
      try {
        return await def.execute(ctx, args, (p) => {
          partial = p;
        });
      } catch (err) {
        if (partial !== undefined) {
          try {
            await def.revert(ctx, args, partial);
          } catch (cleanupErr) {
            throw new PartialTaskError(def.kind, err, cleanupErr);
          }
        }
        throw err;
      }
    },
    revert: (ctx, args, undo) => def.revert(ctx, args, undo),
  });
  return (name, args, target = def.target) => factory(name, target, args) as unknown as Task<TaskContext>;
}
