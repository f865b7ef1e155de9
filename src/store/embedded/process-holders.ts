/**
 * Who holds something in the store (an intermediate object in the catalog,
 * a temp file in the vault), written so that another process (a later
 * server on the same data folder, `taskflow store fsck`) can tell whether
 * the holder still runs. A holder is a tag `<pid>.<start>.<host>`: the pid;
 * where Linux's `/proc` tells it, the process's start time (else `x`), so
 * that a pid the kernel has given to a new process since does not pass for
 * the old one; and a hash of the host name. The tag has no `-`, so a file
 * name can begin with it.
 *
 * Whether a holder runs is first asked of its liveness lock
 * (holder-locks.ts), which every process with a store open holds; the tag
 * answers for a holder without one (one that closed its store, or one of a
 * version before the locks). A pid means something only in its pid
 * namespace. Processes sharing a data folder (on one host: SQLite's WAL
 * needs one kernel) from different namespaces, as containers, tell each
 * other apart by host name, which containers get their own of by default:
 * by the tag alone, a holder of another host name counts as running.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Start time (clock ticks after boot, proc(5) `stat` field 22) of process `pid`; undefined when it is not running, null where `/proc` cannot tell. */
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

let host: string | undefined;
/** This host's name, hashed into a short word of hex digits. */
function hostTag(): string {
  return (host ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 12));
}

let self: string | undefined;

/** This process as a holder. */
export function thisProcess(): string {
  return (self ??= `${process.pid}.${startOf(process.pid) ?? 'x'}.${hostTag()}`);
}

/** Whether `name` has the form {@link thisProcess} gives a tag: a pid, a start time (or `x`) and a host hash. */
export function isHolderTag(name: string): boolean {
  return /^\d+\.[0-9x]+\.[0-9a-f]+$/.test(name);
}

/**
 * Whether the process `holder` names has certainly ended. A holder on
 * another host, or one this process cannot check, counts as running: what
 * it holds is then left alone. A bare pid (the temp files of versions
 * before tags) is checked by the pid alone; what is no holder at all has
 * none that runs.
 */
export function holderEnded(holder: string): boolean {
  const [pidText, start, hostOf, ...rest] = holder.split('.');
  const pid = Number(pidText);
  // nothing this module wrote: a stray name, held by no one
  if (!/^\d+$/.test(pidText ?? '') || !Number.isSafeInteger(pid) || pid <= 0 || rest.length > 0) return true;
  // this process's holders are tagged: a bare pid of its own is an earlier process's
  if (start === undefined) return pid === process.pid || !pidRuns(pid);
  if (hostOf !== hostTag()) return false;
  if (start !== 'x') {
    const now = startOf(pid);
    if (now !== null) return now === undefined || now !== start;
  }
  return !pidRuns(pid);
}

/** Whether a process with id `pid` runs (in this process's pid namespace): one that exists, whoever owns it. */
function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
