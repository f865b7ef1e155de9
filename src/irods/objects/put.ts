/**
 * DATA_OBJ_PUT_AN 606, as iRODS 4.2.12 serves it to iCommands' `iput`
 * (`server/api/src/rsDataObjPut.cpp`; what the client sends:
 * `lib/core/src/putUtil.cpp`, `lib/api/src/rcDataObjPut.cpp`).
 *
 * A put is an open with `O_CREAT | O_RDWR | O_TRUNC` (`single_buffer_put`,
 * `parallel_transfer_put`), so it is the create of `open-close.ts` here,
 * with its permissions, write lock, size bound and commit at the close:
 * - with the keyword `dataIncluded` (the client sends it for a file no
 *   larger than its single-buffer bound) the bytes are the request's own
 *   (its `bs`): open, one write, close, and the reply is the status alone
 *   (no body: 4.2.12 leaves `portalOprOut` null);
 * - without it the reply is status 0 and a `PortalOprOut_PI` with the
 *   descriptor and zero threads (`portal-operations.ts`); the client writes
 *   the bytes with 676 and completes with 626 (`operation-complete.ts`),
 *   whose close finishes the put as {@link closePut} does.
 *
 * Before the open, an existing entry at the path (a data object or
 * collection, as the client's stat sees it) without `forceFlag` is
 * `OVERWRITE_WITHOUT_FORCE_FLAG` (4.2.12 `server_utilities.cpp`
 * `is_force_flag_required`: the filesystem's `exists`, an objStat), and a
 * forced put naming in `destRescName` a resource the object has no replica
 * on is `HIERARCHY_ERROR` (`throw_if_force_put_to_new_resource`).
 *
 * @module
 */
import { resourceOfVaultId } from '../../store/embedded/resources.js';
import type { ApiContext, ApiReply } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { DescriptorTable } from './descriptors.js';
import { statEntryAt } from './object-ops.js';
import { closeDataObject, createPathOf, dropDataObject, openDataObject, writeDataObject } from './open-close.js';
import { O_CREAT, O_RDWR, O_TRUNC } from './open-flags.js';
import { beginPortal, OPR_TYPE, portalOprOut } from './portal-operations.js';
import { descriptorRequest, KW, type DataObjRequest } from './requests.js';

/**
 * The keywords a put's open carries, for the checks of its close. 4.2.12
 * `objDesc.cpp` `fillL1desc`: `regChksum` (iput -k, empty) registers the
 * checksum the server computes and verifies nothing; otherwise
 * `verifyChksum` (iput -K) carries the client's checksum of its file, which
 * the bytes must have. The close here verifies `chksum` when `verifyChksum`
 * is there (`commitWrite`); the catalog always gets the bytes' MD5.
 */
function openKeywords(keywords: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map(keywords);
  out.delete(KW.chksum);
  if (out.has(KW.regChksum)) out.delete(KW.verifyChksum);
  else if (out.has(KW.verifyChksum)) out.set(KW.chksum, out.get(KW.verifyChksum)!);
  return out;
}

/** Throws as 4.2.12 refuses a put before opening anything (see the module's description). */
function refuseBeforeOpen(ctx: ApiContext, path: string, keywords: ReadonlyMap<string, string>): void {
  const found = statEntryAt(ctx, path);
  if (!found) return;
  if (!keywords.has(KW.force)) throw new IrodsError('OVERWRITE_WITHOUT_FORCE_FLAG', `${path} exists; iput -f (the ${KW.force} keyword) overwrites it`);
  const named = keywords.get(KW.destResc);
  const vaultId = found.row.kind === 'o' ? found.row.vault_id : null;
  if (named && vaultId !== null && resourceOfVaultId(vaultId) !== named) {
    throw new IrodsError('HIERARCHY_ERROR', `cannot force put ${path} to resource ${named.slice(0, 100)}: the object has no replica there`);
  }
}

/** Serves a put; `data` is the request's bytes (one buffer, or its pieces in order). */
export async function putDataObject(ctx: ApiContext, req: DataObjRequest, data: Buffer | readonly Buffer[]): Promise<ApiReply> {
  const path = createPathOf(ctx, req.objPath);
  ctx.store.protocolCore().read(() => refuseBeforeOpen(ctx, path, req.keywords));
  const open: DataObjRequest = { ...req, openFlags: O_CREAT | O_RDWR | O_TRUNC, oprType: OPR_TYPE.put, keywords: openKeywords(req.keywords) };
  const inx = await openDataObject(ctx, open, true);
  if (!req.keywords.has(KW.dataIncluded)) {
    beginPortal(ctx, inx);
    return { status: 0, body: portalOprOut(inx) };
  }
  const len = Buffer.isBuffer(data) ? data.length : data.reduce((n, p) => n + p.length, 0);
  try {
    await writeDataObject(ctx, descriptorRequest(inx, len), data);
  } catch (err) {
    await dropDataObject(ctx, inx);
    throw err;
  }
  await closePut(ctx, inx);
  return { status: 0 };
}

/**
 * Closes the descriptor of a put as 4.2.12 finishes one (`finalize_replica`
 * for a single buffer, `rsDataObjClose.cpp` `close_replica` after a 626),
 * checking in its order: the size, then the checksum. A size other than
 * the put's `dataSize` (when above 0 and without `noChkCopyLen`) is
 * `SYS_COPY_LEN_ERR` (`finalize_utilities.cpp` `get_size_in_vault`); an
 * empty `verifyChksum` matches no checksum, `USER_CHKSUM_MISMATCH` (the
 * comparison of `finalize_replica`); the client's checksum is compared at
 * the commit. Refused, the put stores nothing (4.2.12 keeps a stale replica
 * with the bytes instead).
 */
export async function closePut(ctx: ApiContext, inx: number): Promise<void> {
  const table = DescriptorTable.of(ctx.connection);
  const { size } = table.get(inx);
  const { request } = table.factsOf(inx);
  const refusal =
    request.dataSize > 0 && !request.keywords.has(KW.noChkCopyLen) && size !== request.dataSize
      ? new IrodsError('SYS_COPY_LEN_ERR', `${request.objPath}: the put announced ${request.dataSize} bytes and sent ${size}; nothing was stored`)
      : request.keywords.get(KW.verifyChksum) === ''
        ? new IrodsError('USER_CHKSUM_MISMATCH', `${request.objPath}: verifyChksum without a checksum matches none; nothing was stored`)
        : undefined;
  if (refusal) {
    await dropDataObject(ctx, inx);
    throw refusal;
  }
  await closeDataObject(ctx, descriptorRequest(inx));
}
