/**
 * How the service's own JSON endpoints carry the shared secret; the
 * comparison itself is `secretMatches` (src/secret-match.ts), shared with the site.
 *
 * @module
 */
export { SECRET_HEADER, secretMatches } from '../secret-match.js';
