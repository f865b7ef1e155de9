/**
 * What every part of the embedded store shares: the open catalog and vault,
 * the one transaction wrapper, row lookups that throw the typed errors, and
 * the layout roots no call may move or remove. Each iRODS concept
 * (collections, objects, metadata, principals, access, trash, admin) is a
 * module over this core; `store.ts` puts them behind one facade.
 *
 * @module
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NotAllowedError, NotFoundError, StoreUnavailableError } from '../errors.js';
import { isInside, normalizePath, parentPath, ROOT_PATH, validateName } from '../paths.js';
import { BusyCheckpoints, type CheckpointReply } from '../../engine/checkpointer.js';
import { ensurePrivateDir } from '../../private-files.js';
import { sqliteBusy } from '../../sqlite-busy.js';
import type { AccessLevel, PageOptions, StoreEntry } from '../types.js';
import { Catalog, subtreeRange, type EntryFacts, type EntryKey, type EntryRow, type PageParams, type PrincipalRow } from './catalog.js';
import { HashPool } from './hash-pool.js';
import { releaseHolderLock, takeHolderLock } from './holder-locks.js';
import { LEVELS, openCatalog } from './schema.js';
import { Vault, type ObjectSource } from './vault.js';
import { STORE_DEFAULTS } from '../../config.js';

/** Options of {@link EmbeddedStore.open}. */
export interface EmbeddedStoreOptions {
  /** Folder holding `catalog.sqlite` and `vault/`; created when missing. */
  dataDir: string;
  /** Zone name, e.g. `omicsZone`. */
  zone: string;
  /** Worker threads reading, hashing and writing object bytes (default: {@link STORE_DEFAULTS}). */
  hashWorkers?: number;
  /** fsync object bytes and vault folders before each commit (default: {@link STORE_DEFAULTS}). */
  sync?: boolean;
  /**
   * Folder puts write, and checksum checks read, object bytes with O_DIRECT,
   * past the page cache; a file system that refuses O_DIRECT gets buffered
   * I/O (default: {@link STORE_DEFAULTS}).
   */
  directWrites?: boolean;
  /**
   * Objects of at most this many bytes keep them in the catalog instead of
   * a vault file (default: {@link STORE_DEFAULTS}; 0: none). Bytes arriving
   * as a stream or assembled in memory are kept there when they end up this
   * small; a folder put's files always get vault files.
   */
  inlineMaxBytes?: number;
  /** Milliseconds a call waits for another process's write (default 15 s), then StoreUnavailable. */
  busyTimeoutMs?: number;
  /**
   * Layout roots beyond the zone, `home` and `trash` (always refused) that
   * this handle refuses to move, remove or trash, with their ancestors: the
   * command line passes the project root. The service's own handle leaves it
   * out, as its cleanup removes the project root by design.
   */
  layoutRoots?: readonly string[];
  /** Milliseconds since 1970 for the times of AVUs (default `Date.now`); tests set it. */
  clock?: () => number;
}

/** Access levels as stored, `null` included (0). */
export const LEVEL_OF: Record<AccessLevel, number> = { null: 0, ...LEVELS };

/** Throws a RangeError for a level that is not one of {@link AccessLevel}. */
export function checkLevel(level: AccessLevel): number {
  if (!(level in LEVEL_OF)) throw new RangeError(`unknown access level: ${level}`);
  return LEVEL_OF[level];
}

/** A catalog row (or the facts of one, with its path) as the interface's {@link StoreEntry}. */
export function toEntry(row: EntryFacts & { path: string }): StoreEntry {
  return {
    path: row.path,
    type: row.kind === 'c' ? 'collection' : 'object',
    owner: row.owner,
    size: row.size,
    checksum: row.checksum,
    inherit: row.inherit === 1,
    modified: row.modified,
  };
}

/**
 * The statement bounds of one page of the listing below `target`; `after`
 * is relative to `target` when the listing is.
 */
export function pageParams(target: string, opts: PageOptions, relative = false): PageParams {
  const { after, limit } = opts;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new RangeError(`page limit must be a positive integer, not ${limit}`);
  }
  const [lo, hi] = subtreeRange(target);
  return {
    lo,
    hi,
    after: after === undefined ? lo : relative ? `${target}/${after}` : after,
    limit: limit ?? -1,
  };
}

