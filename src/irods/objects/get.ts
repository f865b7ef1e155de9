/**
 * DATA_OBJ_GET_AN 608, as iRODS 4.2.12 serves it to iCommands' `iget`
 * (`server/api/src/rsDataObjGet.cpp`; what the client sends:
 * `lib/core/src/getUtil.cpp`, `lib/api/src/rcDataObjGet.cpp`).
 *
 * A get is a read open (`O_RDONLY`), so it is the open of `open-close.ts`
 * here, with its answers: nothing there, or a collection there, is
 * `CAT_NO_ROWS_FOUND` (4.2.12 finds no data object row for the path:
 * `irods_resource_redirect.cpp` passes on `file_object_factory`'s error),
 * no read access `CAT_NO_ACCESS_PERMISSION`. Then, by the object's size:
 * - up to the single-buffer bound: one read of the whole object and the
 *   close (`single_buffer_get`); the reply's status is the close's, 0, its
 *   body a `PortalOprOut_PI` holding only the checksum, its bytes the
 *   object's, which the client writes to its file (`rcDataObjGet`: status
 *   0 or bytes mean the data is included);
 * - above: the reply's status is the descriptor, its body the
 *   `PortalOprOut_PI` with that descriptor and zero threads
 *   (`parallel_transfer_get`); the client reads with 675 until a read
 *   answers 0 bytes and completes with 626 (`operation-complete.ts`).
 *
 * With `verifyChksum` (iget -K) the reply carries the object's checksum,
 * computed and registered first when the catalog has none
 * (`dataObjChksumAndReg`), for the client to compare with its file's.
 *
 * @module
 */
import type { ApiContext, ApiReply } from '../server/api.js';
import { DescriptorTable } from './descriptors.js';
import { logicalPath } from './logical-path.js';
import { recomputeChecksum } from './object-ops.js';
import { closeDataObject, dropDataObject, openDataObject, readDataObject } from './open-close.js';
import { O_RDONLY } from './open-flags.js';
import type { ReplyBytes } from './open-objects.js';
import { entryAt } from './permission-checks.js';
import { beginPortal, OPR_TYPE, portalOprOut, SINGLE_BUFFER_BYTES } from './portal-operations.js';
import { descriptorRequest, KW, type DataObjRequest } from './requests.js';

/** The checksum a get with `verifyChksum` answers for the object now at `path` ('' when it went meanwhile). */
async function checksumFor(ctx: ApiContext, path: string): Promise<string> {
  const row = entryAt(ctx, path)?.row;
  if (!row || row.kind !== 'o') return '';
  return row.checksum || recomputeChecksum(ctx, path, row);
}

/** Serves a get. */
export async function getDataObject(ctx: ApiContext, req: DataObjRequest): Promise<ApiReply> {
  const inx = await openDataObject(ctx, { ...req, openFlags: O_RDONLY, oprType: OPR_TYPE.get }, false);
  let chksum = '';
  try {
    if (req.keywords.has(KW.verifyChksum)) chksum = await checksumFor(ctx, logicalPath(ctx.store, req.objPath));
  } catch (err) {
    await dropDataObject(ctx, inx);
    throw err;
  }
  const { size } = DescriptorTable.of(ctx.connection).get(inx);
  if (size > SINGLE_BUFFER_BYTES) {
    beginPortal(ctx, inx);
    return { status: inx, body: portalOprOut(inx, chksum) };
  }
  let read: ReplyBytes;
  try {
    read = await readDataObject(ctx, descriptorRequest(inx, size));
  } catch (err) {
    await closeDataObject(ctx, descriptorRequest(inx));
    throw err;
  }
  try {
    await closeDataObject(ctx, descriptorRequest(inx));
  } catch (err) {
    read.sent?.();
    throw err;
  }
  return { status: 0, body: portalOprOut(0, chksum), bs: read.bytes, sent: read.sent };
}
