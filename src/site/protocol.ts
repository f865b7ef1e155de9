/**
 * The vocabulary of the site callbacks (protocol section 3): landing zone and
 * timeline statuses and the status info limit. The service's flows, the
 * reference site and the test site all spell these strings from here.
 *
 * @module
 */

/** Every landing zone status, by name. */
export const ZoneStatus = {
  CREATING: 'CREATING',
  NOT_CREATED: 'NOT CREATED',
  ACTIVE: 'ACTIVE',
  PREPARING: 'PREPARING',
  VALIDATING: 'VALIDATING',
  MOVING: 'MOVING',
  MOVED: 'MOVED',
  FAILED: 'FAILED',
  DELETING: 'DELETING',
  DELETED: 'DELETED',
} as const;
/** A landing zone status string. */
export type ZoneStatus = (typeof ZoneStatus)[keyof typeof ZoneStatus];

/** Every landing zone status, in lifecycle order. */
export const ZONE_STATUSES: readonly ZoneStatus[] = Object.values(ZoneStatus);

/** Zones in these statuses never change status again (protocol section 3, "Lessons"). */
export const FINISHED_ZONE_STATUSES: readonly ZoneStatus[] = [ZoneStatus.MOVED, ZoneStatus.DELETED, ZoneStatus.NOT_CREATED];

/** Zones in these statuses have a flow running: the site refuses new operations on them. */
export const BUSY_ZONE_STATUSES: readonly ZoneStatus[] = [
  ZoneStatus.CREATING,
  ZoneStatus.PREPARING,
  ZoneStatus.VALIDATING,
  ZoneStatus.MOVING,
  ZoneStatus.DELETING,
];

/** Longest zone status info a site keeps; longer texts are cut. */
export const STATUS_INFO_MAX = 1024;

/** Timeline event status types. */
export const TIMELINE_STATUSES = ['INIT', 'SUBMIT', 'OK', 'FAILED', 'INFO', 'CANCEL'] as const;
/** A timeline event status type. */
export type TimelineStatus = (typeof TIMELINE_STATUSES)[number];
