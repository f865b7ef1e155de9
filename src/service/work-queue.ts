/**
 * A bounded-concurrency in-process queue: async runs and lock-free
 * validations go through one so that a burst of requests cannot overload the
 * service. Jobs beyond the bound wait their turn in order.
 *
 * @module
 */

/** Raised for a job still waiting when the queue was closed. */
export class QueueClosedError extends Error {
  override readonly name = 'QueueClosedError';
  constructor() {
    super('The service is shutting down; the run was not started');
  }
}

interface Waiting {
  start: () => void;
  cancel: (err: Error) => void;
}

/** Runs at most `concurrency` jobs at once. */
export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, got ${concurrency}`);
  }

  /** Jobs executing now. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.waiting.length;
  }

  /**
   * Runs `job` when a slot is free and resolves with its result. Rejects with
   * {@link QueueClosedError} if the queue closes before the job starts.
   */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        // The slot is free again before the caller hears of the result.
        const settle = (): void => {
          this.running--;
          this.next();
        };
        job().then(
          (value) => {
            settle();
            resolve(value);
          },
          (err: unknown) => {
            settle();
            reject(err);
          },
        );
      };
      if (this.running < this.concurrency) start();
      else this.waiting.push({ start, cancel: reject });
    });
  }

  /**
   * Stops taking jobs: waiting ones are rejected with {@link QueueClosedError},
   * running ones finish. Resolves when none is running.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.cancel(new QueueClosedError());
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    const w = this.waiting.shift();
    if (w) {
      w.start();
      return;
    }
    if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
