/**
 * Open, create, read, write, seek and close of data objects over the
 * protocol, and the commit that makes a write open's bytes the object.
 *
 * Permissions as an iRODS server checks them (iRODS 4.3.5 `rsDataObjOpen`,
 * `getDataObjInfo`, `db_reg_data_obj_op`): reading needs read on the object,
 * writing an existing object write on it, creating one write on its
 * collection; the commit checks again, as the catalog may have changed
 * while the bytes were arriving.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { parentPath } from '../../store/paths.js';
import type { StoreCore } from '../../store/embedded/core.js';
import type { EntryRow } from '../../store/embedded/catalog.js';
import { isStagedBytes, type ObjectSource, type Staged } from '../../store/embedded/vault.js';
import { thisProcess } from '../../store/embedded/process-holders.js';
import type { PutTarget } from '../../store/embedded/objects.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import { DescriptorTable, OPEN_TYPE, type OpenFacts } from './descriptors.js';
import { logicalPath } from './logical-path.js';
import { openMode, type OpenMode } from './open-flags.js';
import { ReadOnlyBytes, ReadOnlyObject, WritableObject, type OpenObject, type ReplyBytes, type WriteStart } from './open-objects.js';
import { entryAt, requireLevel, type SeenEntry } from './permission-checks.js';
import { resourceForWrite } from './placement.js';
import { KW, type DataObjRequest, type OpenedDataObjRequest } from './requests.js';
import { asIrodsError } from './store-errors.js';
import { SharedWriteView, sharedWriteOf, type SharedWrite } from './shared-writes.js';
import { claimForWrite, type OpenedObject } from './write-claims.js';

/**
 * What a create opens: iRODS 4.3.5 `rsDataObjCreate` is an open with
 * `O_CREAT | O_RDWR | O_TRUNC` (an existing object is overwritten, given
 * write access).
 */
const CREATE: OpenMode = { read: true, write: true, create: true, exclusive: false, truncate: true, append: false };

/**
 * The answer for a data object that is not there. iRODS 4.2.9 and later
 * answer `OBJ_PATH_DOES_NOT_EXIST` (-358000), a code python-irodsclient
 * 0.8.1 does not know (it fails with a KeyError); earlier servers passed on
 * the catalog query's `CAT_NO_ROWS_FOUND`, which it knows.
 */
export function noDataObject(path: string, detail = 'no data object there'): IrodsError {
  return new IrodsError('CAT_NO_ROWS_FOUND', `${path}: ${detail}`);
}

/**
 * Throws unless the user may store bytes at `path` now: write on the object
 * there, or on the collection a new one goes into.
 */
export function requireWritable(ctx: ApiContext, path: string): void {
  requireWritableAt(ctx, path, entryAt(ctx, path));
}

/** {@link requireWritable} with what {@link entryAt} gave for `path`; the parent collection read here unless given (a commit read it). */
function requireWritableAt(ctx: ApiContext, path: string, found: SeenEntry | undefined, parentKey?: PutTarget['parent']): void {
  if (found) {
    if (found.row.kind === 'c') throw new IrodsError('CAT_NAME_EXISTS_AS_COLLECTION', `${path} is a collection`);
    requireLevel(ctx, path, found.level, 'write', 'write it');
    return;
  }
  const parent = parentPath(path);
  // only the parent's id and kind count: its key, not its whole row
  const coll = parentKey ?? ctx.store.protocolCore().keyOf(parent);
  if (!coll || coll.kind !== 'c') throw new IrodsError('CAT_UNKNOWN_COLLECTION', `collection ${parent} does not exist`);
  requireLevel(ctx, parent, ctx.access.levelOnEntry(ctx.user, coll.id), 'write', `create ${path} in it`);
}

/** {@link requireWritable} over what a commit found at `path` (see {@link PutTarget}). */
function requireWritableFound(ctx: ApiContext, path: string, target: PutTarget): void {
  const row = target.existing;
  requireWritableAt(ctx, path, row && { row, level: ctx.access.levelOnEntry(ctx.user, row.id) }, target.parent);
}

