/**
 * The data object calls that take a path rather than a descriptor: stat,
 * unlink, checksum, copy and truncate (rename is `rename.ts`).
 *
 * Who may do what, as an iRODS 4.3.5 server decides it (`db_plugin.cpp`,
 * `rsDataObjUnlink.cpp`): unlinking needs `delete_object` or `own` on the
 * object, which here is `own` (see `removal-rules.ts`); a checksum needs
 * read; a copy read on the source and write where it lands.
 *
 * @module
 */
import { createdOf, type EntryRow } from '../../store/embedded/catalog.js';
import type { ApiContext } from '../server/api.js';
import type { PiMessage } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';
import { irodsTime } from './irods-time.js';
import { logicalPath, statPathOf } from './logical-path.js';
import { commitWrite, noDataObject, requireWritable } from './open-close.js';
import { claimForWrite } from './write-claims.js';
import { WritableObject } from './open-objects.js';
import { entryAt, requireLevel, type SeenEntry } from './permission-checks.js';
import { resourceForWrite } from './placement.js';
import { refuseAdminModeOfUser, removesForGood, requireRemovable } from './removal-rules.js';
import { requireWithinMax } from './size-limit.js';
import { KW, type DataObjRequest } from './requests.js';
import { answering } from './store-errors.js';

/** `objType` of `RodsObjStat_PI` (iRODS 4.3.5 `rodsType.h`: DATA_OBJ_T 1, COLL_OBJ_T 2). */
export const OBJ_TYPE = { object: 1, collection: 2 } as const;
/**
 * `oprType` of an unregister (iRODS 4.3.5 `dataObjInpOut.h`): the catalog
 * entry goes, the file stays. Here the vault copy goes too: bytes of a
 * registered file were copied into the vault (`../registration/`), and the
 * file they came from is never touched.
 */
export const UNREG_OPR = 26;

/**
 * The stat of `path` as `RodsObjStat_PI` (fields in the order of iRODS 4.3.5
 * `rodsPackInstruct.h`; the `SpecColl_PI` pointer is null, which XML packing
 * leaves out) and the reply status, the object type, as `rsObjStat` returns
 * it. What the user may not read is answered as absent
 * (`USER_FILE_DOES_NOT_EXIST`): an iRODS server stats through GenQuery, which
 * under strict access control (this server's rule) shows only readable entries.
 * So `/`, whose ACL holds only the admin's own, is a collection to a
 * rodsadmin and absent to anyone else (iRODS 4.2.12 `collStat`).
 */
export function statPath(ctx: ApiContext, req: DataObjRequest): { status: number; body: PiMessage } {
  const path = statPathOf(ctx.store, req.objPath);
  const found = statEntryAt(ctx, path);
  if (!found) throw new IrodsError('USER_FILE_DOES_NOT_EXIST', `${path} does not exist or is not readable by ${ctx.user.name}`);
  const { row } = found;
  const objType = row.kind === 'o' ? OBJ_TYPE.object : OBJ_TYPE.collection;
  return {
    status: objType,
    body: {
      name: 'RodsObjStat_PI',
      fields: {
        objSize: row.kind === 'o' ? row.size : 0,
        objType,
        dataMode: 0,
        dataId: String(row.id),
        chksum: row.checksum ?? '',
        ownerName: row.owner,
        ownerZone: ctx.store.zone,
        createTime: irodsTime(createdOf(row)),
        modifyTime: irodsTime(row.modified),
      },
    },
  };
}

/** The entry a stat of `path` shows the user (see {@link statPath}): undefined when there is none or the user may not read it. */
export function statEntryAt(ctx: ApiContext, path: string): SeenEntry | undefined {
  const found = entryAt(ctx, path);
  return found && found.level >= 1 ? found : undefined;
}

/** The data object at `path` with the user's level on it; the not-found answer otherwise. */
function dataObjectAt(ctx: ApiContext, path: string): { row: EntryRow; level: number } {
  const found = entryAt(ctx, path);
  if (!found) throw noDataObject(path);
  if (found.row.kind !== 'o') throw noDataObject(path, 'a collection, not a data object');
  return found;
}

