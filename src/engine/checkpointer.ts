/**
 * WAL checkpoints in a worker thread. A checkpoint copies the WAL into the
 * database file and, with `synchronous = NORMAL`, fsyncs both: done by the
 * journal's own (synchronous) connection it stalls the event loop for tens
 * to hundreds of milliseconds on a busy disk. A second connection in a
 * worker (checkpoint-worker.ts) runs PASSIVE checkpoints instead, which never
 * block the writer.
 *
 * @module
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { workerModule } from '../worker-module.js';
import type { CheckpointReply, CheckpointRequest, CheckpointWorkerData } from './checkpoint-worker.js';

/** How often the worker checkpoints (a PASSIVE checkpoint of an empty WAL costs next to nothing). */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * Write commits after which a handle (the journal's, the store catalog's)
 * counts as busy and gets a checkpoint worker: a command's short-lived
 * handle gets none.
 */
export const CHECKPOINT_WORKER_AFTER_COMMITS = 512;
/**
 * WAL size (pages) at which a writing connection checkpoints itself: a
 * backstop that lets the WAL restart (the worker's PASSIVE checkpoints
 * cannot while commits keep arriving), short as the worker copied nearly
 * everything already.
 */
export const WAL_BACKSTOP_PAGES = 8000;

/** The worker's code (see src/worker-module.ts for how tests run it). */
const WORKER = workerModule(new URL('./checkpoint-worker.js', import.meta.url), import.meta.url);

export type { CheckpointReply } from './checkpoint-worker.js';

/** A running checkpoint worker for one database file. */
export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private exited = false;
  /** Resolves when the worker thread has ended (its connection closed). */
  private readonly ended: Promise<void>;

  constructor(filePath: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    const workerData: CheckpointWorkerData = { filePath, intervalMs };
    this.worker = new Worker(WORKER, { workerData });
    // a failed worker only means checkpoints fall back to the journal's own connection
    this.worker.on('error', () => {});
    this.ended = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
    this.worker.unref();
  }

  /**
   * Runs one PASSIVE checkpoint in the worker now, besides the timed ones,
   * and says what it did; rejects if the worker has failed or exited.
   */
  async checkpoint(): Promise<CheckpointReply> {
    if (this.exited) throw new Error('checkpoint worker exited');
    const done = new AbortController();
    const replied = once(this.worker, 'message', { signal: done.signal }) as Promise<[CheckpointReply]>;
    const exited = once(this.worker, 'exit', { signal: done.signal }).then(() => {
      throw new Error('checkpoint worker exited');
    });
    this.send({ op: 'checkpoint' });
    try {
      const [reply] = await Promise.race([replied, exited]);
      return reply;
    } finally {
      // removes both listeners; the loser's AbortError is already handled by the race
      done.abort();
    }
  }

  /**
   * Asks the worker to close its connection and exit (it does not keep the
   * process alive); resolves once it has, so that a caller may then remove
   * the database's folder without the worker's files appearing in it.
   */
  stop(): Promise<void> {
    if (!this.exited) this.send({ op: 'stop' });
    return this.ended;
  }

  private send(msg: CheckpointRequest): void {
    this.worker.postMessage(msg);
  }
}

/** When {@link BusyCheckpoints} starts its worker, and the WAL size at which the connection still checkpoints itself. */
export interface BusyCheckpointSettings {
  /** Write commits after which the connection counts as busy (default {@link CHECKPOINT_WORKER_AFTER_COMMITS}; -1: never). */
  afterCommits?: number;
  /** `wal_autocheckpoint` once the worker runs (default {@link WAL_BACKSTOP_PAGES}). */
  backstopPages?: number;
}

/**
 * A writing connection's checkpoints (the journal's, the store catalog's,
 * the embedded lease store's): it counts the connection's write commits and,
 * once it is busy, gives it a {@link BackgroundCheckpointer} and raises the
 * connection's own automatic checkpoint to a backstop. A short-lived handle
 * (a command's) never gets a worker and checkpoints as SQLite does by
 * default.
 */
export class BusyCheckpoints {
  private commits = 0;
  private worker: BackgroundCheckpointer | undefined;
  private readonly afterCommits: number;
  private readonly backstopPages: number;

  constructor(
    private readonly db: { readonly name: string; pragma(source: string): unknown },
    settings: BusyCheckpointSettings = {},
  ) {
    this.afterCommits = settings.afterCommits ?? CHECKPOINT_WORKER_AFTER_COMMITS;
    this.backstopPages = settings.backstopPages ?? WAL_BACKSTOP_PAGES;
  }

  /** Write commits counted so far. */
  get count(): number {
    return this.commits;
  }

  /**
   * Counts one write commit; the one that makes the connection busy starts
   * the worker. Never throws: the commit is done, and without a worker the
   * connection keeps checkpointing itself.
   */
  committed(): void {
    if (++this.commits !== this.afterCommits) return;
    try {
      this.worker = new BackgroundCheckpointer(this.db.name);
      this.db.pragma(`wal_autocheckpoint = ${this.backstopPages}`);
    } catch {
      void this.worker?.stop();
      this.worker = undefined;
    }
  }

  /** Runs one checkpoint in the worker now and says what it did; undefined while there is no worker. */
  async checkpointNow(): Promise<CheckpointReply | undefined> {
    return this.worker?.checkpoint();
  }

  /**
   * Stops the worker, if any; resolves once its connection is closed, so
   * that the caller may then remove the database's folder.
   */
  stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    return worker ? worker.stop() : Promise.resolve();
  }
}
