/**
 * The data store interface: what flows need of an iRODS-like store, free of
 * any implementation detail. The embedded implementation (SQLite catalog +
 * vault folder) lives beside it; a real iRODS client could implement it too.
 *
 * All paths are absolute logical paths inside the zone, e.g.
 * `/omicsZone/projects/ab/ab12.../sample_data/file.txt`.
 *
 * @module
 */
import type { Readable } from 'node:stream';

/** Access levels, ordered: `null` < `read` < `write` < `own`. */
export type AccessLevel = 'null' | 'read' | 'write' | 'own';

/** User types known to the store. */
export type UserType = 'rodsuser' | 'rodsadmin';

/** A metadata attribute-value-unit triple. `unit` is '' when absent. */
export interface Avu {
  attribute: string;
  value: string;
  unit: string;
}

/** One entry of an access control list. */
export interface AclEntry {
  /** User or group name. */
  name: string;
  kind: 'user' | 'group';
  level: Exclude<AccessLevel, 'null'>;
}

/** A collection or a data object, as listed or stat'ed. */
export interface StoreEntry {
  path: string;
  type: 'collection' | 'object';
  /** Owner user name. */
  owner: string;
  /** Bytes, objects only (0 for collections). */
  size: number;
  /** Hex MD5 kept in the catalog, objects only (null for collections). */
  checksum: string | null;
  /** Collections only: new children take this collection's ACL. */
  inherit: boolean;
  /** ISO time of the last change. */
  modified: string;
}

/** A user or group. */
export interface Principal {
  name: string;
  kind: 'user' | 'group';
  /** Users only. */
  userType?: UserType;
}

/** Result of {@link DataStore.fsck}. */
export interface FsckReport {
  /** Catalog objects whose vault file is missing (data loss: reported only). */
  missingFiles: string[];
  /** Vault files no catalog row refers to (left by a crash: repairable). */
  orphanFiles: string[];
  /** Orphans removed when repair was asked for. */
  repaired: number;
}

/**
 * Keyset paging of a sorted listing. A listing is sorted by path in the
 * catalog's order (bytes of the UTF-8 path); a page is the next `limit`
 * entries after `after`. Pass the last path of one page as `after` to get
 * the next: entries added or removed between calls shift no page boundary,
 * and the whole walk costs one pass over the listing. A page shorter than
 * `limit` is the last one.
 */
export interface PageOptions {
  /** Only entries whose path sorts after this one, in the listing's own form (absolute, or relative when the listing is). */
  after?: string;
  /** Most entries returned, a positive integer; all that remain when absent. */
  limit?: number;
}

/** Options for {@link DataStore.putObject}. */
export interface PutOptions {
  /** Replace an existing object instead of failing with AlreadyExists. */
  overwrite?: boolean;
  /** Called with the bytes written so far (for progress bars). */
  onProgress?: (bytes: number) => void;
  /** Owner user of a new object (default `rods`); gets `own` access. */
  owner?: string;
}

/**
 * An iRODS-like data store. Every call is atomic: it happens completely or not
 * at all. Errors are the typed {@link StoreError}s of `./errors.ts`, each
 * naming the path at fault.
 */
export interface DataStore {
  /** The zone name, e.g. `omicsZone`. */
  readonly zone: string;

  // Collections and objects
  /** The entry at `path`, or null when nothing is there. */
  stat(path: string): Promise<StoreEntry | null>;
  /** True when a collection exists at `path`. */
  collectionExists(path: string): Promise<boolean>;
  /** True when a data object exists at `path`. */
  objectExists(path: string): Promise<boolean>;
  /**
   * Creates a collection, and its missing parents when `parents` is true.
   * Returns the collections actually created, parents first (empty when it
   * existed already), so a revert can remove exactly those.
   */
  createCollection(path: string, opts?: { parents?: boolean; owner?: string }): Promise<string[]>;
  /**
   * Direct children of a collection, or the whole subtree when `recursive`;
   * sorted by path. With {@link PageOptions}, one page of that listing (a
   * large subtree a page at a time, never all of it in memory).
   */
  list(path: string, opts?: { recursive?: boolean } & PageOptions): Promise<StoreEntry[]>;
  /**
   * Paths of every data object under a collection (its whole subtree),
   * sorted, without loading other fields. With `relative`, each path is
   * relative to `path` (`sub/file.txt`), and so is `after`: a large zone's
   * names without its long base path repeated per object. With
   * {@link PageOptions}, one page of that listing.
   */
  listObjectPaths(path: string, opts?: { relative?: boolean } & PageOptions): Promise<string[]>;
  /**
   * {@link DataStore.listObjectPaths} with each object's catalog checksum
   * (null when it has none), and nothing else: what a checksum check of a
   * large subtree needs, without the other fields of {@link StoreEntry}.
   * `relative` and {@link PageOptions} as there.
   */
  listObjectChecksums(
    path: string,
    opts?: { relative?: boolean } & PageOptions,
  ): Promise<Array<{ path: string; checksum: string | null }>>;
  /** Removes a collection; a non-empty one only with `recursive` (else NotEmpty). */
  removeCollection(path: string, opts?: { recursive?: boolean }): Promise<void>;
  /** Streams bytes into a new object; MD5 computed while streaming. */
  putObject(path: string, source: Readable | string, opts?: PutOptions): Promise<StoreEntry>;
  /** The object's bytes as a stream. */
  getObject(path: string): Promise<Readable>;
  /** Removes a data object. */
  removeObject(path: string): Promise<void>;
  /** Moves or renames an object or collection (catalog only, no byte copy). Target must not exist. */
  move(src: string, dst: string): Promise<void>;
  /**
   * Many object moves in one transaction: all or none. With `revoke`, the
   * same transaction removes those principals' access on the moved objects
   * (a landing zone's user and script user on the files leaving the zone).
   */
  moveMany(moves: ReadonlyArray<{ src: string; dst: string }>, opts?: { revoke?: readonly string[] }): Promise<void>;

