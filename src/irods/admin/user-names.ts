/**
 * User and group names as admin requests give them: `name` or `name#zone`,
 * with the zone possibly also given as its own argument. The rules are
 * iRODS 4.3.5's (`user_validation_utilities.cpp` `validate_name`,
 * `administration_utilities.cpp`): letters, digits, `_`, `-`, `.` and `@`,
 * shorter than 64 bytes, not `.` or `..`; both zones, when given, agree.
 *
 * @module
 */
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS's `NAME_LEN`: names and zones are shorter. */
const NAME_LEN = 64;
const USER_NAME = /^([A-Za-z0-9_.@-]+)(?:#([^#]*))?$/;

/** A name split into its local part and the zone it named ('' when none). */
export interface QualifiedName {
  name: string;
  zone: string;
}

/** Splits `name#zone`; `USER_INVALID_USERNAME_FORMAT` for a name breaking the rules. */
export function parseUserName(given: string): QualifiedName {
  const m = USER_NAME.exec(given);
  const name = m?.[1] ?? '';
  const zone = m?.[2] ?? '';
  if (!m || name === '.' || name === '..' || Buffer.byteLength(name) >= NAME_LEN || Buffer.byteLength(zone) >= NAME_LEN) {
    throw new IrodsError(
      'USER_INVALID_USERNAME_FORMAT',
      `${JSON.stringify(given.slice(0, 80))} is not a valid user name (letters, digits, _ - . @, shorter than ${NAME_LEN} bytes, optionally #zone)`,
    );
  }
  return { name, zone };
}

/**
 * The local name of the user or group a request names (as `name#zone`
 * and/or with a zone argument), after checking the zone is this store's:
 * the zone argument and the name's zone must agree (`CAT_INVALID_ZONE`), and
 * a name in another zone is answered with `otherZone` (this store holds
 * one zone, so such a user is unknown, or cannot be created).
 */
export function localName(given: string, zoneArg: string, localZone: string, otherZone: IrodsErrorName): string {
  const { name, zone } = parseUserName(given);
  if (zone !== '' && zoneArg !== '' && zone !== zoneArg) {
    throw new IrodsError('CAT_INVALID_ZONE', `the zone of ${given} differs from the zone given, ${zoneArg}`);
  }
  const effective = zone || zoneArg || localZone;
  if (effective !== localZone) {
    throw new IrodsError(otherZone, `${name}#${effective}: this server holds only the zone ${localZone}`);
  }
  return name;
}
