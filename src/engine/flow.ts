/**
 * The linear flow: an ordered list of tasks, limited to the request's targets.
 *
 * @module
 */
import type { Task } from './types.js';

/** Tasks run in the order added; the engine reverts them in reverse. */
export class LinearFlow<C> {
  private readonly list: Task<C>[] = [];
  private readonly targets: ReadonlySet<string>;

  /**
   * @param name flow name, recorded with the run
   * @param targets the request's targets: tasks for any other target are left out
   */
  constructor(
    readonly name: string,
    targets: readonly string[],
  ) {
    this.targets = new Set(targets);
  }

  /** Appends `task` unless its target is not requested (then silently skips it). */
  add(task: Task<C>): this {
    if (this.targets.has(task.target)) this.list.push(task);
    return this;
  }

  /** The tasks to run, in order. */
  get tasks(): readonly Task<C>[] {
    return this.list;
  }
}
