/**
 * GENERAL_ADMIN_AN 701.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const adminRoutes: ApiRoute[] = [];