  // Metadata
  getMetadata(path: string): Promise<Avu[]>;
  addMetadata(path: string, avu: Avu): Promise<void>;
  /** Replaces every value of `attribute` with this one. */
  setMetadata(path: string, avu: Avu): Promise<void>;
  removeMetadata(path: string, avu: Avu): Promise<void>;

  // Users and groups
  getUser(name: string): Promise<Principal | null>;
  createUser(name: string, userType?: UserType): Promise<void>;
  removeUser(name: string): Promise<void>;
  listUsers(): Promise<Principal[]>;
  getGroup(name: string): Promise<Principal | null>;
  createGroup(name: string): Promise<void>;
  removeGroup(name: string): Promise<void>;
  listGroups(): Promise<Principal[]>;
  groupMembers(group: string): Promise<string[]>;
  /**
   * Whether `user` is a member of `group`, without listing the group (cost
   * independent of its size). False when the group or the user does not
   * exist: never NotFound, so a caller needing existence asks for it.
   */
  isGroupMember(group: string, user: string): Promise<boolean>;
  addGroupMember(group: string, user: string): Promise<void>;
  removeGroupMember(group: string, user: string): Promise<void>;

  // Access
  /** Sets `name`'s access on `path` (and everything below it when `recursive`); `null` removes it. */
  setAccess(path: string, name: string, level: AccessLevel, opts?: { recursive?: boolean }): Promise<void>;
  /**
   * Sets `name`'s access to `level` on each of `paths` (not recursively) in
   * one transaction (`null` removes it): a chunk of entries in one call.
   * NotFound for a missing path or principal, and nothing changes.
   */
  setAccessMany(paths: readonly string[], name: string, level: AccessLevel): Promise<void>;
  /** The ACL of one path, sorted by name. */
  getAcl(path: string): Promise<AclEntry[]>;
  /** `name`'s level on `path` (`null` when none). */
  getAccess(path: string, name: string): Promise<AccessLevel>;
  /**
   * `name`'s level on each path, in input order, read in one consistent
   * snapshot (one call for a whole subtree instead of one per entry).
   * NotFound for the first path that does not exist.
   */
  getAccessMany(paths: readonly string[], name: string): Promise<AccessLevel[]>;
  /**
   * `path` and, when `recursive`, every entry below it (sorted by path: `path`
   * itself comes first), each with its ACL (as {@link DataStore.getAcl}), in
   * one snapshot; an empty list when `path` does not exist. With
   * {@link PageOptions}, one page of that listing (each page is its own
   * snapshot).
   */
  listAcls(
    path: string,
    opts?: { recursive?: boolean } & PageOptions,
  ): Promise<Array<{ path: string; acl: AclEntry[] }>>;
  /**
   * How the access of each of `names` is spread over `path` and, when
   * `recursive`, every entry below it: the number of entries, and per name
   * how many are at each level (indexed `null`, `read`, `write`, `own`).
   * Counted inside the catalog, in one snapshot: a subtree of any size costs
   * no memory per entry. No entries when `path` does not exist.
   */
  countAccess(
    path: string,
    names: readonly string[],
    opts?: { recursive?: boolean },
  ): Promise<{ entries: number; levels: number[][] }>;
  /**
   * The entries of `path` (and, when `recursive`, below it) where `name`'s
   * access is not `level`, each with the level it has, sorted by path
   * (`path` itself first); with {@link PageOptions}, one page of that
   * listing. Empty when `path` does not exist.
   */
  listAccessExceptions(
    path: string,
    name: string,
    level: AccessLevel,
    opts?: { recursive?: boolean } & PageOptions,
  ): Promise<Array<{ path: string; level: AccessLevel }>>;
  setInheritance(path: string, inherit: boolean, opts?: { recursive?: boolean }): Promise<void>;

  // Trash
  /** Moves an object or collection under `/<zone>/trash/...`; returns its trash path. */
  trash(path: string): Promise<string>;
  /** Moves a trashed entry back to `path`. */
  restore(trashPath: string, path: string): Promise<void>;

  // Checksums
  /** The catalog's MD5 of an object; with `verify`, recomputed from the bytes and compared (ChecksumMismatch). */
  checksum(path: string, opts?: { verify?: boolean }): Promise<string>;
  /** MD5 of each object recomputed from its bytes, in parallel (worker threads), in input order. */
  computeChecksums(paths: readonly string[]): Promise<string[]>;
  /** The first `maxBytes` bytes of each object as UTF-8 text, in input order, read in parallel (for `.md5` companions). */
  readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]>;

  // Whole-store tools
  /** The whole catalog as sorted JSON lines: identical dumps mean identical stores. */
  dump(): Promise<string[]>;
  /** Compares catalog and vault; with `repair`, removes orphan vault files. */
  fsck(opts?: { repair?: boolean }): Promise<FsckReport>;
  /** Releases files, database handles and worker threads. */
  close(): Promise<void>;
}
