/**
 * Task kinds by name, so a journaled task (kind + args) can be rebuilt into a
 * runnable task after a crash and reverted with its journaled undo value.
 *
 * @module
 */
import { DuplicateTaskKindError, UnknownTaskKindError } from './errors.js';
import type { Json, RevertOutcome, Task, TaskDefinition, TaskSpec } from './types.js';

/** Makes a task of one kind from its name, target and args. */
export type TaskFactory<C, A extends Json = Json, U extends Json = Json> = (
  name: string,
  target: string,
  args: A,
) => Task<C, A, U>;

/** A task bound to its definition; the methods live on the prototype, so a task costs one small object. */
class BoundTask<C, A extends Json, U extends Json> implements Task<C, A, U> {
  constructor(
    private readonly def: TaskDefinition<C, A, U>,
    readonly name: string,
    readonly target: string,
    readonly args: A,
  ) {}

  get kind(): string {
    return this.def.kind;
  }

  prepare(ctx: C): Promise<U | undefined> | U | undefined {
    return this.def.prepare(ctx, this.args);
  }

  apply(ctx: C, undo: U | undefined): Promise<void> | void {
    return this.def.apply(ctx, this.args, undo);
  }

  revert(ctx: C, undo: U): Promise<RevertOutcome> | RevertOutcome {
    return this.def.revert(ctx, this.args, undo);
  }
}

/** The task kinds a flow may use; the same registry rebuilds tasks for recovery. */
export class TaskRegistry<C> {
  private readonly defs = new Map<string, TaskDefinition<C, any, any>>();

  /** Adds a task kind and returns the factory that makes tasks of it. Throws DuplicateTaskKindError. */
  define<A extends Json, U extends Json>(def: TaskDefinition<C, A, U>): TaskFactory<C, A, U> {
    if (this.defs.has(def.kind)) throw new DuplicateTaskKindError(def.kind);
    this.defs.set(def.kind, def);
    return (name, target, args) => new BoundTask(def, name, target, args);
  }

  /** Rebuilds a task from its journaled spec. Throws UnknownTaskKindError. */
  create(spec: TaskSpec): Task<C> {
    const def = this.defs.get(spec.kind);
    if (!def) throw new UnknownTaskKindError(spec.kind);
    return new BoundTask<C, Json, Json>(def, spec.name, spec.target, spec.args);
  }

  /** Whether `kind` is defined. */
  has(kind: string): boolean {
    return this.defs.has(kind);
  }

  /** Every defined kind. */
  kinds(): string[] {
    return [...this.defs.keys()];
  }
}
