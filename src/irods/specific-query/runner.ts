/**
 * Where specific queries run: in up to {@link QUERY_PROCESSES} child
 * processes (`./query-process.ts`), each with its own read-only connection to
 * the catalog, never on the server's thread, so a long or endless registered
 * query stalls neither the other protocol connections nor the flow service.
 * An iRODS server likewise runs a query in the agent process of the one
 * connection that asked.
 *
 * Every query is answered within the time limit: a query still queued or
 * running when it passes is answered `CAT_SQL_ERR` (what iRODS answers when
 * the database fails a query, e.g. PostgreSQL's `statement_timeout`), and a
 * running one's process is killed; the next query starts a fresh one.
 *
 * Two processes, not one: a runaway query then delays nobody else's query,
 * and the catalog's readers do not block each other (WAL). Not more: each
 * holds a connection and the views, the machine's cores are shared with the
 * flow service, and a query that needs more than a core is one to fix.
 *
 * A page re-runs the query from the start and skips the rows sent
 * (`../api/specific-query.ts`): no cursor is held between requests, so any
 * process serves any page and killing one loses nothing.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerModule } from '../../worker-module.js';
import { IrodsError } from '../wire/irods-error.js';
import type { IcatSite } from './icat-views.js';
import type { QueryJob, QueryReply } from './query-messages.js';

/** The process's code (see src/worker-module.ts for how tests run it from source). */
const PROCESS = workerModule(new URL('./query-process.js', import.meta.url), import.meta.url);

/** Most query processes at once. */
export const QUERY_PROCESSES = 2;

/** A page of a query's rows, and whether more follow. */
export interface QueryPage {
  rows: string[][];
  more: boolean;
}

/** Runs specific queries; see the module comment. */
export interface SpecificQueries {
  /** Rows `offset`… (at most `max`) of the admitted `sql` with `args` bound to its `?`s. */
  run(sql: string, args: readonly string[], offset: number, max: number): Promise<QueryPage>;
}

interface Job {
  msg: QueryJob;
  resolve(page: QueryPage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** When it came and when a process took it (ms since the epoch). */
  queued: number;
  started?: number;
  proc?: ChildProcess;
}

/** Specific queries in child processes, each answered within `timeoutMs`. */
export class SpecificQueryRunner implements SpecificQueries {
  private readonly idle: ChildProcess[] = [];
  private readonly all = new Set<ChildProcess>();
  private readonly queue: Job[] = [];
  private readonly running = new Map<ChildProcess, Job>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly site: IcatSite,
    readonly timeoutMs: number,
  ) {}

  run(sql: string, args: readonly string[], offset: number, max: number): Promise<QueryPage> {
    if (this.closed) return Promise.reject(new IrodsError('SYS_NOT_SUPPORTED', 'specific query: the server is shutting down'));
    return new Promise<QueryPage>((resolve, reject) => {
      const job: Job = {
        msg: { id: this.nextId++, sql, args: [...args], offset, max },
        resolve,
        reject,
        timer: setTimeout(() => this.expire(job), this.timeoutMs),
        queued: Date.now(),
      };
      this.queue.push(job);
      this.pump();
    });
  }

  /** Kills the processes; queries not answered yet fail. */
  close(): void {
    this.closed = true;
    for (const job of [...this.queue, ...this.running.values()]) this.settle(job, new IrodsError('SYS_NOT_SUPPORTED', 'specific query: the server is shutting down'));
    this.queue.length = 0;
    for (const proc of this.all) proc.kill('SIGKILL');
    this.all.clear();
    this.idle.length = 0;
    this.running.clear();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      // a process's start counts as running: waiting is for a busy pool only
      const now = Date.now();
      const proc = this.idle.pop() ?? (this.all.size < QUERY_PROCESSES ? this.spawn() : undefined);
      if (!proc) return;
      const job = this.queue.shift()!;
      job.proc = proc;
      job.started = now;
      this.running.set(proc, job);
      hold(proc, true);
      proc.send(job.msg);
    }
  }

  private spawn(): ChildProcess {
    const proc = fork(fileURLToPath(PROCESS), [JSON.stringify(this.site)], { execArgv: childExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.all.add(proc);
    proc.on('message', (reply: QueryReply) => {
      const job = this.running.get(proc);
      if (!job || job.msg.id !== reply.id) return;
      this.running.delete(proc);
      hold(proc, false);
      this.idle.push(proc);
      if ('rows' in reply) this.settle(job, undefined, { rows: reply.rows, more: reply.more });
      else if ('irods' in reply) this.settle(job, new IrodsError(reply.irods, reply.message));
      else this.settle(job, new Error(`specific query process failed: ${reply.failed}`));
      this.pump();
    });
    proc.on('error', (err) => this.drop(proc, err));
    proc.on('exit', (code, signal) => this.drop(proc, new Error(`specific query process ended (${signal ?? `code ${code}`})`)));
    return proc;
  }

  // The time limit passed: a queued job leaves the queue, a running one's process is killed.
  private expire(job: Job): void {
    const limit = `specific query ended at the ${this.timeoutMs / 1000} s limit (TASKFLOW_IRODS_QUERY_TIMEOUT)`;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    if (job.proc) {
      this.running.delete(job.proc);
      this.forget(job.proc);
      job.proc.kill('SIGKILL');
      const waited = job.started! - job.queued;
      const why = `it ran ${s(Date.now() - job.started!)}${waited >= 100 ? ` after waiting ${s(waited)} for a query process` : ''}`;
      this.settle(job, new IrodsError('CAT_SQL_ERR', `${limit}: ${why}`));
    } else {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      this.settle(job, new IrodsError('CAT_SQL_ERR', `${limit}: it never started, other queries held every query process`));
    }
    this.pump();
  }

  // A process that died fails its job; a fresh one starts for the next.
  private drop(proc: ChildProcess, err: Error): void {
    if (!this.all.has(proc)) return;
    this.forget(proc);
    const job = this.running.get(proc);
    this.running.delete(proc);
    if (job) this.settle(job, err);
    if (!this.closed) this.pump();
  }

  private forget(proc: ChildProcess): void {
    this.all.delete(proc);
    const i = this.idle.indexOf(proc);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private settle(job: Job, err: Error | undefined, page?: QueryPage): void {
    clearTimeout(job.timer);
    if (err) job.reject(err);
    else job.resolve(page!);
  }
}

/**
 * This process's Node options but those that would make a query process run
 * something else or collide: an `--eval`ed or `--print`ed script (Node lists
 * it among the options) and its input type, an inspector's port. The rest (a
 * module loader, memory limits) hold for the query process too.
 */
export function childExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++; // and its script
    else if (!/^(--eval=|--print=|--input-type|--inspect|--debug-port)/.test(a)) kept.push(a);
  }
  return kept;
}

/** An idle process must not keep the server's process alive; a busy one is waited for. */
function hold(proc: ChildProcess, busy: boolean): void {
  const channel = proc.channel as { ref(): void; unref(): void } | undefined;
  if (busy) {
    proc.ref();
    channel?.ref();
  } else {
    proc.unref();
    channel?.unref();
  }
}
