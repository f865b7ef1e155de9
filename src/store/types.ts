/**
 * The data store interfaces. {@link FlowStore}: what tasks and flows need of
 * an iRODS zone, each call one that a real iRODS server offers (named in its
 * TSDoc by the iRODS API number constant of `apiNumberData.h`, iRODS 4.3, and
 * the python-irodsclient call where one exists), so a client of a real server
 * can implement it. {@link StoreAdmin}: the embedded store's own tools (the
 * command line's `taskflow store`, tests, benches). The embedded
 * implementation (SQLite catalog + vault folder) lives beside them.
 *
 * All paths are absolute logical paths inside the zone, e.g.
 * `/omicsZone/projects/ab/ab12.../sample_data/file.txt`.
 *
 * @module
 */
import type { Readable } from 'node:stream';

/** Access levels, ordered: `null` < `read` < `write` < `own`. */
export type AccessLevel = 'null' | 'read' | 'write' | 'own';

/** What {@link FlowStore.accessCounts} answers. */
export interface AccessCounts {
  /** Entries counted: the path, and its subtree when recursive (0: the path does not exist). */
  entries: number;
  /** Per principal asked, in order: entries at each level. */
  levels: Array<Record<AccessLevel, number>>;
}

/** User types known to the store. */
export type UserType = 'rodsuser' | 'rodsadmin';

/** What {@link FlowStore.createPrincipal} creates: a user of a type, or a group (iRODS's user type `rodsgroup`). */
export type PrincipalType = UserType | 'rodsgroup';

/** The operations of iRODS's metadata API (`imeta add`, `set`, `rm`), see {@link FlowStore.modifyMetadata}. */
export type MetadataOp = 'add' | 'set' | 'rm';

/** One change of a batch that adds and removes AVUs all or none (see `EmbeddedStore.applyMetadata`). */
export interface AvuChange {
  op: 'add' | 'remove';
  avu: Avu;
}

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

/** Result of {@link StoreAdmin.fsck}. */
export interface FsckReport {
  /** Catalog objects whose vault file is missing (data loss: reported only); a small object kept in the catalog has none to miss. */
  missingFiles: string[];
  /**
   * Vault files no catalog row refers to (left by a crash: repairable); in
   * the embedded store also small objects' bytes kept in the catalog that no
   * object owns, as `<catalog file>#object_bytes/<entry id>`, and objects a
   * parallel put registered at its open whose server ended before the close
   * (empty, never finished), as `<catalog file>#intermediate<path>`.
   */
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

/** Options for {@link FlowStore.putObject}. */
export interface PutOptions {
  /** Replace an existing object instead of failing with AlreadyExists. */
  overwrite?: boolean;
  /** Called with the bytes written so far (for progress bars). */
  onProgress?: (bytes: number) => void;
  /** Owner user of a new object (default `rods`); gets `own` access. */
  owner?: string;
}

/** One move of {@link FlowStore.moveMany}. */
export interface Move {
  src: string;
  dst: string;
}

/**
 * What tasks and flows need of an iRODS zone. Each call is one iRODS API
 * call (or, for the `...Many` calls and the paged listings, a series of the
 * same call or a GenQuery), so a client of a real iRODS server can implement
 * it; the embedded store makes each call one catalog transaction. Errors are
 * the typed {@link StoreError}s of `./errors.ts`, each naming the path at
 * fault. Paths are absolute logical paths of the zone.
 *
 * Paged listings take {@link PageOptions} and are sorted by path: a GenQuery
 * ordered by `COLL_NAME`, `DATA_NAME`, with the last path of a page as a
 * "greater than" condition, walks a large subtree in bounded memory.
 */
export interface FlowStore {
  /** The zone name, e.g. `omicsZone`. */
  readonly zone: string;

  // ------------------------------------------------------------ namespace

