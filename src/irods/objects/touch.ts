/**
 * The work of the touch API (`TOUCH_APN` 20007, `itouch`, python-irodsclient
 * 2.1.0 and later `data_objects.touch` / `collections.touch`): set the modify
 * time of a data object or collection, creating an empty data object where
 * there is none. Its input and the checks of it are `touch-input.ts`.
 *
 * The facts, from iRODS 4.2.12 `plugins/api/src/touch.cpp` (`rs_touch`),
 * `lib/filesystem/src/filesystem.cpp`, `lib/core/include/replica.hpp`,
 * `lib/core/include/transport/default_transport.hpp`,
 * `plugins/database/src/db_plugin.cpp` and `scripts/irods/test/test_itouch.py`:
 * - The path is first looked up with a stat as the client sees it. Where
 *   the client sees nothing: `no_create` answers 0 and does nothing; a
 *   `replica_number` is `OBJ_PATH_DOES_NOT_EXIST` (a replica number never
 *   creates); else an empty data object is created by an open with
 *   `O_CREAT | O_WRONLY | O_TRUNC` and a close, on `leaf_resource_name` when
 *   given (an unknown one is `SYS_RESC_DOES_NOT_EXIST`, one with children
 *   `USER_INVALID_RESC_INPUT`: there are none here). A failed open is not
 *   reported: the stream only records it. So the path is looked up again, and
 *   still nothing there (a missing collection, no write where the object
 *   goes, an object the client cannot see) is
 *   `CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION`.
 * - The new time: the `reference`'s modify time (nothing the client sees
 *   there: `INVALID_OBJECT_TYPE`), `seconds_since_epoch`, or now, in whole
 *   seconds. It is found before the target's own checks below.
 * - A collection: `replica_number` or `leaf_resource_name` is
 *   `USER_INCOMPATIBLE_PARAMS`; then `rsModColl` needs `modify_object`
 *   (write) on it, which a rodsadmin does not need (`CAT_NO_ACCESS_PERMISSION`).
 * - A data object: the replica is the one numbered (none such:
 *   `SYS_REPLICA_DOES_NOT_EXIST`), the one on the resource named (none:
 *   the same), else the good replica with the latest modify time (no good
 *   one: `SYS_NO_GOOD_REPLICA`); then `rsModDataObjMeta` needs
 *   `modify_metadata`, which `write` grants (`CAT_NO_ACCESS_PERMISSION`).
 * - Success answers 0 and no body.
 *
 * Here: every object has one replica, number 0, on the resource its bytes
 * are on. An object open for writing has no good replica (on an iRODS
 * server of 4.2.9 and later its replica is intermediate until the close),
 * so a touch that names none is `SYS_NO_GOOD_REPLICA`; one that names it
 * sets the time, which the close then replaces, as there. A new object an
 * open is writing has no catalog row here until its close (iRODS registers
 * it at the open): a touch sees nothing there and cannot create it, so it
 * is `CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION`. The stat sees what the
 * client may read (this server's rule, see `object-ops.ts` `statPath`), and a rodsadmin
 * has `own` everywhere (`../permissions.ts`), where 4.2.12's
 * `rsModDataObjMeta` would want an ACL on the object from a rodsadmin too.
 * 4.2.12 lets a client that has not logged in call touch (`NO_USER_AUTH`;
 * 4.3.5 asks for a login, `REMOTE_USER_AUTH`); here every API asks for one.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { resourceOfVaultId } from '../../store/embedded/resources.js';
import { StoreError } from '../../store/errors.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { logicalPath, statPathOf } from './logical-path.js';
import { statEntryAt } from './object-ops.js';
import { requireWritable } from './open-close.js';
import { requireLevel } from './permission-checks.js';
import { resourceForWrite } from './placement.js';
import { KW } from './requests.js';
import { answering } from './store-errors.js';
import type { TouchInput } from './touch-input.js';
import { heldForWrite } from './write-claims.js';

/** The MD5 of no bytes: what the close of an empty new object stores as its checksum here. */
const EMPTY_MD5 = createHash('md5').digest('hex');