/** What an open opens, once its checks passed; a write open names the object it found (null: the open creates it). */
type OpenPlan = { read: true; source: ObjectSource; size: number } | { read: false; start: Omit<WriteStart, 'claim'>; opened: OpenedObject | null };

/** The checks of an open, against one snapshot of the catalog; what to open. */
function planOpen(ctx: ApiContext, path: string, mode: OpenMode, keywords: ReadonlyMap<string, string>): OpenPlan {
  // a create reads the parent's key with the path's entry, as a new object's checks need it (one statement for two)
  let parentKey: PutTarget['parent'];
  let found: SeenEntry | undefined;
  if (mode.create && mode.write) {
    const at = ctx.store.protocolCore().idAndParentKey(path);
    parentKey = at.parent;
    found = at.id === null ? undefined : entryAt(ctx, path);
  } else found = entryAt(ctx, path);
  if (found?.row.kind === 'c') {
    if (mode.write) throw new IrodsError('CAT_NAME_EXISTS_AS_COLLECTION', `${path} is a collection`);
    throw noDataObject(path, 'a collection, not a data object');
  }
  if (!mode.write) {
    if (!found) throw noDataObject(path);
    requireLevel(ctx, path, found.level, 'read', 'read it');
    return { read: true, source: ctx.store.protocolCore().sourceOf(found.row), size: found.row.size };
  }
  if (found) {
    if (mode.create && mode.exclusive) throw new IrodsError('CAT_NAME_EXISTS_AS_DATAOBJ', `${path} exists (O_EXCL)`);
    requireLevel(ctx, path, found.level, 'write', 'write it');
    const copyOf = mode.truncate ? undefined : ctx.store.protocolCore().sourceOf(found.row);
    const resource = resourceForWrite(ctx, found.row.vault_id, keywords);
    return { read: false, opened: { id: found.row.id, vaultId: found.row.vault_id }, start: { copyOf, readable: mode.read, append: mode.append, changed: mode.truncate, keywords, resource, maxBytes: ctx.maxObjectBytes } };
  }
  if (!mode.create) throw noDataObject(path);
  requireWritableAt(ctx, path, found, parentKey);
  return { read: false, opened: null, start: { readable: mode.read, append: mode.append, changed: true, keywords, resource: resourceForWrite(ctx, null, keywords), maxBytes: ctx.maxObjectBytes } };
}

/**
 * Opens (or with `create`, creates) a data object; returns its descriptor:
 * at once when the open needs no file (a new object, or one whose bytes the
 * catalog keeps), else once the file is open.
 */
export function openDataObject(ctx: ApiContext, req: DataObjRequest, create: boolean): number | Promise<number> {
  const mode = create ? CREATE : openMode(req.openFlags);
  const path = mode.create ? createPathOf(ctx, req.objPath) : logicalPath(ctx.store, req.objPath);
  const table = DescriptorTable.of(ctx.connection);
  table.assertRoom();
  const core = ctx.store.protocolCore();
  const token = mode.write ? req.keywords.get(KW.replicaToken) : undefined;
  const shared = token ? sharedWriteOf(core, token, path) : undefined;
  if (shared) return joinSharedWrite(ctx, table, path, shared, req);
  // one read transaction for all the lookups (each statement alone would take its own locks)
  const plan = core.read(() => planOpen(ctx, path, mode, req.keywords));
  if (plan.read) return openForRead(table, core, path, plan.source, plan.size, { request: req, openType: OPEN_TYPE.read });
  const facts: OpenFacts = { request: req, openType: plan.opened ? OPEN_TYPE.write : OPEN_TYPE.create };
  // a parallel transfer looks the new object up before its bytes arrive: it is in the catalog from the open on
  const registered = plan.opened === null && req.keywords.has(KW.numThreads) ? registerNewObject(ctx, path, plan.start.resource) : null;
  const claim = claimForWrite(core, path, registered ?? plan.opened);
  if (registered) claim.abandon = () => dropRegistered(core, registered);
  const start = { ...plan.start, claim };
  let now: WritableObject | undefined;
  try {
    now = WritableObject.openInMemory(core, path, start);
  } catch (err) {
    claim.abandon?.();
    claim.release();
    throw err;
  }
  // nothing to release for an object without a file but its claim (room was checked above)
  if (now) return table.add(now, facts);
  return (async () => {
    let obj: WritableObject;
    try {
      obj = await WritableObject.open(core, path, start);
    } catch (err) {
      claim.abandon?.();
      claim.release();
      throw err;
    }
    return addOrRelease(table, obj, facts);
  })();
}

