/**
 * MOD_AVU_METADATA_AN 706.
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const metadataRoutes: ApiRoute[] = [];
