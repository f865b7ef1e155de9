/**
 * The collection APIs: create 681 and remove 679 (iRODS 4.3.5
 * `apiNumberData.h`). Renaming a collection goes through rename 627 in
 * `objects.ts`; listing is GenQuery's. The work is in
 * `../objects/collection-ops.ts`.
 *
 * @module
 */
import { createCollection, removeCollection } from '../objects/collection-ops.js';
import { collInp } from '../objects/requests.js';
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const collectionRoutes: ApiRoute[] = [
  {
    api: 681,
    name: 'COLL_CREATE_AN',
    handle: async (req, ctx) => {
      await createCollection(ctx, collInp(req));
      return { status: 0 };
    },
  },
  {
    api: 679,
    name: 'RM_COLL_AN',
    handle: async (req, ctx) => removeCollection(ctx, collInp(req)),
  },
];