  /**
   * The entry at `path`, or null when nothing is there.
   * iRODS: `OBJ_STAT_AN` (rcObjStat; python-irodsclient `collections.get` / `data_objects.get`).
   */
  stat(path: string): Promise<StoreEntry | null>;
  /**
   * Creates a collection, and its missing parents when `parents` is true.
   * Returns the collections actually created, parents first (empty when it
   * existed already), so a revert can remove exactly those.
   * iRODS: `COLL_CREATE_AN` (rcCollCreate, `RECURSIVE_OPR__KW` for parents; `imkdir -p`).
   */
  createCollection(path: string, opts?: { parents?: boolean; owner?: string }): Promise<string[]>;
  /**
   * Removes a collection for good (not into the trash); a non-empty one only
   * with `recursive` (else NotEmpty).
   * iRODS: `RM_COLL_AN` (rcRmColl with `FORCE_FLAG_KW`, `RECURSIVE_OPR__KW`; `irm -rf`).
   */
  removeCollection(path: string, opts?: { recursive?: boolean }): Promise<void>;
  /**
   * Direct children of a collection, or the whole subtree when `recursive`;
   * sorted by path, paged.
   * iRODS: `GEN_QUERY_AN` on `COLL_NAME` / `DATA_NAME` (python-irodsclient `Collection.walk`).
   */
  list(path: string, opts?: { recursive?: boolean } & PageOptions): Promise<StoreEntry[]>;
  /**
   * Paths of every data object below a collection, sorted, paged, nothing
   * else. With `relative`, each path (and `after`) is relative to `path`: a
   * large zone's names without its base path repeated per object.
   * iRODS: `GEN_QUERY_AN` selecting `COLL_NAME`, `DATA_NAME` where `COLL_NAME like '<path>/%'`.
   */
  listObjectPaths(path: string, opts?: { relative?: boolean } & PageOptions): Promise<string[]>;
  /**
   * {@link FlowStore.listObjectPaths} with each object's catalog checksum
   * (null when it has none).
   * iRODS: the same GenQuery with `DATA_CHECKSUM`.
   */
  listObjectChecksums(path: string, opts?: { relative?: boolean } & PageOptions): Promise<Array<{ path: string; checksum: string | null }>>;
  /**
   * Moves or renames an object or collection (no byte copy); the target must not exist.
   * iRODS: `DATA_OBJ_RENAME_AN` (rcDataObjRename; `imv`).
   */
  move(src: string, dst: string): Promise<void>;
  /**
   * Many object moves. The embedded store does them in one transaction,
   * all or none; a server renames one by one in order and stops at the
   * first failure, so a caller treats a failure as "maybe some moved".
   * iRODS: `DATA_OBJ_RENAME_AN` per move.
   */
  moveMany(moves: readonly Move[]): Promise<void>;

  // -------------------------------------------------------------- objects

  /**
   * Streams bytes into a new object (or over one with `overwrite`); the
   * MD5 is computed on the way and kept in the catalog.
   * iRODS: `DATA_OBJ_PUT_AN` (rcDataObjPut with `REG_CHKSUM_KW`; `iput -k`).
   */
  putObject(path: string, source: Readable | string, opts?: PutOptions): Promise<StoreEntry>;
  /**
   * The object's bytes as a stream.
   * iRODS: `DATA_OBJ_OPEN_AN` + `DATA_OBJ_READ_AN` (python-irodsclient `data_objects.open`).
   */
  getObject(path: string): Promise<Readable>;
  /**
   * The first `maxBytes` bytes of each object as UTF-8 text, in input order,
   * read in parallel (a landing zone's `.md5` companions).
   * iRODS: `DATA_OBJ_OPEN_AN` + `DATA_OBJ_READ_AN` per object.
   */
  readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]>;
  /**
   * Removes a data object for good (not into the trash).
   * iRODS: `DATA_OBJ_UNLINK_AN` (rcDataObjUnlink with `FORCE_FLAG_KW`; `irm -f`).
   */
  removeObject(path: string): Promise<void>;
  /**
   * MD5 of each object recomputed from its bytes, in parallel, in input
   * order. iRODS: `DATA_OBJ_CHKSUM_AN` with `FORCE_CHKSUM_KW` per object
   * (`ichksum -f`; a server also stores the result in its catalog, the
   * embedded store only returns it).
   */
  computeChecksums(paths: readonly string[]): Promise<string[]>;

  // ------------------------------------------------------------- metadata

  /**
   * The AVUs of a collection or object.
   * iRODS: `GEN_QUERY_AN` on `META_COLL_ATTR_*` / `META_DATA_ATTR_*` (`imeta ls`).
   */
  getMetadata(path: string): Promise<Avu[]>;
  /**
   * `add` an AVU (AlreadyExists when there), `set` an attribute to this one
   * value (replacing its values), `rm` an AVU (NotFound when absent).
   * iRODS: `MOD_AVU_METADATA_AN` with `add`, `set`, `rm` (`imeta add|set|rm`).
   */
  modifyMetadata(path: string, op: MetadataOp, avu: Avu): Promise<void>;

