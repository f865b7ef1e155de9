/**
 * The embedded data store: a SQLite catalog (`catalog.sqlite`) and a vault
 * folder (`vault/`) under one data directory, with iRODS semantics.
 *
 * Every call is one catalog transaction (BEGIN IMMEDIATE, so two processes
 * serialise their writes). Object bytes are staged to a temp file, synced,
 * renamed into the vault inside the write transaction and become visible
 * when it commits; files of removed objects are deleted after the commit. A
 * crash therefore leaves at most orphan vault files, which `fsck` finds.
 *
 * @module
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import {
  AlreadyExistsError,
  ChecksumMismatchError,
  InvalidPathError,
  NotAllowedError,
  NotEmptyError,
  NotFoundError,
  StoreError,
  StoreUnavailableError,
} from '../errors.js';
import { isInside, normalizePath, parentPath, relativePath, validateName } from '../paths.js';
import { ensurePrivateDir } from '../../private-files.js';
import { sqliteBusy } from '../../sqlite-busy.js';
import type {
  AccessLevel,
  AclEntry,
  Avu,
  DataStore,
  FsckReport,
  PageOptions,
  Principal,
  PutOptions,
  StoreEntry,
  UserType,
} from '../types.js';
import { Catalog, subtreeRange, type EntryRow, type PageParams } from './catalog.js';
import { HashError, HashPool } from './hash-pool.js';
import { ADMIN_USER, LEVEL_NAMES, LEVELS, openCatalog, PUBLIC_GROUP } from './schema.js';
import { Vault, type StagedFile } from './vault.js';
import { STORE_DEFAULTS } from '../../config.js';
import { putTree, type PutTreeOptions, type PutTreeResult } from './put-tree.js';

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
  /** Milliseconds a call waits for another process's write (default 15 s), then StoreUnavailable. */
  busyTimeoutMs?: number;
  /**
   * Layout roots beyond the zone, `home` and `trash` (always refused) that
   * this handle refuses to move, remove or trash, with their ancestors: the
   * command line passes the project root. The service's own handle leaves it
   * out, as its cleanup removes the project root by design.
   */
  layoutRoots?: readonly string[];
}

/** A new object ready to be committed: its staged bytes and catalog facts. */
export interface PendingObject {
  path: string;
  staged: StagedFile;
  owner?: string;
  overwrite?: boolean;
}

const LEVEL_OF: Record<AccessLevel, number> = { null: 0, ...LEVELS };

/** What a worker-pool job needs of a catalog row. */
type VaultRow = Pick<EntryRow, 'path' | 'kind' | 'vault_id'>;

