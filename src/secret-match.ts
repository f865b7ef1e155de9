/**
 * The shared-secret check, used by the service on its requests and by the
 * site on the service's callbacks. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths and contents: nothing
 * about the expected secret leaks through timing.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Header carrying the secret on the service's own JSON endpoints (`/runs`, `/locks`, `/queue`), for the service, the backend and the site's dashboard alike. */
export const SECRET_HEADER = 'x-taskflow-secret';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The expected secret's digest, computed once per secret rather than per request. */
let expectedDigest: { secret: string; digest: Buffer } | undefined;

/** Compares a given secret with the expected one in constant time. Non-strings never match. */
export function secretMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  if (expectedDigest?.secret !== expected) expectedDigest = { secret: expected, digest: digest(expected) };
  return timingSafeEqual(digest(given), expectedDigest.digest);
}
