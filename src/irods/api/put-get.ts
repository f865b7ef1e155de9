/**
 * The put and get of iCommands (`iput`, `iget`): DATA_OBJ_PUT_AN 606,
 * DATA_OBJ_GET_AN 608 and OPR_COMPLETE_AN 626 (API numbers and packing of
 * iRODS 4.2.12 `apiNumberData.h`, `apiTable.hpp`: 606 takes a
 * `DataObjInp_PI` and bytes and answers a `PortalOprOut_PI`; 608 takes a
 * `DataObjInp_PI` and answers a `PortalOprOut_PI` and bytes; 626 takes an
 * `INT_PI`). Bytes travel in the request or reply, or through the
 * descriptor with 676/675; never through a portal. The work is in
 * `../objects/` (`put.ts`, `get.ts`, `operation-complete.ts`).
 *
 * @module
 */
import { getDataObject } from '../objects/get.js';
import { completeOperation } from '../objects/operation-complete.js';
import { putDataObject } from '../objects/put.js';
import { dataObjInp, intInp } from '../objects/requests.js';
import type { ApiRoute } from '../server/api.js';
import { STRUCT_AND_BYTES } from '../server/api-inputs.js';

/** The routes of this module. */
export const putGetRoutes: ApiRoute[] = [
  {
    api: 606,
    name: 'DATA_OBJ_PUT_AN',
    inputs: STRUCT_AND_BYTES,
    handle: (req, ctx) => putDataObject(ctx, dataObjInp(req), req.bsParts ?? req.bs),
  },
  {
    api: 608,
    name: 'DATA_OBJ_GET_AN',
    handle: (req, ctx) => getDataObject(ctx, dataObjInp(req)),
  },
  {
    api: 626,
    name: 'OPR_COMPLETE_AN',
    handle: async (req, ctx) => ({ status: await completeOperation(ctx, intInp(req)) }),
  },
];
