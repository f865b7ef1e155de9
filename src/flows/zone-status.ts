/**
 * Landing zone statuses (protocol section 3) and the status texts our flows
 * send with them: the one place for these strings. The texts are the
 * original service's (SODAR Taskflow v0.6.2 `flows/landing_zone_*.py` and
 * `sodar_taskflow.py`), which SODAR users know.
 *
 * @module
 */
import { buildError } from '../service/messages.js';
import { ZoneStatus } from '../site/protocol.js';
import { ProgressKey } from '../tasks/progress.js';
import { SAMPLE_COLL } from './layout.js';
import type { FlowFailure } from './types.js';

export { ZoneStatus, STATUS_INFO_MAX } from '../site/protocol.js';
export type { ZoneStatus as ZoneStatusName } from '../site/protocol.js';

const files = (n: number): string => `${n} file${n === 1 ? '' : 's'}`;

/** Status info texts, as SODAR shows them. */
export const ZoneInfo = {
  creating: 'Creating landing zone',
  active: 'Available with write access for user',
  preparing: (validateOnly: boolean) => `Preparing transaction for validation${validateOnly ? '' : ' and moving'}`,
  validating: (n: number) => `Validating ${files(n)}, write access disabled`,
  validated: (n: number) => `Successfully validated ${files(n)}`,
  // the original says "files" whatever the count here
  moving: (n: number) => `Validation OK, moving ${n} files into ${SAMPLE_COLL}`,
  moved: (n: number) => `Successfully moved ${files(n)}, landing zone removed`,
  deleting: 'Deleting landing zone',
  deleted: 'Landing zone deleted',
  /**
   * A status's text with the progress of its step after it, as SODAR's
   * progress indicators write it (SODAR v1.1, sodar#2024: taskflowbackend
   * `tasks/irods_tasks.py`, `ProgressCounterMixin`): `<text> (<done>/<total>:
   * <percent>%)`, the percentage rounded down, e.g. `Validation OK, moving
   * 3000 files into sample_data (1500/3000: 50%)`.
   */
  progress: (statusInfo: string, done: number, total: number) =>
    `${statusInfo} (${done}/${total}: ${total > 0 ? Math.floor((done / total) * 100) : 100}%)`,
} as const;

/**
 * The status a zone has when its move or delete starts (the site sets it
 * before it submits): where a failed run's reverts stop, so that the zone
 * stays busy until the failure report makes it FAILED. The original never
 * showed anything between: its status tasks were never reverted. ACTIVE on
 * the way to FAILED read as a finished validation to whoever looked then,
 * and a page that showed it stopped polling.
 */
export const ZoneAtStart = {
  move: (validateOnly: boolean) => ({ status: ZoneStatus.PREPARING, info: ZoneInfo.preparing(validateOnly) }),
  delete: { status: ZoneStatus.DELETING, info: ZoneInfo.deleting },
} as const;

/**
 * The zone statuses whose text shows a step's progress, and the count
 * ({@link ProgressKey}) each shows: checked files while VALIDATING, moved
 * files while MOVING.
 */
export const ZONE_PROGRESS: Readonly<Partial<Record<string, ProgressKey>>> = {
  [ZoneStatus.VALIDATING]: ProgressKey.filesChecked,
  [ZoneStatus.MOVING]: ProgressKey.filesMoved,
};

/**
 * Extra fields the original sent with some statuses; SODAR's status view
 * reads them as integers (`int(file_count)`, `bool(int(validate_only))`,
 * SODAR 0.11.3 `landingzones/views_taskflow.py`) to pick its alerts and mails.
 */
export const ZoneExtra = {
  validated: { validate_only: 1 },
  moved: (n: number) => ({ file_count: n }),
  moveFailed: (validateOnly: boolean) => ({ validate_only: validateOnly ? 1 : 0 }),
} as const;

/** What a zone flow's failure says before the reason, by flow. */
function failurePrefix(flowName: string, validateOnly: boolean): string {
  switch (flowName) {
    case 'landing_zone_create':
      return 'Failed to create landing zone';
    case 'landing_zone_move':
      return validateOnly ? 'Failed to validate landing zone files' : 'Failed to move landing zone files';
    case 'landing_zone_delete':
      return 'Failed to delete landing zone';
    default:
      return `Failed to run ${flowName}`;
  }
}

/**
 * The status info of a failed zone flow: `Error building flow: <reason>` when
 * building failed, else the flow's prefix (`Failed to move landing zone
 * files: <reason>` and the like) before the reason.
 */
export function zoneFailureInfo(flowName: string, validateOnly: boolean, failure: FlowFailure): string {
  if (failure.stage === 'build') return buildError(failure.reason);
  return `${failurePrefix(flowName, validateOnly)}: ${failure.reason}`;
}
