/**
 * Landing zone statuses (protocol section 3) and the status texts our flows
 * send with them: the one place for these strings.
 *
 * @module
 */

export { ZoneStatus, STATUS_INFO_MAX } from '../site/protocol.js';
export type { ZoneStatus as ZoneStatusName } from '../site/protocol.js';

/** Status info texts, as SODAR shows them. */
export const ZoneInfo = {
  creating: 'Creating landing zone',
  active: 'Available with write access for user',
  preparing: 'Preparing transaction for validation and moving',
  validating: (files: number) => `Validating ${files} file${files === 1 ? '' : 's'}, write access disabled`,
  validated: (files: number) => `Successfully validated ${files} file${files === 1 ? '' : 's'}`,
  moving: (files: number) => `Validation OK, moving ${files} file${files === 1 ? '' : 's'} into sample data`,
  moved: (files: number) => `Successfully moved ${files} file${files === 1 ? '' : 's'}, landing zone removed`,
  deleting: 'Deleting landing zone',
  deleted: 'Landing zone deleted',
} as const;
