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

/** Prefix of setting names in settings/set and, from SODAR Core 0.10.12, in settings/get's answer: `settings.<app>.<name>`. */
export const SETTINGS_PREFIX = 'settings.';

/**
 * A JSON setting's value from the JSON string settings/get hands it out as,
 * as SODAR Core parses it again when it is set (`AppSettingAPI._get_json_value`).
 * `like`: a value the setting holds (now, or as an update sets it); only
 * when that is a dict or list is `value` decoded, and only into a dict or
 * list, so a string setting that happens to hold JSON stays a string.
 */
export function jsonSettingValue(value: unknown, like: unknown): unknown {
  if (typeof value !== 'string' || like === null || typeof like !== 'object') return value;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed !== null && typeof parsed === 'object' ? parsed : value;
  } catch {
    return value;
  }
}

/** Timeline event status types. */
export const TIMELINE_STATUSES = ['INIT', 'SUBMIT', 'OK', 'FAILED', 'INFO', 'CANCEL'] as const;
/** A timeline event status type. */
export type TimelineStatus = (typeof TIMELINE_STATUSES)[number];

/**
 * Booleans in callback forms are spelled as Python's form encoding spelled
 * them (`True` / `False`): SODAR's views assign form strings straight to
 * Django `BooleanField`s, which accept nothing like `true`.
 */
export const FORM_BOOL = { true: 'True', false: 'False' } as const;

/** A boolean as a callback form field. */
export const formBool = (value: boolean): string => (value ? FORM_BOOL.true : FORM_BOOL.false);

/**
 * A form string as Django's model `BooleanField.to_python` reads it (Django
 * 3.2, used by SODAR Core 0.10): `t`, `True`, `1` are true, `f`, `False`, `0`
 * false, case-sensitive; anything else is undefined (Django raises a
 * ValidationError, a 500 from the view).
 */
export function parseDjangoBool(value: string): boolean | undefined {
  if (value === 't' || value === 'True' || value === '1') return true;
  if (value === 'f' || value === 'False' || value === '0') return false;
  return undefined;
}
