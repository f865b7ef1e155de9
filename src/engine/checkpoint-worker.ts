/**
 * The checkpoint worker thread (see checkpointer.ts): its own connection to
 * the database file runs a PASSIVE checkpoint every interval, until told to
 * stop.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** The worker's `workerData`. */
export interface CheckpointWorkerData {
  filePath: string;
  intervalMs: number;
}

/** What the worker is told: checkpoint now (and answer), or close and exit. */
export type CheckpointRequest = { op: 'checkpoint' } | { op: 'stop' };

/** The worker's answer to `checkpoint`: SQLite's counts, or why it failed. */
export type CheckpointReply = { busy: boolean; walFrames: number; checkpointedFrames: number } | { error: string };

if (!parentPort) throw new Error('checkpoint-worker.ts runs as a worker thread of a BackgroundCheckpointer');
const port = parentPort;
const { filePath, intervalMs } = workerData as CheckpointWorkerData;

const db = new Database(filePath);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');

function checkpoint(): CheckpointReply {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    return { busy: row.busy !== 0, walFrames: row.log, checkpointedFrames: row.checkpointed };
  } catch (err) {
    return { error: String((err as Error).message ?? err) };
  }
}

// a failed checkpoint is tried again at the next tick; the journal's own connection checkpoints too
const timer = setInterval(checkpoint, intervalMs);

port.on('message', (msg: CheckpointRequest) => {
  if (msg.op === 'checkpoint') {
    port.postMessage(checkpoint());
    return;
  }
  clearInterval(timer);
  try {
    db.close();
  } catch {
    // exiting anyway
  }
  port.close();
});