function toEntry(row: EntryRow): StoreEntry {
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
function pageParams(target: string, opts: PageOptions, relative = false): PageParams {
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

/** Thrown inside a savepoint to undo a bulk move that did not move everything. */
class PartialMove extends Error {}

/** The embedded {@link DataStore}. Create with {@link EmbeddedStore.open}. */
export class EmbeddedStore implements DataStore {
  readonly zone: string;
  /** Folder holding the catalog and the vault. */
  readonly dataDir: string;
  /** `/<zone>`. */
  readonly zoneRoot: string;
  /** `/<zone>/trash`. */
  readonly trashRoot: string;
  readonly vault: Vault;
  private readonly db: Database.Database;
  private readonly q: Catalog;
  private readonly pool: HashPool;
  /** Worker threads hashing and staging bytes. */
  readonly hashWorkers: number;
  /** Collections that may not be moved, removed or trashed, nor may their ancestors. */
  private readonly protectedPaths: Set<string>;
  private closed = false;
  /** See {@link EmbeddedStore.transactionOf}. */
  private tx: Database.Transaction<(fn: () => unknown) => unknown> | undefined;

  private constructor(opts: EmbeddedStoreOptions) {
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
    this.q = new Catalog(this.db);
    this.hashWorkers = opts.hashWorkers ?? STORE_DEFAULTS.hashWorkers;
    this.pool = new HashPool(this.hashWorkers);
    this.vault = new Vault(join(dataDir, 'vault'), opts.sync ?? STORE_DEFAULTS.sync, this.pool, opts.directWrites ?? STORE_DEFAULTS.directWrites);
  }

  /** Opens (creating when new) the store in `opts.dataDir`. */
  static open(opts: EmbeddedStoreOptions): EmbeddedStore {
    return new EmbeddedStore(opts);
  }

  /** Checks and normalises a logical path of this zone. */
  normalize(path: string): string {
    return normalizePath(path, this.zone);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * The one transaction wrapper every call goes through: better-sqlite3
   * builds a wrapper (four variants, each with properties) per
   * `db.transaction()`, which cost more than the reads it wrapped.
   */
  private transactionOf(): Database.Transaction<(fn: () => unknown) => unknown> {
    return (this.tx ??= this.db.transaction((fn: () => unknown) => fn()));
  }

  /** Runs `fn` as one write transaction, turning a lock timeout into StoreUnavailable. */
  private write<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return this.transactionOf().immediate(fn) as T;
    } catch (err) {
      if (sqliteBusy(err)) throw new StoreUnavailableError(this.dataDir, 'catalog locked by another process for too long');
      throw err;
    }
  }

  /**
   * Runs `fn`'s statements as one read transaction (one snapshot across
   * them). A single statement is consistent on its own and needs none.
   */
  private read<T>(fn: () => T): T {
    this.assertOpen();
    try {
      return this.transactionOf().deferred(fn) as T;
    } catch (err) {
      if (sqliteBusy(err)) throw new StoreUnavailableError(this.dataDir, 'catalog locked by another process for too long');
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(this.dataDir, 'store is closed');
  }

  private row(path: string): EntryRow | undefined {
    this.assertOpen();
    return this.q.entry.get(path);
  }

  private mustEntry(path: string): EntryRow {
    const row = this.row(path);
    if (!row) throw new NotFoundError(path);
    return row;
  }

  private mustCollection(path: string): EntryRow {
    const row = this.row(path);
    if (!row || row.kind !== 'c') throw new NotFoundError(path, 'collection');
    return row;
  }

  private mustObject(path: string): EntryRow {
    const row = this.row(path);
    if (!row || row.kind !== 'o') throw new NotFoundError(path, 'object');
    return row;
  }

  private mustUser(name: string): void {
    const p = this.q.principal.get(name);
    if (!p || p.kind !== 'user') throw new NotFoundError(name, 'user');
  }

  /** The parent collection a new entry at `path` goes into. */
  private parentFor(path: string): EntryRow {
    const parent = parentPath(path);
    if (parent === '/') throw new NotAllowedError(path, 'the zone root cannot be created or replaced');
    return this.mustCollection(parent);
  }

  /** Inserts a collection or object row, with the parent's ACL when it inherits, and `own` for the owner. */
  private insertChild(
    parent: EntryRow,
    fields: { path: string; kind: 'c' | 'o'; owner: string; size?: number; checksum?: string | null; vault_id?: string | null },
  ): number {
    const inherits = parent.inherit === 1;
    const id = Number(
      this.q.insertEntry.run({
        path: fields.path,
        parent_id: parent.id,
        kind: fields.kind,
        owner: fields.owner,
        size: fields.size ?? 0,
        checksum: fields.checksum ?? null,
        vault_id: fields.vault_id ?? null,
        inherit: inherits && fields.kind === 'c' ? 1 : 0,
        modified: new Date().toISOString(),
      }).lastInsertRowid,
    );
    if (inherits) this.q.copyAcl.run(id, parent.id);
    this.q.upsertAcl.run(id, fields.owner, LEVELS.own);
    return id;
  }

  /** Refuses a layout root or a collection holding one (moving `/z/a` would move the root `/z/a/projects`). */
  private refuseProtected(path: string, what: string): void {
    const root = this.protectedRootAt(path);
    if (root === undefined) return;
    const which = root === path ? 'a layout root' : `a collection holding the layout root ${root}`;
    throw new NotAllowedError(path, `${what} ${which} (${[...this.protectedPaths].join(', ')} stay in place)`);
  }

  /** The layout root at or below `path`, if any. */
  private protectedRootAt(path: string): string | undefined {
    for (const root of this.protectedPaths) if (root === path || isInside(root, path)) return root;
    return undefined;
  }

  // ------------------------------------------------------ collections, objects

  async stat(path: string): Promise<StoreEntry | null> {
    const row = this.row(this.normalize(path));
    return row ? toEntry(row) : null;
  }

  async collectionExists(path: string): Promise<boolean> {
    return this.row(this.normalize(path))?.kind === 'c';
  }

  async objectExists(path: string): Promise<boolean> {
    return this.row(this.normalize(path))?.kind === 'o';
  }

  async createCollection(path: string, opts: { parents?: boolean; owner?: string } = {}): Promise<string[]> {
    const target = this.normalize(path);
    const owner = opts.owner ?? ADMIN_USER;
    return this.write(() => {
      this.mustUser(owner);
      return this.createCollectionTx(target, owner, opts.parents ?? false);
    });
  }

  /** Creates `target` (and missing parents when asked) inside the current transaction. */
  private createCollectionTx(target: string, owner: string, parents: boolean): string[] {
    const existing = this.row(target);
    if (existing) {
      if (existing.kind === 'c') return [];
      throw new AlreadyExistsError(target, 'object');
    }
    const missing: string[] = [target];
    let parent = parentPath(target);
    let parentRow = this.row(parent);
    while (!parentRow) {
      if (parent === '/') throw new NotAllowedError(target, 'the zone root cannot be created');
      if (!parents) throw new NotFoundError(parent, 'collection');
      missing.push(parent);
      parent = parentPath(parent);
      parentRow = this.row(parent);
    }
    if (parentRow.kind !== 'c') throw new NotFoundError(parent, 'collection', 'it is a data object');
    missing.reverse();
    for (const p of missing) {
      this.insertChild(parentRow, { path: p, kind: 'c', owner });
      parentRow = this.q.entry.get(p)!;
    }
    return missing;
  }

  async list(path: string, opts: { recursive?: boolean } & PageOptions = {}): Promise<StoreEntry[]> {
    const target = this.normalize(path);
    const page = pageParams(target, opts);
    return this.read(() => {
      const coll = this.mustCollection(target);
      const rows = opts.recursive ? this.q.subtreePage.all(page) : this.q.childrenPage.all({ ...page, parent: coll.id });
      return rows.map(toEntry);
    });
  }

  async listObjectPaths(path: string, opts: { relative?: boolean } & PageOptions = {}): Promise<string[]> {
    const target = this.normalize(path);
    const relative = opts.relative ?? false;
    const page = pageParams(target, opts, relative);
    return this.read(() => {
      this.mustCollection(target);
      return relative ? this.q.objectNamesPage.all({ ...page, base: target }) : this.q.objectPathsPage.all(page);
    });
  }

  async listObjectChecksums(
    path: string,
    opts: { relative?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; checksum: string | null }>> {
    const target = this.normalize(path);
    const relative = opts.relative ?? false;
    const page = pageParams(target, opts, relative);
    return this.read(() => {
      this.mustCollection(target);
      return this.q.objectChecksumsPage.all({ ...page, base: relative ? target : null });
    });
  }

  async removeCollection(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const target = this.normalize(path);
    this.refuseProtected(target, 'cannot remove');
    const ids = this.write(() => {
      const coll = this.mustCollection(target);
      const range = subtreeRange(target);
      if (this.q.firstChild.get(coll.id)) {
        if (!opts.recursive) throw new NotEmptyError(target);
      }
      const vaultIds = this.q.subtreeVaultIds.all(...range).map((r) => r.vault_id);
      this.q.deleteSubtreeAvus.run(...range);
      this.q.deleteSubtreeAcl.run(...range);
      this.q.deleteSubtreeEntries.run(...range);
      this.q.deleteAvusOf.run(coll.id);
      this.q.deleteAclOf.run(coll.id);
      this.q.deleteEntry.run(coll.id);
      return vaultIds;
    });
    this.vault.removeIds(ids);
  }

  async putObject(path: string, source: Readable | string, opts: PutOptions = {}): Promise<StoreEntry> {
    const target = this.normalize(path);
    const owner = opts.owner ?? ADMIN_USER;
    // Fail before streaming when the call cannot succeed; checked again on commit.
    try {
      this.read(() => this.checkPut(target, owner, opts.overwrite ?? false));
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw err;
    }
    const staged = await this.vault.stage(source, opts.onProgress);
    return this.commitObjects([{ path: target, staged, owner, overwrite: opts.overwrite }]).entries[0];
  }

  private checkPut(target: string, owner: string, overwrite: boolean): EntryRow | undefined {
    this.mustUser(owner);
    this.parentFor(target);
    const existing = this.row(target);
    if (existing) {
      if (existing.kind === 'c') throw new AlreadyExistsError(target, 'collection');
      if (!overwrite) throw new AlreadyExistsError(target, 'object');
    }
    return existing;
  }

  /**
   * Places staged files into the vault and commits their catalog rows in one
   * transaction; objects become visible together at the commit. On failure
   * every staged or placed file of the batch is removed. Replaced objects'
   * old files are removed after the commit.
   */
  commitObjects(
    items: readonly PendingObject[],
    collections: readonly string[] = [],
  ): { entries: StoreEntry[]; createdCollections: string[] } {
    const placed = new Set<string>();
    let replaced: string[] = [];
    let createdCollections: string[] = [];
    let entries: StoreEntry[];
    try {
      entries = this.write(() => {
        replaced = [];
        createdCollections = [];
        for (const c of collections) createdCollections.push(...this.createCollectionTx(c, ADMIN_USER, true));
        const rows: EntryRow[] = [];
        const now = new Date().toISOString();
        const checked = items.map((it) => {
          const owner = it.owner ?? ADMIN_USER;
          const existing = this.checkPut(it.path, owner, it.overwrite ?? false);
          return { it, owner, existing };
        });
        const dirs = new Set<string>();
        for (const { it } of checked) {
          if (placed.has(it.staged.tempPath)) continue;
          dirs.add(this.vault.place(it.staged));
          placed.add(it.staged.tempPath);
        }
        this.vault.syncDirs(dirs);
        for (const { it, owner, existing } of checked) {
          const { staged } = it;
          if (existing) {
            this.q.updateObject.run(staged.size, staged.md5, staged.id, now, existing.id);
            if (existing.vault_id) replaced.push(existing.vault_id);
          } else {
            this.insertChild(this.parentFor(it.path), {
              path: it.path,
              kind: 'o',
              owner,
              size: staged.size,
              checksum: staged.md5,
              vault_id: staged.id,
            });
          }
          rows.push(this.row(it.path)!);
        }
        return rows.map(toEntry);
      });
    } catch (err) {
      for (const it of items) {
        if (placed.has(it.staged.tempPath)) this.vault.removeFile(this.vault.filePath(it.staged.id));
        else this.vault.discard(it.staged);
      }
      throw err;
    }
    this.vault.removeIds(replaced);
    return { entries, createdCollections };
  }

  /**
   * Puts a local folder, recursively, into the collection `path` (created
   * when missing, with parents). Files are staged a few at a time and
   * committed in batches; each object appears atomically, but a failure
   * leaves the objects of earlier batches in place.
   */
  async putTree(localDir: string, path: string, opts: PutTreeOptions = {}): Promise<PutTreeResult> {
    const target = this.normalize(path);
    return putTree(this, localDir, target, opts);
  }

  async getObject(path: string): Promise<Readable> {
    const target = this.normalize(path);
    const row = this.read(() => this.mustObject(target));
    const file = this.vault.filePath(row.vault_id!);
    const stream = fs.createReadStream(file);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new NotFoundError(target, 'file', 'vault file missing: run fsck') : err),
      );
    });
    return stream;
  }

  async removeObject(path: string): Promise<void> {
    const target = this.normalize(path);
    const vaultId = this.write(() => {
      const row = this.mustObject(target);
      this.q.deleteAvusOf.run(row.id);
      this.q.deleteAclOf.run(row.id);
      this.q.deleteEntry.run(row.id);
      return row.vault_id;
    });
    if (vaultId) this.vault.removeIds([vaultId]);
  }

  async move(src: string, dst: string): Promise<void> {
    const from = this.normalize(src);
    const to = this.normalize(dst);
    this.write(() => this.moveTx(from, to));
  }

  async moveMany(moves: ReadonlyArray<{ src: string; dst: string }>, opts: { revoke?: readonly string[] } = {}): Promise<void> {
    const norm = moves.map((m) => ({ src: this.normalize(m.src), dst: this.normalize(m.dst) }));
    const revoke = opts.revoke ?? [];
    this.write(() => {
      // one timestamp, and one lookup per target collection, for the whole batch (thousands of files into a few folders)
      const now = new Date().toISOString();
      const parents = new Map<string, EntryRow>();
      if (!this.moveObjectsAtOnce(norm, now, parents)) for (const m of norm) this.moveTx(m.src, m.dst, now, parents);
      if (revoke.length === 0) return;
      const paths = JSON.stringify(norm.map((m) => m.dst));
      for (const name of revoke) this.q.deleteAclAtPaths.run({ name, paths });
    });
  }

  /**
   * The common case of {@link moveMany}: objects only, into existing
   * collections, nothing in the way. One statement moves them all (a call
   * per object cost more than the row updates themselves). Anything else
   * (a collection, a missing source, an occupied target) undoes it, and
   * returns false so the caller moves one by one and reports exactly what
   * failed.
   */
  private moveObjectsAtOnce(moves: ReadonlyArray<{ src: string; dst: string }>, now: string, parents: Map<string, EntryRow>): boolean {
    const rows: Array<[string, string, number]> = [];
    // a target that is also a source: one by one, the order of the list decides, as it should
    const sources = new Set(moves.map((m) => m.src));
    for (const { src, dst } of moves) {
      if (sources.has(dst) || this.protectedRootAt(src) !== undefined) return false;
      const parentOf = parentPath(dst);
      let parent = parents.get(parentOf);
      if (!parent) {
        const row = parentOf === '/' ? undefined : this.row(parentOf);
        if (row?.kind !== 'c') return false;
        parents.set(parentOf, (parent = row));
      }
      rows.push([src, dst, parent.id]);
    }
    const attempt = this.db.transaction(() => {
      if (this.q.moveObjectsAtOnce.run({ moves: JSON.stringify(rows), now }).changes !== rows.length) throw new PartialMove();
    });
    try {
      attempt();
      return true;
    } catch (err) {
      if (err instanceof PartialMove || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }

  /**
   * Moves one entry (a collection with its subtree) inside the current
   * transaction. `parents`: target collections already looked up in this
   * transaction, by path (emptied when a collection moves, as paths change).
   */
  private moveTx(from: string, to: string, now = new Date().toISOString(), parents?: Map<string, EntryRow>): void {
    this.refuseProtected(from, 'cannot move');
    if (from === to) throw new AlreadyExistsError(to, 'path', 'source and target are the same');
    if (isInside(to, from)) throw new NotAllowedError(from, `cannot move a collection into itself (${to})`);
    const row = this.mustEntry(from);
    let parent = parents?.get(parentPath(to));
    if (!parent) {
      parent = this.parentFor(to);
      parents?.set(parent.path, parent);
    }
    // the unique path index refuses an occupied target: no lookup of it first
    try {
      this.q.moveRoot.run(to, parent.id, now, row.id);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AlreadyExistsError(to);
      throw err;
    }
    if (row.kind === 'c') {
      parents?.clear();
      const [lo, hi] = subtreeRange(from);
      this.q.moveDescendants.run({ dst: to, src: from, lo, hi });
    }
  }

  // ----------------------------------------------------------------- metadata

  async getMetadata(path: string): Promise<Avu[]> {
    const target = this.normalize(path);
    return this.read(() => this.q.avus.all(this.mustEntry(target).id));
  }

  async addMetadata(path: string, avu: Avu): Promise<void> {
    const target = this.normalize(path);
    const a = checkAvu(target, avu);
    this.write(() => {
      const row = this.mustEntry(target);
      if (this.q.insertAvu.run(row.id, a.attribute, a.value, a.unit).changes === 0) {
        throw new AlreadyExistsError(target, 'metadata', `${a.attribute}=${a.value}${a.unit ? ` [${a.unit}]` : ''}`);
      }
    });
  }

  async setMetadata(path: string, avu: Avu): Promise<void> {
    const target = this.normalize(path);
    const a = checkAvu(target, avu);
    this.write(() => {
      const row = this.mustEntry(target);
      this.q.deleteAttribute.run(row.id, a.attribute);
      this.q.insertAvu.run(row.id, a.attribute, a.value, a.unit);
    });
  }

  async removeMetadata(path: string, avu: Avu): Promise<void> {
    const target = this.normalize(path);
    const a = checkAvu(target, avu);
    this.write(() => {
      const row = this.mustEntry(target);
      if (this.q.deleteAvu.run(row.id, a.attribute, a.value, a.unit).changes === 0) {
        throw new NotFoundError(target, 'metadata', `${a.attribute}=${a.value}${a.unit ? ` [${a.unit}]` : ''}`);
      }
    });
  }

  // --------------------------------------------------------- users and groups

  async getUser(name: string): Promise<Principal | null> {
    this.assertOpen();
    const p = this.q.principal.get(name);
    return p && p.kind === 'user' ? { name: p.name, kind: 'user', userType: p.user_type as UserType } : null;
  }

  async createUser(name: string, userType: UserType = 'rodsuser'): Promise<void> {
    validateName(name, 'user name');
    if (userType !== 'rodsuser' && userType !== 'rodsadmin') throw new RangeError(`unknown user type: ${userType}`);
    this.write(() => {
      const p = this.q.principal.get(name);
      if (p) throw new AlreadyExistsError(name, p.kind);
      this.q.insertPrincipal.run(name, 'user', userType);
    });
  }

  async removeUser(name: string): Promise<void> {
    if (name === ADMIN_USER) throw new NotAllowedError(name, 'the admin user cannot be removed');
    this.write(() => {
      this.mustUser(name);
      this.q.deleteMembershipsOf.run(name);
      this.q.deleteAclName.run(name);
      this.q.deletePrincipal.run(name);
    });
  }

  async listUsers(): Promise<Principal[]> {
    this.assertOpen();
    return this.q.principals
      .all('user')
      .map((p) => ({ name: p.name, kind: 'user' as const, userType: p.user_type as UserType }));
  }

  async getGroup(name: string): Promise<Principal | null> {
    this.assertOpen();
    const p = this.q.principal.get(name);
    return p && p.kind === 'group' ? { name: p.name, kind: 'group' } : null;
  }

  async createGroup(name: string): Promise<void> {
    validateName(name, 'group name');
    this.write(() => {
      const p = this.q.principal.get(name);
      if (p) throw new AlreadyExistsError(name, p.kind);
      this.q.insertPrincipal.run(name, 'group', null);
    });
  }

  async removeGroup(name: string): Promise<void> {
    if (name === PUBLIC_GROUP) throw new NotAllowedError(name, 'the public group cannot be removed');
    this.write(() => {
      this.mustGroup(name);
      this.q.deleteMembersOf.run(name);
      this.q.deleteAclName.run(name);
      this.q.deletePrincipal.run(name);
    });
  }

  private mustGroup(name: string): void {
    const p = this.q.principal.get(name);
    if (!p || p.kind !== 'group') throw new NotFoundError(name, 'group');
  }

  async listGroups(): Promise<Principal[]> {
    this.assertOpen();
    return this.q.principals.all('group').map((p) => ({ name: p.name, kind: 'group' as const }));
  }

  async groupMembers(group: string): Promise<string[]> {
    return this.read(() => {
      this.mustGroup(group);
      return this.q.memberNames.all(group);
    });
  }

  /**
   * One primary-key lookup, no transaction: a single statement is atomic, and
   * a membership row exists only while its group and user do (removing either
   * deletes its rows), so a missing group or user reads as not a member.
   */
  async isGroupMember(group: string, user: string): Promise<boolean> {
    this.assertOpen();
    return this.q.isMember.get(group, user) === 1;
  }

  /** Adds `user` to `group`; a no-op when already a member. */
  async addGroupMember(group: string, user: string): Promise<void> {
    this.write(() => {
      this.mustGroup(group);
      this.mustUser(user);
      this.q.insertMember.run(group, user);
    });
  }

  /** Removes `user` from `group`; a no-op when not a member. */
  async removeGroupMember(group: string, user: string): Promise<void> {
    this.write(() => {
      this.mustGroup(group);
      this.mustUser(user);
      this.q.deleteMember.run(group, user);
    });
  }

  // ------------------------------------------------------------------- access

  async setAccess(path: string, name: string, level: AccessLevel, opts: { recursive?: boolean } = {}): Promise<void> {
    const target = this.normalize(path);
    if (!(level in LEVEL_OF)) throw new RangeError(`unknown access level: ${level}`);
    this.write(() => {
      const row = this.mustEntry(target);
      if (!this.q.principal.get(name)) throw new NotFoundError(name, 'principal');
      const n = LEVEL_OF[level];
      const recursive = opts.recursive && row.kind === 'c';
      if (n === 0) {
        this.q.deleteAcl.run(row.id, name);
        if (recursive) this.q.deleteAclSubtree.run(name, ...subtreeRange(target));
      } else {
        this.q.upsertAcl.run(row.id, name, n);
        if (recursive) {
          const [lo, hi] = subtreeRange(target);
          this.q.upsertAclSubtree.run({ name, level: n, lo, hi });
        }
      }
    });
  }

  async setAccessMany(paths: readonly string[], name: string, level: AccessLevel): Promise<void> {
    const targets = [...new Set(paths.map((p) => this.normalize(p)))];
    if (!(level in LEVEL_OF)) throw new RangeError(`unknown access level: ${level}`);
    this.write(() => {
      if (!this.q.principal.get(name)) throw new NotFoundError(name, 'principal');
      const json = JSON.stringify(targets);
      if (this.q.countAtPaths.get(json) !== targets.length) for (const t of targets) this.mustEntry(t);
      const n = LEVEL_OF[level];
      if (n === 0) this.q.deleteAclAtPaths.run({ name, paths: json });
      else this.q.upsertAclAtPaths.run({ name, level: n, paths: json });
    });
  }

  async getAcl(path: string): Promise<AclEntry[]> {
    const target = this.normalize(path);
    return this.read(() => this.aclOf(target));
  }

  async listAcls(
    path: string,
    opts: { recursive?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; acl: AclEntry[] }>> {
    const target = this.normalize(path);
    const q = this.q;
    return this.rootedPage(
      target,
      opts,
      () => ({ path: target, acl: this.aclOf(target) }),
      function* (page) {
        // one row per ACL entry (a null name for an empty ACL), grouped by path
        let last: { path: string; acl: AclEntry[] } | undefined;
        for (const r of q.subtreeAclPage.iterate(page)) {
          if (last?.path !== r.path) {
            if (last) yield last;
            last = { path: r.path, acl: [] };
          }
          if (r.name !== null) last.acl.push({ name: r.name, kind: r.kind ?? 'user', level: LEVEL_NAMES[r.level!] as AclEntry['level'] });
        }
        if (last) yield last;
      },
    );
  }

  /**
   * One page of a listing that opens with `target` itself (it sorts before
   * everything below it) and, when recursive, goes on through its subtree,
   * in one snapshot. `root` gives the root's item (undefined: none), `below`
   * the subtree's items for the page's bounds; the root counts against the
   * page's limit. Empty when `target` does not exist.
   */
  private rootedPage<T>(
    target: string,
    opts: { recursive?: boolean } & PageOptions,
    root: (row: EntryRow) => T | undefined,
    below: (page: PageParams) => Iterable<T>,
  ): T[] {
    const page = pageParams(target, opts);
    return this.read(() => {
      const row = this.row(target);
      if (!row) return [];
      const out: T[] = [];
      // the root is on a first page, or on one that starts before it
      if (opts.after === undefined || Buffer.compare(Buffer.from(opts.after), Buffer.from(target)) < 0) {
        const item = root(row);
        if (item !== undefined) out.push(item);
      }
      if (!opts.recursive || row.kind !== 'c') return out;
      if (page.limit > 0) page.limit -= out.length;
      if (page.limit === 0) return out;
      for (const item of below(page)) out.push(item);
      return out;
    });
  }

  async countAccess(
    path: string,
    names: readonly string[],
    opts: { recursive?: boolean } = {},
  ): Promise<{ entries: number; levels: number[][] }> {
    const target = this.normalize(path);
    return this.read(() => {
      const levels = names.map(() => [0, 0, 0, 0]);
      const row = this.row(target);
      if (!row) return { entries: 0, levels };
      names.forEach((name, k) => levels[k][this.q.aclLevel.get(row.id, name)?.level ?? 0]++);
      const below = opts.recursive && row.kind === 'c' ? subtreeRange(target) : undefined;
      if (below) {
        const [lo, hi] = below;
        names.forEach((name, k) => {
          for (const r of this.q.subtreeLevelCounts.iterate({ name, lo, hi })) levels[k][r.level] += r.n;
        });
      }
      // every name's levels add up to the entries: count them apart only when there is no name
      const entries =
        names.length > 0 ? levels[0].reduce((a, b) => a + b, 0) : 1 + (below ? (this.q.subtreeCount.get(...below) ?? 0) : 0);
      return { entries, levels };
    });
  }

  async listAccessExceptions(
    path: string,
    name: string,
    level: AccessLevel,
    opts: { recursive?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; level: AccessLevel }>> {
    const target = this.normalize(path);
    if (!(level in LEVEL_OF)) throw new RangeError(`unknown access level: ${level}`);
    const n = LEVEL_OF[level];
    const levelOf = (code: number): AccessLevel => LEVEL_NAMES[code] ?? 'null';
    return this.rootedPage(
      target,
      opts,
      (row) => {
        const own = this.q.aclLevel.get(row.id, name)?.level ?? 0;
        return own === n ? undefined : { path: target, level: levelOf(own) };
      },
      (page) =>
        Array.from(this.q.subtreeLevelExceptionsPage.iterate({ ...page, name, level: n }), (r) => ({
          path: r.path,
          level: levelOf(r.level),
        })),
    );
  }

  private aclOf(target: string): AclEntry[] {
    return this.q.acl.all(this.mustEntry(target).id).map((a) => ({
      name: a.name,
      kind: a.kind ?? 'user',
      level: LEVEL_NAMES[a.level] as AclEntry['level'],
    }));
  }

  async getAccess(path: string, name: string): Promise<AccessLevel> {
    const target = this.normalize(path);
    return this.read(() => this.accessOf(target, name));
  }

  async getAccessMany(paths: readonly string[], name: string): Promise<AccessLevel[]> {
    const targets = paths.map((p) => this.normalize(p));
    // one query for the chunk: a statement per path cost more than the lookups themselves
    const found = new Map<string, number>();
    this.read(() => {
      this.assertOpen();
      for (const r of this.q.levelsAtPaths.iterate({ name, paths: JSON.stringify(targets) })) found.set(r.path, r.level);
    });
    return targets.map((t) => {
      const level = found.get(t);
      if (level === undefined) throw new NotFoundError(t);
      return LEVEL_NAMES[level] ?? 'null';
    });
  }

  private accessOf(target: string, name: string): AccessLevel {
    const a = this.q.aclLevel.get(this.mustEntry(target).id, name);
    return a ? (LEVEL_NAMES[a.level] as AccessLevel) : 'null';
  }

  async setInheritance(path: string, inherit: boolean, opts: { recursive?: boolean } = {}): Promise<void> {
    const target = this.normalize(path);
    this.write(() => {
      const row = this.mustCollection(target);
      this.q.setInherit.run(inherit ? 1 : 0, row.id);
      if (opts.recursive) this.q.setInheritSubtree.run(inherit ? 1 : 0, ...subtreeRange(target));
    });
  }

  // -------------------------------------------------------------------- trash

  /**
   * Moves `path` to `/<zone>/trash/home/rods/<path relative to the zone>`,
   * creating the trash collections on the way; on a name clash the trashed
   * entry gets a `.N` suffix. Returns the trash path.
   */
  async trash(path: string): Promise<string> {
    const target = this.normalize(path);
    this.refuseProtected(target, 'cannot trash');
    if (isInside(target, this.trashRoot)) throw new NotAllowedError(target, 'already in the trash');
    return this.write(() => {
      this.mustEntry(target);
      const segments = relativePath(target, this.zoneRoot).split('/');
      let dir = `${this.trashRoot}/home/${ADMIN_USER}`;
      for (const seg of segments.slice(0, -1)) {
        // A trashed object may sit where this entry's parent collection goes: branch off beside it.
        let next = `${dir}/${seg}`;
        for (let n = 1; this.row(next)?.kind === 'o'; n++) next = `${dir}/${seg}.${n}`;
        dir = next;
      }
      this.createCollectionTx(dir, ADMIN_USER, true);
      const base = `${dir}/${segments[segments.length - 1]}`;
      let dest = base;
      for (let n = 1; this.row(dest); n++) dest = `${base}.${n}`;
      this.moveTx(target, dest);
      return dest;
    });
  }

  /**
   * Moves a trashed entry back to `path` (whose parent must exist), ACLs,
   * metadata and checksums intact, then removes trash collections left
   * empty, so a trash + restore leaves the catalog as it was.
   */
  async restore(trashPath: string, path: string): Promise<void> {
    const from = this.normalize(trashPath);
    const to = this.normalize(path);
    if (!isInside(from, this.trashRoot)) throw new InvalidPathError(from, `not inside the trash ${this.trashRoot}`);
    this.write(() => {
      this.moveTx(from, to);
      for (let p = parentPath(from); isInside(p, this.trashRoot); p = parentPath(p)) {
        const row = this.row(p)!;
        if (this.q.firstChild.get(row.id)) break;
        this.q.deleteAvusOf.run(row.id);
        this.q.deleteAclOf.run(row.id);
        this.q.deleteEntry.run(row.id);
      }
    });
  }

  // ---------------------------------------------------------------- checksums

  async checksum(path: string, opts: { verify?: boolean } = {}): Promise<string> {
    const target = this.normalize(path);
    const row = this.read(() => this.mustObject(target));
    if (opts.verify) {
      const [actual] = await this.hashRows([row]);
      if (actual !== row.checksum) throw new ChecksumMismatchError(target, row.checksum ?? '', actual);
    }
    return row.checksum ?? '';
  }

  async computeChecksums(paths: readonly string[]): Promise<string[]> {
    return this.hashRows(this.objectVaultRows(paths));
  }

  async readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]> {
    return this.onVaultFiles(this.objectVaultRows(paths), (files) => this.pool.readHeads(files, maxBytes));
  }

  /**
   * The vault rows of many objects, in input order, from one catalog query:
   * a statement per path costs more on this thread than the hash workers
   * need per file, and this thread shares the cores with them.
   */
  private objectVaultRows(paths: readonly string[]): VaultRow[] {
    const targets = paths.map((p) => this.normalize(p));
    const found = new Map<string, VaultRow>();
    this.read(() => {
      this.assertOpen();
      for (const row of this.q.vaultRows.iterate(JSON.stringify(targets))) found.set(row.path, row);
    });
    return targets.map((t) => {
      const row = found.get(t);
      if (!row || row.kind !== 'o') throw new NotFoundError(t, 'object');
      return row;
    });
  }

  private hashRows(rows: readonly VaultRow[]): Promise<string[]> {
    return this.onVaultFiles(rows, (files) => this.pool.hashFiles(files, this.vault.directWrites));
  }

  /** Runs a worker-pool job over the rows' vault files, naming the logical path on failure. */
  private async onVaultFiles<T>(rows: readonly VaultRow[], job: (files: string[]) => Promise<T>): Promise<T> {
    try {
      return await job(rows.map((r) => this.vault.filePath(r.vault_id!)));
    } catch (err) {
      if (err instanceof HashError) {
        const row = rows.find((r) => this.vault.filePath(r.vault_id!) === err.file);
        const path = row?.path ?? err.file;
        if (err.code === 'ENOENT') throw new NotFoundError(path, 'file', 'vault file missing: run fsck');
        throw new StoreError('STORE_UNAVAILABLE', path, err.message);
      }
      throw err;
    }
  }

  // ------------------------------------------------------------------ tools

  async dump(): Promise<string[]> {
    return this.read(() => dumpCatalog(this.db));
  }

  async fsck(opts: { repair?: boolean } = {}): Promise<FsckReport> {
    // The write lock keeps other processes from placing a file between our
    // vault scan and catalog read (they place files inside their write transaction).
    return this.write(() => {
      const byId = new Map<string, string>();
      for (const r of this.q.allVaultIds.iterate()) byId.set(r.vault_id, r.path);
      const seen = new Set<string>();
      const orphanFiles: string[] = [];
      for (const f of this.vault.scan()) {
        if (f.id !== undefined && byId.has(f.id)) seen.add(f.id);
        else orphanFiles.push(f.file);
      }
      const missingFiles: string[] = [];
      for (const [id, path] of byId) if (!seen.has(id)) missingFiles.push(path);
      missingFiles.sort();
      orphanFiles.sort();
      let repaired = 0;
      if (opts.repair) {
        for (const f of orphanFiles) {
          this.vault.removeFile(f);
          repaired++;
        }
      }
      return { missingFiles, orphanFiles, repaired };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
    this.db.close();
  }
}

function checkAvu(path: string, avu: Avu): Avu {
  if (!avu || typeof avu.attribute !== 'string' || avu.attribute === '') {
    throw new InvalidPathError(path, 'metadata attribute must be a non-empty string');
  }
  if (typeof avu.value !== 'string') throw new InvalidPathError(path, 'metadata value must be a string');
  return { attribute: avu.attribute, value: avu.value, unit: avu.unit ?? '' };
}

/** Every catalog fact as sorted JSON lines, without timestamps or internal ids. */
function dumpCatalog(db: Database.Database): string[] {
  const lines: string[] = [];
  const out = (o: object) => lines.push(JSON.stringify(o));
  for (const e of db.prepare<[], EntryRow>('SELECT * FROM entries').iterate()) {
    if (e.kind === 'c') out({ t: 'collection', path: e.path, owner: e.owner, inherit: e.inherit === 1 });
    else out({ t: 'object', path: e.path, owner: e.owner, size: e.size, checksum: e.checksum });
  }
  for (const a of db
    .prepare<[], Avu & { path: string }>('SELECT e.path, a.attribute, a.value, a.unit FROM avus a JOIN entries e ON e.id = a.entry_id')
    .iterate()) {
    out({ t: 'meta', path: a.path, attribute: a.attribute, value: a.value, unit: a.unit });
  }
  for (const a of db
    .prepare<[], { path: string; name: string; level: number }>('SELECT e.path, a.name, a.level FROM acl a JOIN entries e ON e.id = a.entry_id')
    .iterate()) {
    out({ t: 'acl', path: a.path, name: a.name, level: LEVEL_NAMES[a.level] });
  }
  for (const p of db.prepare<[], { name: string; kind: string; user_type: string | null }>('SELECT * FROM principals').iterate()) {
    out(p.kind === 'user' ? { t: 'user', name: p.name, type: p.user_type } : { t: 'group', name: p.name });
  }
  for (const m of db.prepare<[], { group_name: string; user_name: string }>('SELECT * FROM members').iterate()) {
    out({ t: 'member', group: m.group_name, user: m.user_name });
  }
  return lines.sort();
}