/**
 * {@link logicalPath} of an open that may create. A relative path there is
 * `CAT_UNKNOWN_COLLECTION`: the collection it would go into is not found
 * (iRODS 4.2.9 to 4.2.x, as python-irodsclient 3.3.0 `data_obj_test.py`
 * `test_create_from_invalid_path__250` records; 4.3 answers
 * `SYS_INVALID_FILE_PATH`, 4.2.8 and earlier `SYS_INVALID_INPUT_PARAM`).
 */
export function createPathOf(ctx: ApiContext, raw: string): string {
  if (raw !== '' && !raw.startsWith('/')) throw new IrodsError('CAT_UNKNOWN_COLLECTION', `no collection is there to create ${raw} in: a path starts with /${ctx.store.zone}`);
  return logicalPath(ctx.store, raw);
}

/**
 * Registers a new object at `path` for a write open, owned by the user, as
 * iRODS registers every new object at its open (an intermediate replica):
 * empty and without a checksum until the open's close commits its bytes.
 * Only for opens that announce a parallel transfer: other opens commit the
 * object whole at their close, in one transaction. Marked as held by this
 * process, so that if the process ends before the close, the next server
 * start (or fsck) removes it.
 */
function registerNewObject(ctx: ApiContext, path: string, resource: string | undefined): OpenedObject {
  const core = ctx.store.protocolCore();
  const staged = core.vault.stagedBytes(Buffer.alloc(0), '', resource);
  try {
    ctx.store.commitObjects([{ path, staged, owner: ctx.user.name, heldBy: thisProcess() }], [], (found) => requireWritableFound(ctx, path, found[0]!));
  } catch (err) {
    throw asIrodsError(err);
  }
  return { id: core.read(() => core.keyOf(path))!.id, vaultId: staged.id };
}

/** Removes what {@link registerNewObject} registered, if it is still that empty row (wherever a rename took it). */
function dropRegistered(core: StoreCore, registered: OpenedObject): void {
  core.write(() => {
    const path = core.objectPathOf(registered.id, registered.vaultId);
    const row = path === undefined ? undefined : core.row(path);
    if (row) core.deleteObjectRow(row);
  });
}

/** An open with the replica token of a shared write: a new descriptor on it, for a user who may write the object. */
function joinSharedWrite(ctx: ApiContext, table: DescriptorTable, path: string, shared: SharedWrite, req: DataObjRequest): number {
  const core = ctx.store.protocolCore();
  core.read(() => requireWritable(ctx, path));
  return table.add(new SharedWriteView(shared, false, 0), { request: req, openType: OPEN_TYPE.write });
}

/** {@link openDataObject} for reading: at once for bytes the catalog keeps, else once the file is open. */
function openForRead(table: DescriptorTable, core: StoreCore, path: string, source: ObjectSource, size: number, facts: OpenFacts): number | Promise<number> {
  if (source.bytes) return table.add(new ReadOnlyBytes(path, source.bytes), facts);
  return ReadOnlyObject.open(core, path, source, size).then((obj) => addOrRelease(table, obj, facts));
}

/** Registers `obj` under a descriptor, releasing it when none is free. */
async function addOrRelease(table: DescriptorTable, obj: OpenObject, facts: OpenFacts): Promise<number> {
  try {
    return table.add(obj, facts);
  } catch (err) {
    await obj.release();
    throw err;
  }
}

