/**
 * How the service's own JSON endpoints carry the shared secret; the
 * comparison itself is `secretMatches` (src/secret-match.ts), shared with the site.
 *
 * @module
 */
export { secretMatches } from '../secret-match.js';

/** Header carrying the secret on the service's own JSON endpoints (`/runs`, `/locks`). */
export const SECRET_HEADER = 'x-taskflow-secret';
