/**
 * In-process, first-come first-served turns per project, in front of the
 * shared lease: submits of one project inside one service wait in order
 * instead of polling the lease store, so a busy project costs no extra lease
 * writes and nobody starves. The lease still excludes other processes.
 *
 * @module
 */
import { LockBusyError } from '../locks/types.js';

interface Turns {
  busy: boolean;
  waiting: Array<{ grant: () => void; timer: NodeJS.Timeout | undefined }>;
}

/** FIFO turns per project. */
export class LocalProjectQueue {
  private readonly projects = new Map<string, Turns>();

  /** Whether some submit of this process has the project's turn. */
  busy(projectId: string): boolean {
    return this.projects.get(projectId)?.busy === true;
  }

  /** Whether some submit of this process waits for the project's turn. */
  hasWaiting(projectId: string): boolean {
    return (this.projects.get(projectId)?.waiting.length ?? 0) > 0;
  }

  /**
   * Waits for the project's turn, at most `maxWaitMs` (0: only if free now).
   * Resolves with the function that ends the turn; throws {@link LockBusyError} on timeout.
   */
  take(projectId: string, maxWaitMs: number): Promise<() => void> {
    let turns = this.projects.get(projectId);
    if (!turns) {
      turns = { busy: false, waiting: [] };
      this.projects.set(projectId, turns);
    }
    const t = turns;
    const end = (): void => this.next(projectId, t);
    if (!t.busy) {
      t.busy = true;
      return Promise.resolve(once(end));
    }
    if (maxWaitMs <= 0) return Promise.reject(new LockBusyError(projectId));
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          resolve(once(end));
        },
        timer: undefined as NodeJS.Timeout | undefined,
      };
      waiter.timer = setTimeout(() => {
        const i = t.waiting.indexOf(waiter);
        if (i >= 0) t.waiting.splice(i, 1);
        reject(new LockBusyError(projectId));
      }, maxWaitMs);
      t.waiting.push(waiter);
    });
  }

  private next(projectId: string, t: Turns): void {
    const w = t.waiting.shift();
    if (w) w.grant();
    else {
      t.busy = false;
      this.projects.delete(projectId);
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
