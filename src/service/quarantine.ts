/**
 * Projects kept locked because one of their runs could not be rolled back
 * (`revert_failed`): nothing may touch them until an operator has retried the
 * revert (`taskflow runs retry-revert ID`). The journal is the only truth,
 * asked every time (a probe of a partial index holding just those runs), so
 * a failure or a retry in another process on the same journal counts at once.
 *
 * @module
 */
import type { Journal } from '../engine/journal.js';

/** The project uuid of runs about no project. */
const NO_PROJECT = 'None';

/** Which projects are quarantined, as the journal says. */
export class ProjectQuarantine {
  constructor(private readonly journal: Journal) {}

  /** The id of a `revert_failed` run of this project, or undefined when the project is free. */
  blockingRun(projectUuid: string): string | undefined {
    if (projectUuid === NO_PROJECT) return undefined;
    return this.journal.revertFailedRunLabelled(projectUuid);
  }
}

/** The 503 reason of a quarantined project. */
export function quarantineReason(runId: string): string {
  return `run ${runId} could not be rolled back; retry it with "taskflow runs retry-revert ${runId}"`;
}