/** Reads up to `len` bytes at the descriptor's offset, for a reply (see {@link ReplyBytes}). */
export function readDataObject(ctx: ApiContext, req: OpenedDataObjRequest): Promise<ReplyBytes> {
  return DescriptorTable.of(ctx.connection).get(req.l1descInx).readForReply(req.len);
}

/** Writes `data` (one buffer, or pieces in order) at the descriptor's offset; returns the byte count (at once for bytes kept in memory). */
export function writeDataObject(ctx: ApiContext, req: OpenedDataObjRequest, data: Buffer | readonly Buffer[]): number | Promise<number> {
  const obj = DescriptorTable.of(ctx.connection).get(req.l1descInx);
  if (!obj.writable) return obj.write();
  return obj.write(data);
}

/**
 * Drops the object open under descriptor `inx` without closing it, as when
 * its connection ends: a write stores nothing and leaves no temp file.
 */
export function dropDataObject(ctx: ApiContext, inx: number): Promise<void> {
  return DescriptorTable.of(ctx.connection).take(inx).release();
}

/** Moves the descriptor's offset; returns the new one. */
export function seekDataObject(ctx: ApiContext, req: OpenedDataObjRequest): number {
  return DescriptorTable.of(ctx.connection).get(req.l1descInx).seek(req.offset, req.whence);
}

/**
 * Closes a descriptor. A write open's bytes become the object (new, or
 * replacing the one there) in one catalog transaction, with their MD5; a
 * write open that changed nothing leaves the object as it was. At once
 * (undefined) for bytes that go into the catalog, else a promise.
 */
export function closeDataObject(ctx: ApiContext, req: OpenedDataObjRequest): void | Promise<void> {
  const obj = DescriptorTable.of(ctx.connection).take(req.l1descInx);
  if (obj instanceof ReadOnlyBytes) return;
  if (obj instanceof SharedWriteView) return closeSharedView(ctx, obj, req.keywords);
  if (!obj.writable) return obj.release();
  return closeWrite(ctx, obj, req.keywords);
}

/** The close of a write open: its bytes committed, its claim released, what its open registered dropped if they were not. */
function closeWrite(ctx: ApiContext, obj: WritableObject, keywords: ReadonlyMap<string, string>): void | Promise<void> {
  const { claim } = obj;
  const failed = (err: unknown): never => {
    claim.abandon?.();
    claim.release();
    throw err;
  };
  let done: void | Promise<void>;
  try {
    done = finishWrite(ctx, obj, keywords);
  } catch (err) {
    return failed(err);
  }
  if (!done) return claim.release();
  return done.then(() => claim.release(), failed);
}

/** The close of a shared write's descriptor: the first commits every part's bytes once they are written; another ends its part. */
async function closeSharedView(ctx: ApiContext, view: SharedWriteView, keywords: ReadonlyMap<string, string>): Promise<void> {
  const { shared } = view;
  if (view.first) shared.end('the first descriptor of the parallel transfer was closed');
  await shared.drain();
  if (view.first) await closeWrite(ctx, shared.obj, keywords);
}

/** The close of a write open: its bytes committed as the object it opened (at once for bytes that go into the catalog). */
function finishWrite(ctx: ApiContext, obj: WritableObject, closeKeywords: ReadonlyMap<string, string>): void | Promise<void> {
  const keywordsOf = (): ReadonlyMap<string, string> => (closeKeywords.size === 0 ? obj.keywords : new Map([...obj.keywords, ...closeKeywords]));
  const now = obj.finishNow();
  if (now === null) return;
  if (now) return commitWrite(ctx, obj.path, now.staged, keywordsOf(), obj.claim.opened);
  return (async () => {
    const finished = await obj.finish();
    if (finished) await commitWrite(ctx, obj.path, finished.staged, keywordsOf(), obj.claim.opened);
  })();
}

