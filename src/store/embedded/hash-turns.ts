/**
 * The order in which the hash pool's workers take work: calls (tasks) take
 * turns, round-robin, a unit of work each. A unit is one message to a
 * worker (a batch of files); a unit that ran its slice while others waited
 * is paused in its worker, which alone holds its open files and half-hashed
 * lanes, so it can go on only there. Without turns the pool served its jobs
 * first come, first served, to the end: one object extended to terabytes
 * (sparse: no disk, but every byte still hashed) held a worker for hours,
 * and a close queued behind it waited as long.
 *
 * @module
 */

/** One message's work for a worker, of one task. */
export interface Unit<W> {
  readonly task: Task<W>;
  /** The worker holding the unit since it paused there; undefined before it ever ran. */
  worker: W | undefined;
}

/** One call's units: those not started, in order, and those paused in a worker. */
export class Task<W> {
  /** Units not started; those before {@link Task.next} were taken. */
  readonly fresh: Unit<W>[] = [];
  next = 0;
  readonly paused: Unit<W>[] = [];
  /** In the round ({@link Turns}): it has units to hand out. */
  queued = false;

  /** Whether the task has a unit `worker` may take: a fresh one, or one paused there. */
  hasWorkFor(worker: W): boolean {
    return this.next < this.fresh.length || this.paused.some((u) => u.worker === worker);
  }

  /** Whether any unit waits, fresh or paused. */
  get waiting(): boolean {
    return this.next < this.fresh.length || this.paused.length > 0;
  }
}

/**
 * Tasks with units waiting, in turn order. A worker takes from the first
 * task it may take from, which then goes to the back; a task whose only
 * waiting units are paused in other workers keeps its place meanwhile.
 * Within a task a worker resumes its own paused unit before starting a
 * fresh one, so paused units (each holding open files) stay few: at most
 * one per task and worker.
 */
export class Turns<W, U extends Unit<W>> {
  private readonly round: Task<W>[] = [];
  private freshCount = 0;

  /** Queues a new unit of its task, after the task's others. */
  add(unit: U): void {
    unit.task.fresh.push(unit);
    this.freshCount++;
    this.enqueue(unit.task);
  }

  /** Queues `unit` again, paused in `worker`: only that worker may take it. */
  pause(unit: U, worker: W): void {
    unit.worker = worker;
    unit.task.paused.push(unit);
    this.enqueue(unit.task);
  }

  /** The next unit `worker` may run, taken out of the turns; undefined when none. */
  take(worker: W): U | undefined {
    for (let i = 0; i < this.round.length; i++) {
      const task = this.round[i]!;
      const own = task.paused.findIndex((u) => u.worker === worker);
      let unit: Unit<W>;
      if (own >= 0) unit = task.paused.splice(own, 1)[0]!;
      else if (task.next < task.fresh.length) unit = this.takeFresh(task);
      else continue;
      this.round.splice(i, 1);
      task.queued = false;
      if (task.waiting) this.enqueue(task);
      return unit as U;
    }
    return undefined;
  }

  /** Whether a unit no worker holds yet waits (any worker may take it). */
  get hasFresh(): boolean {
    return this.freshCount > 0;
  }

  /** Whether `worker`, running a unit of `running`, keeps another task waiting: a unit it could take is queued. */
  othersWaitFor(worker: W, running: Task<W>): boolean {
    return this.round.some((t) => t !== running && t.hasWorkFor(worker));
  }

  /** Takes out every unit paused in `worker` (it died): they cannot go on elsewhere. */
  takePausedIn(worker: W): U[] {
    const out: U[] = [];
    for (const task of [...this.round]) {
      for (let i = task.paused.length - 1; i >= 0; i--) {
        if (task.paused[i]!.worker === worker) out.push(task.paused.splice(i, 1)[0] as U);
      }
      if (!task.waiting) this.dequeue(task);
    }
    return out;
  }

  /** Takes out every waiting unit. */
  clear(): U[] {
    const out: U[] = [];
    for (const task of this.round.splice(0)) {
      out.push(...(task.fresh.slice(task.next) as U[]), ...(task.paused.splice(0) as U[]));
      task.fresh.length = task.next = 0;
      task.queued = false;
    }
    this.freshCount = 0;
    return out;
  }

  private takeFresh(task: Task<W>): Unit<W> {
    const unit = task.fresh[task.next]!;
    // the taken units are let go in bulk, not one shift (a copy of the rest) each
    if (++task.next === task.fresh.length) task.fresh.length = task.next = 0;
    this.freshCount--;
    return unit;
  }

  private enqueue(task: Task<W>): void {
    if (task.queued) return;
    task.queued = true;
    this.round.push(task);
  }

  private dequeue(task: Task<W>): void {
    const i = this.round.indexOf(task);
    if (i >= 0) this.round.splice(i, 1);
    task.queued = false;
  }
}
