/**
 * The embedded data store: a SQLite catalog (`catalog.sqlite`) and a vault
 * folder (`vault/`) under one data directory, with iRODS semantics. This
 * class is a thin facade: each iRODS concept is its own module over the
 * shared {@link StoreCore} (collections, objects, metadata, principals,
 * access, trash, admin).
 *
 * Every call is one catalog transaction (BEGIN IMMEDIATE, so two processes
 * serialise their writes). Object bytes are staged to a temp file, synced,
 * renamed into the vault inside the write transaction and become visible
 * when it commits; files of removed objects are deleted after the commit. A
 * crash therefore leaves at most orphan vault files, and (the protocol's
 * parallel puts register their object at the open) objects still
 * intermediate, which `fsck` finds and a server's start removes.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import type {
  AccessCounts,
  AccessLevel,
  AclEntry,
  Avu,
  FlowStore,
  FsckReport,
  MetadataOp,
  AvuChange,
  Move,
  PageOptions,
  Principal,
  PrincipalType,
  PutOptions,
  StoreAdmin,
  StoreEntry,
} from '../types.js';
import { Access } from './access.js';
import { Admin } from './admin.js';
import { AuthNames } from './auth-names.js';
import { Collections, type MoveCheckedOptions } from './collections.js';
import { StoreCore, type EmbeddedStoreOptions } from './core.js';
import { removeAbandonedIntermediates } from './intermediate-objects.js';
import { Metadata } from './metadata.js';
import { Objects, type PendingObject, type PutTarget } from './objects.js';
import { Passwords } from './passwords.js';
import { Principals } from './principals.js';
import { Resources, type ResourceRow } from './resources.js';
import { SpecificQueries } from './specific-queries.js';
import { putTree, type PutTreeOptions, type PutTreeResult } from './put-tree.js';
import { Trash } from './trash.js';
import type { Vault } from './vault.js';

export type { EmbeddedStoreOptions } from './core.js';
export type { PendingObject, PutTarget } from './objects.js';
export type { MoveCheckedOptions, MoveFound } from './collections.js';

/** The embedded {@link FlowStore} with its {@link StoreAdmin} tools. Create with {@link EmbeddedStore.open}. */
export class EmbeddedStore implements FlowStore, StoreAdmin {
  private readonly core: StoreCore;
  private readonly collections: Collections;
  private readonly objects: Objects;
  private readonly metadata: Metadata;
  private readonly principals: Principals;
  private readonly access: Access;
  private readonly bin: Trash;
  private readonly admin: Admin;
  private readonly passwords: Passwords;
  private readonly authNames: AuthNames;
  private readonly specificQueries: SpecificQueries;
  private readonly resources: Resources;

  private constructor(opts: EmbeddedStoreOptions) {
    const core = (this.core = new StoreCore(opts));
    this.collections = new Collections(core);
    this.objects = new Objects(core);
    this.passwords = new Passwords(core);
    this.authNames = new AuthNames(core);
    this.specificQueries = new SpecificQueries(core);
    this.resources = new Resources(core);
    this.metadata = new Metadata(core);
    this.principals = new Principals(core);
    this.access = new Access(core);
    this.bin = new Trash(core);
    this.admin = new Admin(core);
  }

  /** Opens (creating when new) the store in `opts.dataDir`. */
  static open(opts: EmbeddedStoreOptions): EmbeddedStore {
    return new EmbeddedStore(opts);
  }

  get zone(): string {
    return this.core.zone;
  }
  /**
   * The shared core (catalog, vault, hash pool) below the FlowStore calls:
   * for the store's own iRODS protocol server, whose GenQuery reads the
   * catalog and whose open/write/close streams through the vault.
   */
  protocolCore(): StoreCore {
    return this.core;
  }

  /**
   * Removes the objects a parallel put registered whose server process has
   * ended before their close (intermediate-objects.ts); returns their paths.
   * A server runs it before it serves.
   */
  removeAbandonedIntermediates(): string[] {
    return removeAbandonedIntermediates(this.core);
  }

