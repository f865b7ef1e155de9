/**
 * Every API the store server answers, by number. A number not here is
 * answered with `SYS_UNMATCHED_API_NUM`, as an iRODS server answers one it
 * does not know (iRODS 4.3.5 `apiTable.hpp` / `rsApiHandler`).
 *
 * @module
 */
import type { ApiRoute } from '../server/api.js';
import { accessRoutes } from './access.js';
import { adminRoutes } from './admin.js';
import { atomicMetadataRoutes } from './atomic-metadata.js';
import { clientHintsRoutes } from './client-hints.js';
import { collectionRoutes } from './collections.js';
import { genQueryRoutes } from './genquery.js';
import { metadataRoutes } from './metadata.js';
import { objectRoutes } from './objects.js';
import { putGetRoutes } from './put-get.js';
import { registrationRoutes } from './registration.js';
import { specificQueryRoutes } from './specific-query.js';
import { touchRoutes } from './touch.js';

/** The routes by API number; a duplicate number is a programming error. */
export function apiTable(): Map<number, ApiRoute> {
  const table = new Map<number, ApiRoute>();
  for (const route of [
    ...genQueryRoutes,
    ...objectRoutes,
    ...putGetRoutes,
    ...collectionRoutes,
    ...metadataRoutes,
    ...atomicMetadataRoutes,
    ...accessRoutes,
    ...adminRoutes,
    ...registrationRoutes,
    ...specificQueryRoutes,
    ...touchRoutes,
    ...clientHintsRoutes,
  ]) {
    if (table.has(route.api)) throw new Error(`API ${route.api} (${route.name}) is served twice`);
    table.set(route.api, route);
  }
  return table;
}
