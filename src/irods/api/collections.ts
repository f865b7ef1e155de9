/**
 * COLL_CREATE_AN 681, RM_COLL_AN 679.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const collectionRoutes: ApiRoute[] = [];
