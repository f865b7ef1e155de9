/**
 * Group commit of accepted async runs. An async submit is answered `True`
 * only once its record is durable (protocol: accepted runs are never lost).
 * Written one by one, each submit pays a commit of its own; here the submits
 * that reach this point in one turn of the event loop are written in one
 * transaction and made durable by one fsync, and each caller is answered
 * only when that fsync, which covers its own record, has completed.
 *
 * @module
 */
import { RunFencedError } from '../engine/errors.js';
import type { Journal } from '../engine/journal.js';
import type { NewQueuedRun, QueuedRun, RunQueueStore } from '../engine/queue-store.js';

interface Pending {
  run: NewQueuedRun;
  resolve: (run: QueuedRun) => void;
  reject: (err: unknown) => void;
}

/** Batches {@link RunQueueStore.enqueueRuns} over the submits of one event-loop turn. */
export class AcceptGroup {
  private pending: Pending[] = [];
  private scheduled = false;
  private commits = 0;

  constructor(private readonly journal: RunQueueStore & Pick<Journal, 'whenDurable'>) {}

  /**
   * Records `run` and resolves with its record once that record survives a
   * crash and power loss. Rejects when the write or the sync fails; then the
   * record may or may not be there (the caller forgets it); rejects with
   * RunFencedError, nothing recorded, when its fence key is fenced.
   */
  accept(run: NewQueuedRun): Promise<QueuedRun> {
    return new Promise((resolve, reject) => {
      this.pending.push({ run, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // after the I/O callbacks of this turn: every submit whose request arrived with it joins
      setImmediate(() => this.commit());
    });
  }

  /** How many transactions recorded accepted runs (for tests: concurrent submits share them). */
  get commitCount(): number {
    return this.commits;
  }

  private commit(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    let recorded: Array<QueuedRun | RunFencedError>;
    try {
      recorded = this.journal.enqueueRuns(group.map((p) => p.run));
      this.commits++;
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    // the journal's group fsync: one in flight at a time, covering every commit before it started
    this.journal.whenDurable().then(
      // a fenced run was not recorded (its fence was, durably, before this commit): refused all the same
      () =>
        group.forEach((p, i) => {
          const r = recorded[i];
          if (r instanceof RunFencedError) p.reject(r);
          else p.resolve(r);
        }),
      (err: unknown) => group.forEach((p) => p.reject(err)),
    );
  }
}
