/**
 * What a put (606) or get (608) answers when its bytes do not travel with
 * the request or reply itself, and how the transfer is then tied to its
 * connection until the client completes it (626).
 *
 * iRODS 4.2.12 moves an object no larger than the single-buffer bound
 * inside the put's request or the get's reply; a larger one through a
 * "portal": `rsDataObjPut` / `rsDataObjGet` answer a `PortalOprOut_PI` with
 * the descriptor (`l1descInx`) and a thread count, and when that count is
 * zero the client moves the bytes itself through that descriptor on the same
 * connection, with write 676 or read 675 (4.2.12 `rcDataObjPut.cpp`,
 * `rcDataObjGet.cpp`: `numThreads <= 0` calls `putFile` / `getFile` of
 * `rcPortalOpr.cpp`), then sends OPR_COMPLETE_AN 626 with the descriptor.
 * This server opens no portal sockets: it always answers zero threads.
 *
 * The server answers the portal reply and keeps serving that connection's
 * requests "in a branch" until the 626 (4.2.12 `rsApiHandler.cpp`
 * `sendAndRecvBranchMsg`); a 626 with a negative status (the client's
 * transfer failed) ends the branch, and the put or get is closed as failed
 * (4.2.12 `rsDataObjPut.cpp` `parallel_transfer_put`, `rsDataObjGet.cpp`
 * `parallel_transfer_get`). Here that branch is the connection's
 * {@link beginPortal} record.
 *
 * @module
 */
import type { ApiContext } from '../server/api.js';
import type { PiMessage } from '../wire/pi-values.js';
import { DescriptorTable } from './descriptors.js';
import type { OpenObject } from './open-objects.js';
import { dropDataObject } from './open-close.js';

/** `oprType` of a put and a get (4.2.12 `dataObjInpOut.h`); a descriptor opened with `PUT_OPR` is finished as a put at its 626. */
export const OPR_TYPE = { put: 1, get: 2 } as const;

/**
 * Largest object that travels inside a put's request or a get's reply: 32
 * MiB, the default of both sides' setting (4.2.12 server
 * `maximum_size_for_single_buffer_in_megabytes`,
 * `packaging/server_config.json.template`; client
 * `irods_maximum_size_for_single_buffer_in_megabytes`, `getRodsEnv.cpp`).
 * 4.2.12 `rodsDef.h` has no constant for it.
 */
export const SINGLE_BUFFER_BYTES = 32 * 1024 * 1024;

/**
 * A `PortalOprOut_PI` (4.2.12 `rodsPackInstruct.h`: `int status; int
 * l1descInx; int numThreads; str chksum[NAME_LEN]; struct PortList_PI;`,
 * `PortList_PI`: `int portNum; int cookie; int sock; int windowSize; str
 * hostAddr[LONG_NAME_LEN];`) with zero threads, so no portal: what 4.2.12
 * `setupSrvPortalForParaOpr` leaves zeroed when `getNumThreads` gives 0.
 * `l1descInx` 0 in a single-buffer get's reply, which 4.2.12 allocates
 * zeroed and fills only with the checksum.
 */
export function portalOprOut(l1descInx: number, chksum = ''): PiMessage {
  return {
    name: 'PortalOprOut_PI',
    fields: {
      status: 0,
      l1descInx,
      numThreads: 0,
      chksum,
      PortList_PI: { portNum: 0, cookie: 0, sock: 0, windowSize: 0, hostAddr: '' },
    },
  };
}

/** The portal transfer a connection is in: its descriptor and the object open under it. */
interface Portal {
  readonly inx: number;
  readonly obj: OpenObject;
}

const KEY = Symbol('irods.objects.portal');

/** Records that the connection's client now moves the bytes of descriptor `inx` itself, until its 626. */
export function beginPortal(ctx: ApiContext, inx: number): void {
  const obj = DescriptorTable.of(ctx.connection).peek(inx);
  if (obj) ctx.connection.state.set(KEY, { inx, obj } satisfies Portal);
}

/** Ends the record of {@link beginPortal} for descriptor `inx` (it is being completed). */
export function endPortal(ctx: ApiContext, inx: number): void {
  if ((ctx.connection.state.get(KEY) as Portal | undefined)?.inx === inx) ctx.connection.state.delete(KEY);
}

/**
 * Ends the connection's portal transfer as failed: its descriptor is
 * dropped (a put stores nothing). Nothing when there is none, or when its
 * descriptor no longer holds what the put or get opened (closed already).
 */
export async function failPortal(ctx: ApiContext): Promise<void> {
  const portal = ctx.connection.state.get(KEY) as Portal | undefined;
  if (!portal) return;
  ctx.connection.state.delete(KEY);
  if (DescriptorTable.of(ctx.connection).peek(portal.inx) === portal.obj) await dropDataObject(ctx, portal.inx);
}
