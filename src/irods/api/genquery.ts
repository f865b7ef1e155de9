/**
 * GEN_QUERY_AN 702.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const genQueryRoutes: ApiRoute[] = [];
