/**
 * The site's fixed vocabularies (SODAR Core / SODAR constants): project types,
 * roles with their stable primary keys; statuses come from `site/protocol.ts`.
 * The one place each of these strings is spelled.
 *
 * @module
 */
import type { ZoneStatus } from '../site/protocol.js';

/** Project types of SODAR Core. */
export const PROJECT_TYPE_PROJECT = 'PROJECT';
export const PROJECT_TYPE_CATEGORY = 'CATEGORY';
export type ProjectType = typeof PROJECT_TYPE_PROJECT | typeof PROJECT_TYPE_CATEGORY;
export const PROJECT_TYPES: readonly ProjectType[] = [PROJECT_TYPE_PROJECT, PROJECT_TYPE_CATEGORY];

/** Role names of SODAR Core. */
export const ROLE_OWNER = 'project owner';
export const ROLE_DELEGATE = 'project delegate';
export const ROLE_CONTRIBUTOR = 'project contributor';
export const ROLE_GUEST = 'project guest';

/** A role row: `pk` values are stable (flows carry them as `role_pk`); lower rank = more rights. */
export interface RoleDef {
  pk: number;
  name: string;
  rank: number;
}

/** Every role, seeded into the database with these primary keys. */
export const ROLES: readonly RoleDef[] = [
  { pk: 1, name: ROLE_OWNER, rank: 10 },
  { pk: 2, name: ROLE_DELEGATE, rank: 20 },
  { pk: 3, name: ROLE_CONTRIBUTOR, rank: 30 },
  { pk: 4, name: ROLE_GUEST, rank: 40 },
];

/** The role named `name`, or undefined. */
export function roleByName(name: string): RoleDef | undefined {
  return ROLES.find((r) => r.name === name);
}

/** The role with primary key `pk`, or undefined. */
export function roleByPk(pk: number): RoleDef | undefined {
  return ROLES.find((r) => r.pk === pk);
}

/** The owner role's primary key. */
export const OWNER_ROLE_PK = 1;

/** The delegate role's primary key. */
export const DELEGATE_ROLE_PK = roleByName(ROLE_DELEGATE)!.pk;

/**
 * Most delegates a project may have, not counting owners of a category above
 * it: SODAR Core v0.10.12 `PROJECTROLES_DELEGATE_LIMIT`, default 1.
 */
export const DELEGATE_LIMIT = 1;

/** Landing zone and timeline statuses: spelled once, in the callback protocol module. */
export {
  TIMELINE_STATUSES,
  type TimelineStatus,
  ZONE_STATUSES,
  type ZoneStatus,
  FINISHED_ZONE_STATUSES as ZONE_FINISHED,
  BUSY_ZONE_STATUSES as ZONE_BUSY,
  STATUS_INFO_MAX as ZONE_STATUS_INFO_MAX,
} from '../site/protocol.js';

/** Zones in these statuses accept validate, move and delete. */
export const ZONE_OPERABLE: readonly ZoneStatus[] = ['ACTIVE', 'FAILED'];

/**
 * A project's lock as the site's project API shows it: `true` or `false` as
 * the service reports it, {@link LOCK_UNKNOWN} when the site cannot tell.
 */
export type LockShown = boolean | typeof LOCK_UNKNOWN;

/**
 * The `locked` value of a project whose lock the site cannot tell: the
 * service has no lock query (the original SODAR Taskflow v0.6.2 answers 404),
 * cannot be reached, or taskflow is off; lists do not ask (retrieve the
 * project to see its lock).
 */
export const LOCK_UNKNOWN = 'unknown';

/** Longest project, category and landing zone title (SODAR's `max_length`). */
export const TITLE_MAX = 255;

/** Name of our backend plugin. */
export const TASKFLOW_PLUGIN = 'taskflow';
