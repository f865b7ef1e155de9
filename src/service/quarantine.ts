/**
 * Projects kept locked because one of their runs could not be rolled back
 * (`revert_failed`): nothing may touch them until an operator has retried the
 * revert (`taskflow runs retry-revert ID`). The journal is the truth; this
 * keeps the hot path (every submit) to a set lookup and re-reads the journal
 * only for projects in the set, so a retry done by another process is seen.
 *
 * @module
 */
import type { Journal } from '../engine/journal.js';

/** The project uuid of runs about no project. */
const NO_PROJECT = 'None';

/** Projects with a `revert_failed` run. */
export class ProjectQuarantine {
  private readonly projects = new Set<string>();

  constructor(private readonly journal: Journal) {}

  /** Loads every project with a `revert_failed` run from the journal. */
  load(): void {
    const pageSize = 500;
    for (let offset = 0; ; offset += pageSize) {
      const page = this.journal.listRuns({ status: 'revert_failed', limit: pageSize, offset });
      for (const run of page.runs) if (run.label) this.add(run.label);
      if (offset + pageSize >= page.total) break;
    }
  }

  /** Quarantines a project after a failed rollback. */
  add(projectUuid: string): void {
    if (projectUuid !== NO_PROJECT) this.projects.add(projectUuid);
  }

  /** The id of a `revert_failed` run of this project, or undefined when the project is free. */
  blockingRun(projectUuid: string): string | undefined {
    if (!this.projects.has(projectUuid)) return undefined;
    const page = this.journal.listRuns({ status: 'revert_failed', label: projectUuid, limit: 1, offset: 0 });
    const run = page.runs[0];
    if (!run) this.projects.delete(projectUuid);
    return run?.runId;
  }

  /** Like {@link blockingRun} but asks the journal even when the project is not in the set (another process may have failed). */
  blockingRunFresh(projectUuid: string): string | undefined {
    if (projectUuid === NO_PROJECT) return undefined;
    const page = this.journal.listRuns({ status: 'revert_failed', label: projectUuid, limit: 1, offset: 0 });
    const run = page.runs[0];
    if (run) this.projects.add(projectUuid);
    else this.projects.delete(projectUuid);
    return run?.runId;
  }
}

/** The 503 reason of a quarantined project. */
export function quarantineReason(runId: string): string {
  return `run ${runId} could not be rolled back; retry it with "taskflow runs retry-revert ${runId}"`;
}
