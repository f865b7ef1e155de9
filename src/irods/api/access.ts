/**
 * MOD_ACCESS_CONTROL_AN 707.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const accessRoutes: ApiRoute[] = [];