/** Unlinks a data object: into the user's trash, or for good (see {@link removesForGood}). */
export async function unlinkDataObject(ctx: ApiContext, req: DataObjRequest): Promise<void> {
  const path = logicalPath(ctx.store, req.objPath);
  refuseAdminModeOfUser(ctx, req.keywords);
  if (req.oprType === UNREG_OPR) return unregisterDataObject(ctx, path);
  const { row, level } = dataObjectAt(ctx, path);
  requireRemovable(ctx, path, row, level, 'remove');
  if (removesForGood(ctx, path, req.keywords)) await answering(() => ctx.store.removeObject(path), 'CAT_NO_ROWS_FOUND');
  else await answering(() => ctx.store.trash(path, { user: ctx.user.name }), 'CAT_NO_ROWS_FOUND');
}

/**
 * Unregisters a data object: removes it with its vault copy (see
 * {@link UNREG_OPR}). As iRODS 4.3.5 `rsDataObjUnlink` decides: the user
 * needs the access an unlink needs; then only a rodsadmin may unregister a
 * replica that lies in a vault (`CANT_UNREG_IN_VAULT_FILE`), and every
 * replica here does.
 */
async function unregisterDataObject(ctx: ApiContext, path: string): Promise<void> {
  const { row, level } = dataObjectAt(ctx, path);
  requireRemovable(ctx, path, row, level, 'unregister');
  if (!ctx.access.isAdmin(ctx.user)) {
    throw new IrodsError('CANT_UNREG_IN_VAULT_FILE', `${path} lies in the store's vault: only a rodsadmin may unregister it`);
  }
  await answering(() => ctx.store.removeObject(path), 'CAT_NO_ROWS_FOUND');
}

/**
 * The checksum of a data object as `STR_PI` (MD5 hex, as iRODS writes an MD5
 * checksum). `verifyChksum`: the bytes are hashed again and must match the
 * catalog (`USER_CHKSUM_MISMATCH`); `forceChksum`: the bytes are hashed again
 * and the catalog takes that value.
 */
export async function checksumDataObject(ctx: ApiContext, req: DataObjRequest): Promise<PiMessage> {
  const path = logicalPath(ctx.store, req.objPath);
  const { row, level } = dataObjectAt(ctx, path);
  requireLevel(ctx, path, level, 'read', 'checksum it');
  let checksum = row.checksum;
  if (req.keywords.has(KW.verifyChksum)) checksum = await answering(() => ctx.store.checksum(path, { verify: true }), 'CAT_NO_ROWS_FOUND');
  if (req.keywords.has(KW.forceChksum) || !checksum) checksum = await recomputeChecksum(ctx, path, row);
  return { name: 'STR_PI', fields: { myStr: checksum } };
}

/** The MD5 of the object `row` (at `path`) computed from its bytes, and registered in the catalog when it differs from the row's. */
export async function recomputeChecksum(ctx: ApiContext, path: string, row: EntryRow): Promise<string> {
  const [actual] = await answering(() => ctx.store.computeChecksums([path]), 'CAT_NO_ROWS_FOUND');
  if (actual !== row.checksum) registerChecksum(ctx, row, actual);
  return actual;
}

/** Stores a recomputed checksum, unless the object was replaced meanwhile (its new bytes came with their own). */
function registerChecksum(ctx: ApiContext, hashed: EntryRow, checksum: string): void {
  const core = ctx.store.protocolCore();
  core.write(() => {
    const now = core.row(hashed.path);
    if (now?.vault_id !== hashed.vault_id) return;
    core.q.updateObject.run(now.size, checksum, now.vault_id, now.modified, now.id);
  });
}

/**
 * Copies a data object's bytes to a new object (or, with `forceFlag`, over
 * one), as iRODS 4.3.5 `rsDataObjCopy`: the source must be a data object
 * (`USER_INPUT_PATH_ERR`), an existing destination needs `forceFlag`
 * (`OVERWRITE_WITHOUT_FORCE_FLAG`); with `verifyChksum` the copy's MD5 must
 * equal the source's. Answers the `TransferStat_PI` iRODS answers.
 */
