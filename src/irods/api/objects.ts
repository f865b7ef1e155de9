/**
 * data objects: create 601, open 602, read 675, write 676, seek 674, close 673, unlink 615, rename 627, checksum 629, stat 633.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const objectRoutes: ApiRoute[] = [];