/**
 * The key of the parent entry at `parent` from the columns of a raw row
 * (see {@link Catalog.idAndParentKey}); undefined when there is none, and
 * for the root `/`, into which nothing is put. Built as better-sqlite3 builds a row (an
 * empty object, then each column in order), not as a literal: it then has
 * the hidden class of the keys {@link StoreCore.keyOf} reads, and code that
 * gets keys of both kinds (insertChild) sees one class, not two.
 */
export function parentKeyOf(parent: string, id: number | null, kind: EntryKey['kind'] | null, inherit: number | null): EntryKey | undefined {
  if (id === null || parent === ROOT_PATH) return undefined;
  const key = {} as EntryKey;
  key.id = id;
  key.kind = kind!;
  key.inherit = inherit!;
  return key;
}

/** Throws unless the principal `name`, of kind `kind` (undefined or null: none), is a user. */
export function requireUserKind(name: string, kind: PrincipalRow['kind'] | null | undefined): void {
  if (kind !== 'user') throw new NotFoundError(name, 'user');
}

/** The open catalog and vault of one data directory, and the rules every concept module shares. */
export class StoreCore {
  readonly zone: string;
  /** Folder holding the catalog and the vault. */
  readonly dataDir: string;
  /** `/<zone>`. */
  readonly zoneRoot: string;
  /** `/<zone>/trash`. */
  readonly trashRoot: string;
  readonly vault: Vault;
  readonly db: Database.Database;
  readonly q: Catalog;
  readonly pool: HashPool;
  /** Worker threads hashing and staging bytes. */
  readonly hashWorkers: number;
  /** See {@link EmbeddedStoreOptions.clock}. */
  readonly clock: () => number;
  /** Collections that may not be moved, removed or trashed, nor may their ancestors. */
  private readonly protectedPaths: Set<string>;
  private closed = false;
  /** See {@link StoreCore.readOnlyCatalog}. */
  private readOnly: Database.Database | undefined;
  /** This process's liveness lock in the store's data folder, as holder-locks.ts keys it. */
  private readonly holderLock: string;
  /** See {@link StoreCore.transactionOf}. */
  private tx: Database.Transaction<(fn: () => unknown) => unknown> | undefined;
  /**
   * A busy handle (the service's) checkpoints in a worker thread. A
   * checkpoint copies the WAL into the catalog file and fsyncs both: run by
   * this (synchronous) connection every 1000 pages, as SQLite does by
   * default, it stalled the event loop for milliseconds every few dozen zone
   * moves; the worker's PASSIVE checkpoints never block this connection's
   * writes (engine/checkpointer.ts).
   */
  private readonly checkpoints: BusyCheckpoints;