/**
 * Commits staged bytes as the object that a write open opened: `opened`
 * wherever it is now (a rename keeps it), or for `opened` null a new
 * object at `path`. Checks again that the user may write
 * there, and (with `verifyChksum` and a client's `chksum`, MD5 hex or
 * `sha2:` base64) that the bytes are what the client sent. An object
 * removed since the open is not made again, and a new one another writer
 * made since is not replaced: the close fails then. The staged file is
 * placed or discarded, never left behind.
 */
export function commitWrite(ctx: ApiContext, path: string, staged: Staged, keywords: ReadonlyMap<string, string>, opened: OpenedObject | null): void | Promise<void> {
  const { vault } = ctx.store.protocolCore();
  const rejected = (err: unknown): never => {
    vault.discard(staged);
    throw asIrodsError(err);
  };
  let checked: void | Promise<void>;
  try {
    checked = verifyClientChecksum(path, staged, keywords);
  } catch (err) {
    return rejected(err);
  }
  if (checked) return checked.then(() => commitChecked(ctx, path, staged, opened), rejected);
  commitChecked(ctx, path, staged, opened);
}

/** The commit of {@link commitWrite} once the client's checksum matched. */
function commitChecked(ctx: ApiContext, openedAt: string, staged: Staged, opened: OpenedObject | null): void {
  const core = ctx.store.protocolCore();
  const path = opened === null ? openedAt : core.read(() => core.objectPathOf(opened.id, opened.vaultId));
  if (path === undefined) {
    core.vault.discard(staged);
    throw noDataObject(openedAt, 'removed while it was open for writing; nothing was stored');
  }
  try {
    // the checks run in the commit's transaction: no one changes the access, or the object, in between
    ctx.store.commitObjects([{ path, staged, owner: ctx.user.name, overwrite: true }], [], (found) => {
      const target = found[0]!;
      const { existing } = target;
      if (opened === null ? existing !== undefined : existing?.id !== opened.id || existing.vault_id !== opened.vaultId) throw changedWhileOpen(path, opened, existing);
      requireWritableFound(ctx, path, target);
    });
  } catch (err) {
    throw asIrodsError(err);
  }
}

/** The answer when the object a write open opened is no longer the one at its path at the close (`existing`: what is there now). */
function changedWhileOpen(path: string, opened: OpenedObject | null, existing: EntryRow | undefined): IrodsError {
  if (opened !== null) return noDataObject(path, 'moved, removed or replaced while it was open for writing; nothing was stored');
  const [code, what] = existing?.kind === 'c' ? (['CAT_NAME_EXISTS_AS_COLLECTION', 'A collection'] as const) : (['CAT_NAME_EXISTS_AS_DATAOBJ', 'Another writer'] as const);
  return new IrodsError(code, `${path}: ${what} took this path while the new object was open for writing; nothing was stored`);
}

/** Throws (or rejects, for a file it hashes) unless the staged bytes have the checksum the client sent, when it asked for the check. */
function verifyClientChecksum(path: string, staged: Staged, keywords: ReadonlyMap<string, string>): void | Promise<void> {
  const expected = keywords.get(KW.chksum) ?? '';
  if (!keywords.has(KW.verifyChksum) || expected === '') return;
  const sha2 = expected.startsWith('sha2:');
  const compare = (actual: string): void => {
    if (sha2 ? actual !== expected : actual !== expected.toLowerCase()) {
      throw new IrodsError('USER_CHKSUM_MISMATCH', `${path}: the client sent checksum ${expected}, the bytes received have ${actual}; nothing was stored`);
    }
  };
  if (!sha2) return compare(staged.md5);
  if (isStagedBytes(staged)) return compare(`sha2:${createHash('sha256').update(staged.bytes).digest('base64')}`);
  return sha256OfFile(staged.tempPath).then((b64) => compare(`sha2:${b64}`));
}

/** SHA-256 of a staged file in base64, as iRODS writes `sha2:` checksums. */
async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}
