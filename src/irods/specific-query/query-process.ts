/**
 * A process that runs specific queries for {@link SpecificQueryRunner}: its
 * own read-only connection to the catalog, the iCAT views on it, and the same
 * admission check as registration ({@link IcatQueries}). It answers one
 * {@link QueryJob} at a time over IPC.
 *
 * A process, not a worker thread: a statement that never yields a row stays
 * inside `sqlite3_step`, where neither `Worker.terminate()` nor anything in
 * better-sqlite3 12 reaches it (no interrupt, no progress handler); only
 * ending the process ends it. For the same reason this process cannot watch
 * for its parent's end while a query runs, so a watchdog thread does: when
 * the parent is gone (the process was re-parented), it kills this process.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { IrodsError } from '../wire/irods-error.js';
import { IcatQueries, type IcatSite } from './icat-views.js';
import type { QueryJob, QueryReply } from './query-messages.js';

const site = JSON.parse(process.argv[2]!) as IcatSite;
const db = new Database(site.catalog, { readonly: true, fileMustExist: true, timeout: site.busyTimeoutMs });
const queries = IcatQueries.over(db, site);

/** How often the watchdog looks for the parent, in milliseconds. */
const WATCH_MS = 1000;
// The parent is read here, not by the watchdog: its thread may start only
// after the parent is gone. The timer keeps the watchdog thread alive;
// unref'd, the thread does not keep this process alive.
new Worker(
  `const { workerData: parent } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, ${WATCH_MS});`,
  { eval: true, workerData: process.ppid },
).unref();

process.on('disconnect', () => process.exit(0));
process.on('message', (job: QueryJob) => {
  let reply: QueryReply;
  try {
    const { rows, more } = queries.run(job.sql, job.args, job.offset, job.max);
    reply = { id: job.id, rows, more };
  } catch (err) {
    reply = err instanceof IrodsError ? { id: job.id, irods: err.codeName, message: err.message } : { id: job.id, failed: String((err as Error)?.stack ?? err) };
  }
  process.send!(reply);
});
