/**
 * WAL checkpoints in a worker thread. A checkpoint copies the WAL into the
 * database file and, with `synchronous = NORMAL`, fsyncs both: done by the
 * journal's own (synchronous) connection it stalls the event loop for tens
 * to hundreds of milliseconds on a busy disk. A second connection in a
 * worker runs PASSIVE checkpoints instead, which never block the writer.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints (a PASSIVE checkpoint of an empty WAL costs next to nothing). */
export const CHECKPOINT_INTERVAL_MS = 100;

// CommonJS in an eval worker: runs the same from dist/ and from TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filePath);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

/** A running checkpoint worker for one database file. */
export class BackgroundCheckpointer {
  private readonly worker: Worker;

  constructor(filePath: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, filePath, intervalMs } });
    // a failed worker only means checkpoints fall back to the journal's own connection
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  /** Asks the worker to close its connection and exit (it does not keep the process alive). */
  stop(): void {
    this.worker.postMessage('stop');
  }
}