export async function copyDataObject(ctx: ApiContext, src: DataObjRequest, dest: DataObjRequest): Promise<PiMessage> {
  const { from, source } = copySourceOf(ctx, src.objPath);
  if (!dest.objPath.startsWith('/')) throw new IrodsError('USER_INPUT_PATH_ERR', `cannot copy to ${dest.objPath}: not an absolute path`);
  const to = logicalPath(ctx.store, dest.objPath);
  if (from === to) throw new IrodsError('USER_INPUT_PATH_ERR', `cannot copy ${from} onto itself`);
  requireLevel(ctx, from, source.level, 'read', 'copy it');
  const there = entryAt(ctx, to);
  if (there?.row.kind === 'o' && !dest.keywords.has(KW.force)) {
    throw new IrodsError('OVERWRITE_WITHOUT_FORCE_FLAG', `${to} exists; overwriting it needs the ${KW.force} keyword`);
  }
  requireWritable(ctx, to);
  const resource = resourceForWrite(ctx, there?.row.kind === 'o' ? there.row.vault_id : null, dest.keywords);
  const core = ctx.store.protocolCore();
  const claim = claimForWrite(core, to, there?.row.kind === 'o' ? { id: there.row.id, vaultId: there.row.vault_id } : null);
  try {
    const copy = await answering(() =>
      WritableObject.open(core, to, { copyOf: core.read(() => core.sourceOf(source.row)), readable: false, append: false, changed: true, resource, claim, maxBytes: ctx.maxObjectBytes }),
    );
    const finished = (await copy.finish())!;
    const { staged } = finished;
    if (dest.keywords.has(KW.verifyChksum) && source.row.checksum && staged.md5 !== source.row.checksum) {
      core.vault.discard(staged);
      throw new IrodsError('USER_CHKSUM_MISMATCH', `the copy of ${from} at ${to} has checksum ${staged.md5}, the source ${source.row.checksum}; nothing was stored`);
    }
    await commitWrite(ctx, to, staged, new Map(), claim.opened);
    return { name: 'TransferStat_PI', fields: { numThreads: 0, flags: 0, bytesWritten: staged.size } };
  } finally {
    claim.release();
  }
}

/**
 * The data object a copy reads. iRODS 4.2.12 `rsDataObjCopy` answers
 * `USER_INPUT_PATH_ERR` before anything else when the source is not a data
 * object (a relative path, one in a zone it does not know, nothing there) or
 * the destination is relative (irods/irods#4796; python-irodsclient 3.3.0
 * `data_obj_test.py` `*_irods4796`).
 */
function copySourceOf(ctx: ApiContext, raw: string): { from: string; source: SeenEntry } {
  let from: string;
  try {
    from = logicalPath(ctx.store, raw);
  } catch (err) {
    if (err instanceof IrodsError) throw new IrodsError('USER_INPUT_PATH_ERR', `cannot copy ${raw}: ${err.message}`);
    throw err;
  }
  const source = entryAt(ctx, from);
  if (!source || source.row.kind !== 'o') throw new IrodsError('USER_INPUT_PATH_ERR', `${from} is not a data object`);
  return { from, source };
}

/** Cuts a data object to `dataSize` bytes, or extends it with zeros (iRODS 4.3.5 `rsDataObjTruncate`). */
export async function truncateDataObject(ctx: ApiContext, req: DataObjRequest): Promise<void> {
  const path = logicalPath(ctx.store, req.objPath);
  const { row, level } = dataObjectAt(ctx, path);
  requireLevel(ctx, path, level, 'write', 'truncate it');
  if (req.dataSize < 0) throw new IrodsError('USER_API_INPUT_ERR', `cannot truncate ${path} to ${req.dataSize} bytes`);
  if (req.dataSize === row.size) return;
  // before the open copies the object's bytes for nothing
  requireWithinMax(path, req.dataSize, ctx.maxObjectBytes, 'truncate');
  const core = ctx.store.protocolCore();
  const claim = claimForWrite(core, path, { id: row.id, vaultId: row.vault_id });
  try {
    const obj = await answering(() =>
      WritableObject.open(core, path, {
        copyOf: core.read(() => core.sourceOf(row)),
        readable: false,
        append: false,
        changed: false,
        resource: resourceForWrite(ctx, row.vault_id, new Map()),
        claim,
        maxBytes: ctx.maxObjectBytes,
      }),
    );
    try {
      await obj.truncate(req.dataSize);
    } catch (err) {
      await obj.release();
      throw err;
    }
    const finished = await obj.finish();
    if (finished) await commitWrite(ctx, path, finished.staged, new Map(), claim.opened);
  } finally {
    claim.release();
  }
}