  constructor(opts: EmbeddedStoreOptions) {
    const { dataDir, zone } = opts;
    this.dataDir = dataDir;
    validateName(zone, 'zone name');
    this.zone = zone;
    this.zoneRoot = `/${zone}`;
    this.trashRoot = `/${zone}/trash`;
    this.protectedPaths = new Set([this.zoneRoot, `/${zone}/home`, this.trashRoot]);
    for (const r of opts.layoutRoots ?? []) this.protectedPaths.add(normalizePath(r, zone));
    try {
      ensurePrivateDir(dataDir, { tighten: true });
    } catch (err) {
      throw new StoreUnavailableError(dataDir, (err as Error).message);
    }
    this.db = openCatalog(join(dataDir, 'catalog.sqlite'), zone, opts.busyTimeoutMs);
    // a failed open leaves nothing open: a process retrying it would otherwise keep a catalog handle per attempt
    try {
      this.q = new Catalog(this.db);
      this.checkpoints = new BusyCheckpoints(this.db);
      this.hashWorkers = opts.hashWorkers ?? STORE_DEFAULTS.hashWorkers;
      this.clock = opts.clock ?? Date.now;
      this.pool = new HashPool(this.hashWorkers);
      this.vault = new Vault(join(dataDir, 'vault'), opts.sync ?? STORE_DEFAULTS.sync, this.pool, opts.directWrites ?? STORE_DEFAULTS.directWrites, {
        inlineMax: opts.inlineMaxBytes ?? STORE_DEFAULTS.inlineMaxBytes,
      });
      // last, so that a failed open holds no lock; what this process writes into the store names it as holder
      this.holderLock = takeHolderLock(this.vault.holdersDir);
    } catch (err) {
      this.db.close();
      // a folder the store cannot make or use (its message names the path) is the store being unavailable
      if (typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).syscall) {
        throw new StoreUnavailableError(dataDir, (err as Error).message);
      }
      throw err;
    }
  }

  /** Checks and normalises a logical path of this zone. */
  normalize(path: string): string {
    return normalizePath(path, this.zone);
  }

  /**
   * The one transaction wrapper every call goes through: better-sqlite3
   * builds a wrapper (four variants, each with properties) per
   * `db.transaction()`, which cost more than the reads it wrapped.
   */
  private transactionOf(): Database.Transaction<(fn: () => unknown) => unknown> {
    return (this.tx ??= this.db.transaction((fn: () => unknown) => fn()));
  }

  /** Runs `fn` as one write transaction, turning a lock timeout into StoreUnavailable. */
  write<T>(fn: () => T): T {
    this.assertOpen();
    try {
      const result = this.transactionOf().immediate(fn) as T;
      this.checkpoints.committed();
      return result;
    } catch (err) {
      if (sqliteBusy(err)) throw new StoreUnavailableError(this.dataDir, 'catalog locked by another process for too long');
      throw err;
    }
  }

  /**
   * Runs `fn`'s statements as one read transaction (one snapshot across
   * them). A single statement is consistent on its own and needs none.
   */
  read<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return this.transactionOf().deferred(fn) as T;
    } catch (err) {
      if (sqliteBusy(err)) throw new StoreUnavailableError(this.dataDir, 'catalog locked by another process for too long');
      throw err;
    }
  }

  /**
   * Runs one checkpoint in the worker now and says what it did; undefined
   * while this handle has none (see {@link StoreCore.checkpoints}). For tests and tools.
   */
  async checkpointInWorker(): Promise<CheckpointReply | undefined> {
    return this.checkpoints.checkpointNow();
  }

  assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(this.dataDir, 'store is closed');
  }

  row(path: string): EntryRow | undefined {
    this.assertOpen();
    return this.q.entry.get(path);
  }

  /** The id, kind and inheritance of the entry at `path` (see {@link EntryKey}), if any. */
  keyOf(path: string): EntryKey | undefined {
    this.assertOpen();
    return this.q.entryKey.get(path);
  }

  /**
   * The id of the entry at `path` (null: none) and the key of the entry at
   * its parent path (undefined: none, or `path` is right below the root),
   * from one statement.
   */
  idAndParentKey(path: string): { id: number | null; parent: EntryKey | undefined } {
    this.assertOpen();
    const parent = parentPath(path);
    const [id, parentId, kind, inherit] = this.q.idAndParentKey.get(path, parent)!;
    return { id, parent: parentKeyOf(parent, parentId, kind, inherit) };
  }

  /**
   * The path now of the data object with catalog id `id` and its bytes at
   * `vaultId` (a rename keeps both); undefined when there is none: removed,
   * or its bytes replaced.
   */
  objectPathOf(id: number, vaultId: string | null): string | undefined {
    this.assertOpen();
    return this.q.objectPathOf.get(id, vaultId);
  }

  /** {@link keyOf}, or NotFound naming what `kind` asks for (any entry when not given). */
  mustKey(path: string, kind?: 'collection' | 'object'): EntryKey {
    const key = this.keyOf(path);
    if (!key || (kind !== undefined && key.kind !== kind[0])) throw new NotFoundError(path, kind);
    return key;
  }

  mustEntry(path: string): EntryRow {
    const row = this.row(path);
    if (!row) throw new NotFoundError(path);
    return row;
  }

  mustCollection(path: string): EntryRow {
    const row = this.row(path);
    if (!row || row.kind !== 'c') throw new NotFoundError(path, 'collection');
    return row;
  }

  mustObject(path: string): EntryRow {
    const row = this.row(path);
    if (!row || row.kind !== 'o') throw new NotFoundError(path, 'object');
    return row;
  }

  mustUser(name: string): void {
    requireUserKind(name, this.q.principal.get(name)?.kind);
  }

  mustGroup(name: string): void {
    const p = this.q.principal.get(name);
    if (!p || p.kind !== 'group') throw new NotFoundError(name, 'group');
  }

  /** The parent collection a new entry at `path` goes into. */
  parentFor(path: string): EntryKey {
    const parent = parentPath(path);
    if (parent === ROOT_PATH) throw new NotAllowedError(path, 'the zone root cannot be created or replaced');
    return this.mustKey(parent, 'collection');
  }

  /** Inserts a collection or object row, with the parent's ACL when it inherits, and `own` for the owner; returns its key. */
  insertChild(
    parent: EntryKey,
    fields: { path: string; kind: 'c' | 'o'; owner: string; size?: number; checksum?: string | null; vault_id?: string | null; modified?: string },
  ): EntryKey {
    const inherits = parent.inherit === 1;
    const inherit = inherits && fields.kind === 'c' ? 1 : 0;
    // a new entry is made when it is first written
    const made = fields.modified ?? new Date().toISOString();
    const id = Number(
      this.q.insertEntry.run(
        fields.path,
        parent.id,
        fields.kind,
        fields.owner,
        fields.size ?? 0,
        fields.checksum ?? null,
        fields.vault_id ?? null,
        inherit,
        made,
        made,
      ).lastInsertRowid,
    );
    if (inherits) this.q.copyAcl.run(id, parent.id);
    this.q.upsertAcl.run(id, fields.owner, LEVELS.own);
    return { id, kind: fields.kind, inherit };
  }

  /**
   * Where the bytes of the object `row` are: in the catalog (a small object,
   * see {@link EmbeddedStoreOptions.inlineMaxBytes}) or in its vault file.
   * The one place that tells the two apart: every reader of object bytes
   * asks here. Call it in the transaction that read `row`; a row read
   * earlier whose object was rewritten since gets the file of its old id,
   * which is gone (as for a vault file).
   */
  sourceOf(row: Pick<EntryRow, 'id' | 'vault_id'>): ObjectSource {
    const bytes = row.vault_id === null ? undefined : this.q.objectBytes.get(row.id, row.vault_id);
    return bytes === undefined ? { file: this.vault.filePath(row.vault_id!) } : { bytes };
  }

  /** Now as iRODS writes a time in its catalog: seconds since 1970, 11 digits (iRODS 4.2.12 `getNowStr`). */
  irodsNow(): string {
    return String(Math.floor(this.clock() / 1000)).padStart(11, '0');
  }

  /** Deletes one entry row with its metadata and ACL (not its subtree). */
  deleteRow(row: EntryKey): void {
    this.q.deleteAvusOf.run(row.id);
    this.q.deleteAclOf.run(row.id);
    this.q.deleteEntry.run(row.id);
  }

  /**
   * Deletes a data object's row with its metadata and ACL, and with its
   * bytes when the catalog keeps them (schema.ts's trigger); returns its
   * vault file, if it has one, which the caller removes only after the
   * commit (a rolled-back removal must still find its bytes).
   */
  deleteObjectRow(row: EntryRow): string | undefined {
    const { file } = this.sourceOf(row);
    this.deleteRow(row);
    return file;
  }

  /** Refuses a layout root or a collection holding one (moving `/z/a` would move the root `/z/a/projects`). */
  refuseProtected(path: string, what: string): void {
    const root = this.protectedRootAt(path);
    if (root === undefined) return;
    const which = root === path ? 'a layout root' : `a collection holding the layout root ${root}`;
    throw new NotAllowedError(path, `${what} ${which} (${[...this.protectedPaths].join(', ')} stay in place)`);
  }

  /** The layout root at or below `path`, if any. */
  protectedRootAt(path: string): string | undefined {
    for (const root of this.protectedPaths) if (root === path || isInside(root, path)) return root;
    return undefined;
  }

  /**
   * A second connection to the catalog, opened read-only (SQLite refuses
   * every write on it), made on first use and closed with the store: for
   * SQL the store did not write (checking a specific query at its
   * registration; queries run on connections of their own, in other processes).
   * It sees every table; what such SQL may read is its user's to restrict.
   */
  readOnlyCatalog(): Database.Database {
    this.assertOpen();
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    return (this.readOnly ??= new Database(this.db.name, { readonly: true, fileMustExist: true, timeout }));
  }

  /** Closes the catalog and the worker threads; later calls fail with StoreUnavailable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // a closed store's folder may be removed at once: wait for the worker's connection to close too
    const workerEnded = this.checkpoints.stop();
    await this.pool.close();
    this.readOnly?.close();
    this.db.close();
    releaseHolderLock(this.holderLock);
    await workerEnded;
  }
}
