/**
 * Who holds something open in the catalog, written so that another process
 * (a later server on the same data folder, `taskflow store fsck`) can tell
 * whether the holder still runs: the host, the pid and, where Linux's
 * `/proc` tells it, the process's start time, so that a pid the kernel has
 * given to a new process since does not pass for the old one.
 *
 * A pid means something only in its pid namespace. Processes sharing a data
 * folder (on one host: SQLite's WAL needs one kernel) from different
 * namespaces, as containers, tell each other apart by host name, which
 * containers get their own of by default; a restarted container keeps its
 * name and sees the old pid gone or started at another time.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

interface Holder {
  host: string;
  pid: number;
  /** Clock ticks after boot (proc(5) `stat` field 22); null where `/proc` is not there. */
  start: string | null;
}

/** The start time of process `pid`, or undefined when it is not running; null where `/proc` cannot tell. */
function startOf(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
    try {
      readFileSync('/proc/self/stat');
    } catch {
      return null; // no /proc at all
    }
    return undefined;
  }
  // the fields after the command name, which is in parentheses and may hold anything
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

let self: string | undefined;

/** This process as a holder. */
export function thisProcess(): string {
  return (self ??= JSON.stringify({ host: hostname(), pid: process.pid, start: startOf(process.pid) ?? null } satisfies Holder));
}

/**
 * Whether the process `holder` names has certainly ended. A holder on
 * another host, or one this process cannot read, counts as running: what
 * it holds is then left alone.
 */
export function holderEnded(holder: string): boolean {
  let h: Holder;
  try {
    h = JSON.parse(holder) as Holder;
  } catch {
    return false;
  }
  if (h.host !== hostname() || !Number.isSafeInteger(h.pid) || h.pid <= 0) return false;
  if (h.start !== null) {
    const now = startOf(h.pid);
    if (now !== null) return now === undefined || now !== h.start;
  }
  return !pidRuns(h.pid);
}

/**
 * Whether a process with id `pid` runs on this machine (in this process's
 * pid namespace): one that exists, whoever owns it. Also for what a pid
 * alone marks, such as the vault's temp files.
 */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