/**
 * Creates an empty data object at `path` owned by the client, as an open
 * with `O_CREAT` and a close would (write on the collection it goes into,
 * nothing there yet), on `leaf` when given. The resource's check is
 * reported; any other failure is not (see the module's facts).
 */
function createEmptyObject(ctx: ApiContext, path: string, leaf: string | undefined): void {
  const core = ctx.store.protocolCore();
  const resource = core.read(() => resourceForWrite(ctx, null, leaf === undefined ? new Map() : new Map([[KW.destResc, leaf]])));
  // a write open creating the object holds the path until its close
  if (heldForWrite(core, path)) return;
  try {
    ctx.store.commitObjects([{ path, staged: core.vault.stagedBytes(Buffer.alloc(0), EMPTY_MD5, resource), owner: ctx.user.name }], [], () =>
      requireWritable(ctx, path),
    );
  } catch (err) {
    if (err instanceof IrodsError || err instanceof StoreError) return;
    throw err;
  }
}

/** The new modify time, in seconds since the epoch: the reference's, the one given, or now. */
function newTime(ctx: ApiContext, input: TouchInput): number {
  if (input.reference !== undefined) {
    const ref = statPathOf(ctx.store, input.reference);
    const found = ctx.store.protocolCore().read(() => statEntryAt(ctx, ref));
    if (!found) throw new IrodsError('INVALID_OBJECT_TYPE', `the reference ${ref} is neither a data object nor a collection ${ctx.user.name} can see`);
    return Math.floor(Date.parse(found.row.modified) / 1000);
  }
  return input.seconds ?? Math.floor(Date.now() / 1000);
}

/** Throws unless the object (catalog id `id`, bytes on `resource`) has the replica the input names, or a good one when it names none. */
function requireReplica(ctx: ApiContext, path: string, id: number, resource: string, input: TouchInput): void {
  if (input.replicaNumber !== undefined) {
    if (input.replicaNumber !== 0) throw new IrodsError('SYS_REPLICA_DOES_NOT_EXIST', `${path} has no replica ${input.replicaNumber} (its one replica is number 0)`);
  } else if (input.leafResource !== undefined) {
    if (input.leafResource !== resource) throw new IrodsError('SYS_REPLICA_DOES_NOT_EXIST', `${path} has no replica on ${input.leafResource} (its one replica is on ${resource})`);
  } else if (heldForWrite(ctx.store.protocolCore(), id)) {
    throw new IrodsError('SYS_NO_GOOD_REPLICA', `${path} is open for writing: its replica is not good until the close (name replica 0 to touch it anyway)`);
  }
}

/** A touch (see the module's facts). */
export async function touch(ctx: ApiContext, input: TouchInput): Promise<void> {
  const path = logicalPath(ctx.store, input.logicalPath);
  const core = ctx.store.protocolCore();
  let found = core.read(() => statEntryAt(ctx, path));
  if (!found) {
    if (input.noCreate) return;
    if (input.replicaNumber !== undefined) throw new IrodsError('OBJ_PATH_DOES_NOT_EXIST', `nothing at ${path}, and a replica number never creates a data object`);
    createEmptyObject(ctx, path, input.leafResource);
    found = core.read(() => statEntryAt(ctx, path));
  }
  if (!found) throw new IrodsError('CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION', `no data object or collection ${ctx.user.name} can see is at ${path}, and none could be created there`);
  const seconds = newTime(ctx, input);
  const { row, level } = found;
  if (row.kind === 'c') {
    if (input.replicaNumber !== undefined || input.leafResource !== undefined) {
      throw new IrodsError('USER_INCOMPATIBLE_PARAMS', `${path} is a collection: "replica_number" and "leaf_resource_name" are for data objects`);
    }
  } else {
    requireReplica(ctx, path, row.id, resourceOfVaultId(row.vault_id ?? ''), input);
  }
  requireLevel(ctx, path, level, 'write', 'set its modify time');
  await answering(() => ctx.store.setModified(path, new Date(seconds * 1000)), 'CAT_NO_ROWS_FOUND');
}
