/**
 * The linear flow: an ordered list of tasks, limited to the request's targets,
 * whose last tasks may form a closing tail that a forced failure never reaches.
 *
 * @module
 */
import type { Task } from './types.js';

/** Tasks run in the order added; the engine reverts them in reverse. */
export class LinearFlow<C> {
  private readonly list: Task<C>[] = [];
  private readonly targets: ReadonlySet<string>;
  private closing = -1;

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

  /**
   * Appends a task of the closing tail: one that cannot be undone (a final
   * zone status, a sheet deletion) or announces success. A run with
   * `forceFail` fails before the first of them, so it never does or shows
   * them. Every task added after it belongs to the tail too.
   */
  addClosing(task: Task<C>): this {
    if (this.closing < 0) this.closing = this.list.length;
    return this.add(task);
  }

  /** The tasks to run, in order. */
  get tasks(): readonly Task<C>[] {
    return this.list;
  }

  /** Index of the first task of the closing tail (the number of tasks when there is none). */
  get closingFrom(): number {
    return this.closing < 0 ? this.list.length : Math.min(this.closing, this.list.length);
  }
}