  // ---------------------------------------------------- users and groups

  /**
   * The user or group of that name, or null.
   * iRODS: `GEN_QUERY_AN` on `USER_NAME`, `USER_TYPE` (a group is a user of type `rodsgroup`).
   */
  getPrincipal(name: string): Promise<Principal | null>;
  /**
   * Every user, or every group, sorted by name.
   * iRODS: `GEN_QUERY_AN` on `USER_NAME`, `USER_TYPE` (`iadmin lu`, `iadmin lg`).
   */
  listPrincipals(kind: 'user' | 'group'): Promise<Principal[]>;
  /**
   * Creates a user of a type, or a group; AlreadyExists when the name is taken.
   * iRODS: `GENERAL_ADMIN_AN` `add user` (`iadmin mkuser`, `iadmin mkgroup`).
   */
  createPrincipal(name: string, type: PrincipalType): Promise<void>;
  /**
   * Removes a user or a group (`kind` says which: NotFound for the other),
   * with its memberships and access entries.
   * iRODS: `GENERAL_ADMIN_AN` `rm user` (`iadmin rmuser`, `iadmin rmgroup`).
   */
  removePrincipal(name: string, kind: 'user' | 'group'): Promise<void>;
  /**
   * The member user names of a group, sorted.
   * iRODS: `GEN_QUERY_AN` on `USER_NAME` where `USER_GROUP_NAME` is the group.
   */
  groupMembers(group: string): Promise<string[]>;
  /**
   * Whether `user` is a member of `group`, without listing the group. False
   * when the group or the user does not exist, never NotFound.
   * iRODS: the same GenQuery with a `USER_NAME` condition too.
   */
  isGroupMember(group: string, user: string): Promise<boolean>;
  /**
   * Adds `user` to `group`; a no-op when already a member, unless `onlyNew`:
   * then AlreadyExists (member), and nothing changes.
   * iRODS: `GENERAL_ADMIN_AN` `modify group <group> add <user>` (`iadmin atg`;
   * iRODS itself answers an existing membership with an error).
   */
  addGroupMember(group: string, user: string, opts?: { onlyNew?: boolean }): Promise<void>;
  /**
   * Removes `user` from `group`; a no-op when not a member, unless
   * `onlyMember`: then NotFound (member), and nothing changes.
   * iRODS: `GENERAL_ADMIN_AN` `modify group <group> remove <user>` (`iadmin rfg`).
   */
  removeGroupMember(group: string, user: string, opts?: { onlyMember?: boolean }): Promise<void>;

  // --------------------------------------------------------------- access

  /**
   * The ACL of one path, sorted by name.
   * iRODS: `GEN_QUERY_AN` on `COLL_ACCESS_*` / `DATA_ACCESS_*` (python-irodsclient `acls.get`; `ils -A`).
   */
  getAcl(path: string): Promise<AclEntry[]>;
  /**
   * `name`'s level on each path (`null` when none), in input order, read in
   * one snapshot; NotFound for the first path that does not exist.
   * iRODS: `GEN_QUERY_AN` on `DATA_ACCESS_TYPE` with a `DATA_NAME in (...)` condition per parent collection.
   */
  getAccessMany(paths: readonly string[], name: string): Promise<AccessLevel[]>;
  /**
   * The entries of `path` (and, when `recursive`, below it) on which `name`
   * holds access, with its level, sorted by path (`path` itself first),
   * paged; entries where it has none are not listed (walk
   * {@link FlowStore.list} beside it, in the same order, to find those).
   * Empty when `path` does not exist.
   * iRODS: `GEN_QUERY_AN` on `COLL_ACCESS_TYPE` / `DATA_ACCESS_TYPE` with a `USER_NAME` condition.
   */
  listAccess(
    path: string,
    name: string,
    opts?: { recursive?: boolean } & PageOptions,
  ): Promise<Array<{ path: string; level: Exclude<AccessLevel, 'null'> }>>;
  /**
   * How many entries of `path` (and, when `recursive`, below it) each of
   * `names` holds at each level (`null`: no access), in one snapshot:
   * `entries` counts them all (0 when `path` does not exist), `levels[k]`
   * is `names[k]`'s count by level. What a task reads first of a subtree's
   * access: the common case (one level throughout) needs no listing.
   * iRODS: `GEN_QUERY_AN` with `COUNT(DATA_ID)` grouped by `DATA_ACCESS_TYPE`, a `USER_NAME` and a
   * `COLL_NAME like` condition (and the collections' alike).
   */
  accessCounts(path: string, names: readonly string[], opts?: { recursive?: boolean }): Promise<AccessCounts>;
  /**
   * Sets `name`'s access on `path` (and everything below it when
   * `recursive`); `null` removes it.
   * iRODS: `MOD_ACCESS_CONTROL_AN` (rcModAccessControl; `ichmod [-r]`).
   */
  setAccess(path: string, name: string, level: AccessLevel, opts?: { recursive?: boolean }): Promise<void>;
  /**
   * {@link FlowStore.setAccess} for several principals on one path, all or
   * none (one store transaction).
   * iRODS: one `MOD_ACCESS_CONTROL_AN` per principal.
   */
  setAccesses(path: string, grants: ReadonlyArray<{ name: string; level: AccessLevel }>, opts?: { recursive?: boolean }): Promise<void>;
  /**
   * Sets `name`'s access to `level` on each of `paths` (not recursively);
   * NotFound for a missing path or principal. All or none in the embedded
   * store; one call per path on a server.
   * iRODS: `MOD_ACCESS_CONTROL_AN` per path.
   */
  setAccessMany(paths: readonly string[], name: string, level: AccessLevel): Promise<void>;
  /**
   * Sets whether new children of a collection take its ACL (and of every
   * collection below when `recursive`).
   * iRODS: `MOD_ACCESS_CONTROL_AN` with `inherit` / `noinherit` (`ichmod [-r] inherit`).
   */
  setInheritance(path: string, inherit: boolean, opts?: { recursive?: boolean }): Promise<void>;