  /** Sets a user's password for the iRODS protocol server, or removes it with null (see `passwords.ts`). */
  setPassword(name: string, password: string | null): void {
    this.passwords.set(name, password);
  }
  /** A user's protocol password, or null when the user has none. */
  passwordOf(name: string): string | null {
    return this.passwords.get(name);
  }
  /**
   * Adds a distinguished name (GSI, Kerberos) to a user, as `iadmin aua`
   * does; false when the user has it already. Kept for the protocol
   * server's user tools: the store logs no one in by it (see `auth-names.ts`).
   */
  addAuthName(name: string, authName: string): boolean {
    return this.authNames.add(name, authName);
  }
  /** Removes a user's distinguished name (`iadmin rua`); false when the user does not have it. */
  removeAuthName(name: string, authName: string): boolean {
    return this.authNames.remove(name, authName);
  }
  /** A user's distinguished names in the order they were added. */
  authNamesOf(name: string): string[] {
    return this.authNames.of(name);
  }
  /** Registers a specific query (`iadmin asq`; see `specific-queries.ts`); AlreadyExists for a taken alias. */
  addSpecificQuery(sql: string, alias: string): void {
    this.specificQueries.add(sql, alias);
  }
  /** Removes the specific queries with this SQL, or else the one with this alias (`iadmin rsq`); how many went. */
  removeSpecificQuery(sqlOrAlias: string): number {
    return this.specificQueries.remove(sqlOrAlias);
  }
  /** Makes a storage resource: a vault folder of its own (`iadmin mkresc`; see `resources.ts`). */
  addResource(name: string, host: string, context: string): void {
    this.resources.add(name, host, context);
  }
  /** Removes an empty storage resource and its folder, or with `dryRun` checks that it could. */
  removeResource(name: string, dryRun = false): void {
    this.resources.remove(name, dryRun);
  }
  /** The storage resources made, by name (the store vault, `demoResc`, is not listed). */
  listResources(): ResourceRow[] {
    return this.resources.list();
  }
  /** Whether a storage resource of this name exists (`demoResc` always does). */
  resourceExists(name: string): boolean {
    return this.resources.exists(name);
  }
  /** The SQL of the specific query a request names by SQL or alias; null for none. */
  findSpecificQuery(sqlOrAlias: string): string | null {
    return this.specificQueries.find(sqlOrAlias);
  }
  /** Folder holding the catalog and the vault. */
  get dataDir(): string {
    return this.core.dataDir;
  }
  /** `/<zone>`. */
  get zoneRoot(): string {
    return this.core.zoneRoot;
  }
  /** `/<zone>/trash`. */
  get trashRoot(): string {
    return this.core.trashRoot;
  }
  get vault(): Vault {
    return this.core.vault;
  }
  /** Worker threads hashing and staging bytes. */
  get hashWorkers(): number {
    return this.core.hashWorkers;
  }

  /** Checks and normalises a logical path of this zone. */
  normalize(path: string): string {
    return this.core.normalize(path);
  }

  // namespace
  stat(path: string): Promise<StoreEntry | null> {
    return this.collections.stat(path);
  }
  /** See {@link Collections.setModified}. */
  setModified(path: string, modified: Date): Promise<void> {
    return this.collections.setModified(path, modified);
  }
  createCollection(path: string, opts?: { parents?: boolean; owner?: string }): Promise<string[]> {
    return this.collections.createCollection(path, opts);
  }
  removeCollection(path: string, opts?: { recursive?: boolean }): Promise<void> {
    return this.collections.removeCollection(path, opts);
  }
  list(path: string, opts?: { recursive?: boolean } & PageOptions): Promise<StoreEntry[]> {
    return this.collections.list(path, opts);
  }
  listObjectPaths(path: string, opts?: { relative?: boolean } & PageOptions): Promise<string[]> {
    return this.collections.listObjectPaths(path, opts);
  }
  listObjectChecksums(path: string, opts?: { relative?: boolean } & PageOptions): Promise<Array<{ path: string; checksum: string | null }>> {
    return this.collections.listObjectChecksums(path, opts);
  }
  move(src: string, dst: string): Promise<void> {
    return this.collections.move(src, dst);
  }
  /** See {@link Collections.moveChecked}: a move with a caller's check, optionally over a data object, in one transaction. */
  moveChecked(src: string, dst: string, opts: MoveCheckedOptions): Promise<void> {
    return this.collections.moveChecked(src, dst, opts);
  }
  /** In one transaction: all or none. */
  moveMany(moves: readonly Move[]): Promise<void> {
    return this.collections.moveMany(moves);
  }

