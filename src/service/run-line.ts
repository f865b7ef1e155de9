/**
 * The line of accepted async runs inside one service process: per project,
 * runs that take the project lock start one at a time in submit order; runs
 * of different projects (and lock-free runs) start side by side, bounded by
 * the async work queue (`TASKFLOW_ASYNC_CONCURRENCY`). A waiting run can be
 * taken out of the line (cancelled) until it starts. Which run has its turn
 * is also derived from the journal by queue-view.ts, which follows the same
 * rule for every process on the data folder.
 *
 * @module
 */

/** A run in the line. */
export interface LineEntry {
  runId: string;
  projectUuid: string;
  /** Submit order (the journal's queue seq). */
  seq: number;
  /** Takes the project lock: waits for the project's previous such runs. */
  locked: boolean;
}

interface ProjectLine {
  running: LineEntry | undefined;
  waiting: LineEntry[];
}

/** Per-project FIFO of async runs; `start` runs one and resolves when it has ended. */
export class RunLine<E extends LineEntry> {
  private readonly projects = new Map<string, ProjectLine>();
  private stopped = false;

  constructor(private readonly start: (entry: E) => Promise<void>) {}

  /** Adds a run behind the project's runs. */
  push(entry: E): void {
    if (this.stopped) return;
    if (!entry.locked) {
      void this.start(entry);
      return;
    }
    let line = this.projects.get(entry.projectUuid);
    if (!line) {
      line = { running: undefined, waiting: [] };
      this.projects.set(entry.projectUuid, line);
    }
    line.waiting.push(entry);
    if (line.running === undefined) this.next(entry.projectUuid, line);
  }

  /** Whether a run of the project waits in the line for the one running (they all take the project lock). */
  hasWaiting(projectUuid: string): boolean {
    return !this.stopped && (this.projects.get(projectUuid)?.waiting.length ?? 0) > 0;
  }

  /** Takes a waiting run out of the line; undefined when it is not waiting here (running, ended or unknown). */
  cancel(runId: string): E | undefined {
    for (const line of this.projects.values()) {
      const i = line.waiting.findIndex((e) => e.runId === runId);
      if (i >= 0) return line.waiting.splice(i, 1)[0] as E;
    }
    return undefined;
  }

  /** Starts no more runs; waiting ones stay recorded in the journal for the next owner. */
  stop(): void {
    this.stopped = true;
  }

  private next(projectUuid: string, line: ProjectLine): void {
    const entry = this.stopped ? undefined : line.waiting.shift();
    if (!entry) {
      line.running = undefined;
      if (line.waiting.length === 0) this.projects.delete(projectUuid);
      return;
    }
    line.running = entry;
    void this.start(entry as E).finally(() => this.next(projectUuid, line));
  }
}