  // ---------------------------------------------------------------- trash

  /**
   * Where {@link FlowStore.trash} would put `path` now; changes nothing. A
   * caller decides the trash path first, so its undo is known before the change.
   * iRODS: `GEN_QUERY_AN` for the names taken under `/<zone>/trash/home/<user>/...`.
   */
  trashPathFor(path: string): Promise<string>;
  /**
   * For a trash that must leave data objects alone: the objects below the
   * collection `path` (full paths, in path order) when there are any, else
   * {@link FlowStore.trashPathFor}'s answer; one snapshot, where the two
   * calls took two. NotFound when `path` is not a collection.
   * iRODS: `GEN_QUERY_AN` for the objects, then as {@link FlowStore.trashPathFor}.
   */
  trashPathUnlessObjects(path: string): Promise<{ objects: string[] } | { trashPath: string }>;
  /**
   * Moves an object or collection into `/<zone>/trash/...` (at `to` when
   * given: AlreadyExists when taken), creating the trash collections on
   * the way; returns its trash path.
   * iRODS: `COLL_CREATE_AN` + `DATA_OBJ_RENAME_AN` (what `irm` without `-f` does).
   */
  trash(path: string, opts?: { to?: string }): Promise<string>;
  /**
   * Moves a trashed entry back to `path` and removes the trash collections
   * above it left empty: with `created`, only those of them (the ones its
   * trash created, as the caller found before it), else any below the
   * trash homes (`/<zone>/trash/home/<name>`, which stay as their users do).
   * iRODS: `DATA_OBJ_RENAME_AN`, then `RM_COLL_AN` on each emptied trash collection.
   */
  restore(trashPath: string, path: string, opts?: { created?: readonly string[] }): Promise<void>;

  /** Releases connections, files and threads. iRODS: `rcDisconnect`. */
  close(): Promise<void>;
}

/**
 * The embedded store's own tools, beyond {@link FlowStore}: for the command
 * line's `taskflow store`, tests and benches. A client of a real server does
 * not offer them (iRODS has its own admin tools).
 */
export interface StoreAdmin {
  /** The catalog's MD5 of an object; with `verify`, recomputed from the bytes and compared (ChecksumMismatch). */
  checksum(path: string, opts?: { verify?: boolean }): Promise<string>;
  /**
   * `path` and, when `recursive`, every entry below it (sorted by path:
   * `path` itself first), each with its whole ACL, paged; empty when `path`
   * does not exist.
   */
  listAcls(path: string, opts?: { recursive?: boolean } & PageOptions): Promise<Array<{ path: string; acl: AclEntry[] }>>;
  /** The whole catalog as sorted JSON lines: identical dumps mean identical stores. */
  dump(): Promise<string[]>;
  /** Compares catalog and vault; with `repair`, removes orphan vault files. */
  fsck(opts?: { repair?: boolean }): Promise<FsckReport>;
}