  // objects
  putObject(path: string, source: Readable | string, opts?: PutOptions): Promise<StoreEntry> {
    return this.objects.putObject(path, source, opts);
  }
  /**
   * Puts a local folder, recursively, into the collection `path` (created
   * when missing, with parents). Files are staged a few at a time and
   * committed in batches; each object appears atomically, but a failure
   * leaves the objects of earlier batches in place.
   */
  putTree(localDir: string, path: string, opts: PutTreeOptions = {}): Promise<PutTreeResult> {
    return putTree(this.objects, this.core, localDir, this.normalize(path), opts);
  }
  /** See {@link Objects.commitObjects}. */
  commitObjects(
    items: readonly PendingObject[],
    collections: readonly string[] = [],
    check?: (found: readonly PutTarget[]) => void,
  ): { entries: StoreEntry[]; createdCollections: string[] } {
    return this.objects.commitObjects(items, collections, check);
  }
  getObject(path: string): Promise<Readable> {
    return this.objects.getObject(path);
  }
  readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]> {
    return this.objects.readObjectHeads(paths, maxBytes);
  }
  removeObject(path: string): Promise<void> {
    return this.objects.removeObject(path);
  }
  computeChecksums(paths: readonly string[]): Promise<string[]> {
    return this.objects.computeChecksums(paths);
  }
  checksum(path: string, opts?: { verify?: boolean }): Promise<string> {
    return this.objects.checksum(path, opts);
  }

  // metadata
  getMetadata(path: string): Promise<Avu[]> {
    return this.metadata.getMetadata(path);
  }
  /** See {@link Metadata.applyMetadata}. */
  applyMetadata(path: string, ops: readonly AvuChange[]): Promise<void> {
    return this.metadata.applyMetadata(path, ops);
  }

  /** See {@link Metadata.removeUnusedAvus}. */
  removeUnusedAvus(): Promise<void> {
    return this.metadata.removeUnusedAvus();
  }

  modifyMetadata(path: string, op: MetadataOp, avu: Avu): Promise<void> {
    return this.metadata.modifyMetadata(path, op, avu);
  }

  // users and groups
  getPrincipal(name: string): Promise<Principal | null> {
    return this.principals.getPrincipal(name);
  }
  listPrincipals(kind: 'user' | 'group'): Promise<Principal[]> {
    return this.principals.listPrincipals(kind);
  }
  createPrincipal(name: string, type: PrincipalType): Promise<void> {
    return this.principals.createPrincipal(name, type);
  }
  removePrincipal(name: string, kind: 'user' | 'group'): Promise<void> {
    return this.principals.removePrincipal(name, kind);
  }
  groupMembers(group: string): Promise<string[]> {
    return this.principals.groupMembers(group);
  }
  isGroupMember(group: string, user: string): Promise<boolean> {
    return this.principals.isGroupMember(group, user);
  }
  addGroupMember(group: string, user: string, opts?: { onlyNew?: boolean }): Promise<void> {
    return this.principals.addGroupMember(group, user, opts);
  }
  removeGroupMember(group: string, user: string, opts?: { onlyMember?: boolean }): Promise<void> {
    return this.principals.removeGroupMember(group, user, opts);
  }

  // access
  getAcl(path: string): Promise<AclEntry[]> {
    return this.access.getAcl(path);
  }
  getAccessMany(paths: readonly string[], name: string): Promise<AccessLevel[]> {
    return this.access.getAccessMany(paths, name);
  }
  listAccess(path: string, name: string, opts?: { recursive?: boolean } & PageOptions): Promise<Array<{ path: string; level: Exclude<AccessLevel, 'null'> }>> {
    return this.access.listAccess(path, name, opts);
  }
  listAcls(path: string, opts?: { recursive?: boolean } & PageOptions): Promise<Array<{ path: string; acl: AclEntry[] }>> {
    return this.access.listAcls(path, opts);
  }
  setAccess(path: string, name: string, level: AccessLevel, opts?: { recursive?: boolean }): Promise<void> {
    return this.access.setAccess(path, name, level, opts);
  }
  setAccesses(path: string, grants: ReadonlyArray<{ name: string; level: AccessLevel }>, opts?: { recursive?: boolean }): Promise<void> {
    return this.access.setAccesses(path, grants, opts);
  }
  accessCounts(path: string, names: readonly string[], opts?: { recursive?: boolean }): Promise<AccessCounts> {
    return this.access.accessCounts(path, names, opts);
  }
  setAccessMany(paths: readonly string[], name: string, level: AccessLevel): Promise<void> {
    return this.access.setAccessMany(paths, name, level);
  }
  setInheritance(path: string, inherit: boolean, opts?: { recursive?: boolean }): Promise<void> {
    return this.access.setInheritance(path, inherit, opts);
  }

  // trash
  /** `user`: see {@link Trash.trash}. */
  trashPathFor(path: string, opts?: { user?: string }): Promise<string> {
    return this.bin.trashPathFor(path, opts);
  }
  trashPathUnlessObjects(path: string): Promise<{ objects: string[] } | { trashPath: string }> {
    return this.bin.trashPathUnlessObjects(path);
  }
  /** `user`: trash on behalf of that user, into their trash as an iRODS server does (see {@link Trash.trash}). */
  trash(path: string, opts?: { to?: string; user?: string }): Promise<string> {
    return this.bin.trash(path, opts);
  }
  restore(trashPath: string, path: string, opts?: { created?: readonly string[] }): Promise<void> {
    return this.bin.restore(trashPath, path, opts);
  }

  // tools
  dump(): Promise<string[]> {
    return this.admin.dump();
  }
  fsck(opts?: { repair?: boolean }): Promise<FsckReport> {
    return this.admin.fsck(opts);
  }
  close(): Promise<void> {
    return this.core.close();
  }
}
