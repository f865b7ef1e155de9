/**
 * OPR_COMPLETE_AN 626, as iRODS 4.2.12 `rsOprComplete.cpp` answers it: the
 * client's end of a put or get whose bytes it moved through the descriptor
 * (`portal-operations.ts`), sent with that descriptor, or with a negative
 * status when its transfer failed (4.2.12 `rcDataObjPut.cpp`,
 * `rcDataObjGet.cpp`).
 *
 * - 2 and up: the descriptor is closed (`rsDataObjClose`); a write open
 *   with `oprType` PUT_OPR (a put's) is finished as a put (`put.ts`
 *   {@link closePut}: size and checksum checked, then committed). The
 *   close's error is the answer;
 *   else 0 (`SYS_HANDLER_DONE_NO_ERROR`, which `sendApiReply` answers as 0).
 *   A number no descriptor can have is `SYS_FILE_DESC_OUT_OF_RANGE`, one not
 *   open `SYS_INVALID_INPUT_PARAM` (4.2.12 `rsDataObjClose` finds no
 *   `dataObjInp` on a free descriptor before it looks at `inuseFlag`).
 * - 0 and 1: nothing to close; 0.
 * - negative: that status is the answer, and the connection's portal
 *   transfer, if any, ends as failed: a put stores nothing.
 *
 * @module
 */
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { DescriptorTable } from './descriptors.js';
import { closeDataObject } from './open-close.js';
import { endPortal, failPortal, OPR_TYPE } from './portal-operations.js';
import { closePut } from './put.js';
import { descriptorRequest } from './requests.js';

/** Serves a 626 with `retval` (`INT_PI`); the reply's status. */
export async function completeOperation(ctx: ApiContext, retval: number): Promise<number> {
  if (retval < 0) {
    await failPortal(ctx);
    return retval;
  }
  if (retval < 2) return 0;
  const table = DescriptorTable.of(ctx.connection);
  let writable: boolean;
  try {
    ({ writable } = table.get(retval));
  } catch (err) {
    if (err instanceof IrodsError && err.codeName === 'BAD_INPUT_DESC_INDEX') throw new IrodsError('SYS_INVALID_INPUT_PARAM', `descriptor ${retval} is not open`);
    throw err;
  }
  endPortal(ctx, retval);
  // a read open's close checks nothing, whatever its oprType (4.2.12 `close_replica` returns first for O_RDONLY)
  if (writable && table.factsOf(retval).request.oprType === OPR_TYPE.put) await closePut(ctx, retval);
  else await closeDataObject(ctx, descriptorRequest(retval));
  return 0;
}
