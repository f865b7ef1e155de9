/**
 * Tasks on the data store (the `irods` target). Each returns from execute the
 * exact undo its revert needs; each also carries in its args a snapshot taken
 * while building the flow (`before`, `new_paths`, `existed`...) so a revert
 * with an unknown undo (a crash between the call and the journal write) can
 * still put back what was there before the flow.
 *
 * @module
 */
import type { Json } from '../engine/types.js';
import { NotFoundError } from '../store/errors.js';
import { baseName, parentPath, relativePath } from '../store/paths.js';
import { pages } from '../store/pages.js';
import type { AccessLevel, Avu, DataStore } from '../store/types.js';
import { Target } from './context.js';
import { defineTask } from './define.js';
import { checkLandingZone } from './zone-check.js';

/**
 * Access of one principal on a path and its subtree: a default level plus
 * the entries that differ from it, keyed by path relative to the root (`''`
 * is the root itself). Compact in the common case of one level throughout.
 */
export type AccessSnapshot = { level: AccessLevel; except: Record<string, AccessLevel> };

async function notFoundToNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** `path` relative to `root` (`''` for the root): the keys of {@link AccessSnapshot}. */
function relKey(path: string, root: string): string {
  return path === root ? '' : path.slice(root.length + 1);
}

const LEVEL_CODES: readonly AccessLevel[] = ['null', 'read', 'write', 'own'];

/** The most frequent level code (the lowest on a tie). */
function commonCode(counts: readonly number[]): number {
  return counts.indexOf(Math.max(...counts));
}

/** The entries of `path` (and its subtree) where `name` is not at `level`, a page at a time. */
function exceptionPages(store: DataStore, path: string, name: string, level: AccessLevel, recursive: boolean) {
  return pages((page) => store.listAccessExceptions(path, name, level, { recursive, ...page }), (e) => e.path);
}

/**
 * Reads, per principal of `names`, its access on `path` (and its subtree
 * when recursive) in compact form: the most common level, counted by the
 * store, and the entries at another level, listed by the store a page at a
 * time. A zone where every entry has the same ACL (the usual case) costs
 * one count per principal, with nothing per entry in memory.
 */
async function scanAccess(
  store: DataStore,
  path: string,
  names: readonly string[],
  recursive: boolean,
): Promise<{ count: number; snapshots: AccessSnapshot[] }> {
  const { entries, levels } = await store.countAccess(path, names, { recursive });
  const snapshots: AccessSnapshot[] = [];
  for (const [k, name] of names.entries()) {
    const common = commonCode(levels[k]);
    const level = LEVEL_CODES[common];
    const except: Record<string, AccessLevel> = {};
    if (levels[k].some((n, c) => c !== common && n > 0)) {
      for await (const page of exceptionPages(store, path, name, level, recursive)) {
        for (const e of page) except[relKey(e.path, path)] = e.level;
      }
    }
    snapshots.push({ level, except });
  }
  return { count: entries, snapshots };
}

/** Reads one principal's access on a path and its subtree, compactly. Used while building flows. */
export async function snapshotAccess(
  store: DataStore,
  path: string,
  name: string,
  recursive: boolean,
): Promise<AccessSnapshot | null> {
  const { count, snapshots } = await scanAccess(store, path, [name], recursive);
  return count === 0 ? null : snapshots[0];
}

/**
 * {@link snapshotAccess} for several principals in one pass over the subtree
 * (one ACL read per entry, whatever the number of principals).
 */
export async function snapshotAccessMany(
  store: DataStore,
  path: string,
  names: readonly string[],
  recursive: boolean,
): Promise<Record<string, AccessSnapshot> | null> {
  const { count, snapshots } = await scanAccess(store, path, names, recursive);
  if (count === 0) return null;
  return Object.fromEntries(names.map((n, i) => [n, snapshots[i]]));
}

/** Whether a user or group of that name exists (a revert has nothing to give a removed one). */
async function principalExists(store: DataStore, name: string): Promise<boolean> {
  return (await store.getUser(name)) !== null || (await store.getGroup(name)) !== null;
}

/** Sets `name` to `level` on `path` unless it is there already; a vanished path is skipped. */
async function restoreAccess(store: DataStore, path: string, name: string, level: AccessLevel): Promise<void> {
  const current = await notFoundToNull(store.getAccess(path, name));
  if (current === null || current === level) return;
  await store.setAccess(path, name, level);
}

/**
 * Puts back a principal's access as `snap` recorded it: its common level on
 * the whole subtree in one store call, then each recorded exception. Entries
 * gone since are skipped; idempotent.
 */
async function restoreSnapshot(
  store: DataStore,
  path: string,
  name: string,
  recursive: boolean,
  snap: AccessSnapshot,
): Promise<void> {
  if (!(await store.stat(path)) || !(await principalExists(store, name))) return;
  if (recursive) await store.setAccess(path, name, snap.level, { recursive: true });
  else await restoreAccess(store, path, name, snap.level);
  for (const [key, level] of Object.entries(snap.except)) {
    await restoreAccess(store, key === '' ? path : `${path}/${key}`, name, level);
  }
}

// ---------------------------------------------------------------- collections

/** Args of {@link createCollections}. */
export type CreateCollectionsArgs = {
  /** Collections to create, with missing parents. */
  paths: string[];
  /** Collections that did not exist when the flow was built, parents first. */
  new_paths: string[];
};

/**
 * Removes collections (deepest first) that exist. With `exact`, a created
 * collection that is no longer empty fails the revert (removing it would lose
 * data); without (a crash: the list is what was missing before the flow, some
 * of it created by earlier tasks that revert later), non-empty ones are left.
 */
async function removeCreated(store: DataStore, created: readonly string[], exact: boolean): Promise<void> {
  for (const p of [...created].sort((a, b) => b.length - a.length)) {
    if (!(await store.collectionExists(p))) continue;
    if (!exact && (await store.list(p)).length > 0) continue;
    await store.removeCollection(p);
  }
}

/** Creates collections and their missing parents; revert removes exactly the ones it created. */
export const createCollections = defineTask<CreateCollectionsArgs, { created: string[] }>({
  kind: 'store.createCollections',
  target: Target.store,
  async execute({ store }, args, progress) {
    const created: string[] = [];
    for (const p of args.paths) {
      created.push(...(await store.createCollection(p, { parents: true })));
      progress({ created: [...created] });
    }
    return created.length > 0 ? { created } : undefined;
  },
  async revert({ store }, args, undo) {
    await (undo ? removeCreated(store, undo.created, true) : removeCreated(store, args.new_paths, false));
  },
});

/** Which collections of `paths` (and their parents) do not exist yet, parents first. */
export async function missingCollections(store: DataStore, paths: readonly string[]): Promise<string[]> {
  const known = new Map<string, boolean>();
  const missing = new Set<string>();
  const exists = async (p: string): Promise<boolean> => {
    let v = known.get(p);
    if (v === undefined) {
      v = (await store.stat(p)) !== null;
      known.set(p, v);
    }
    return v;
  };
  for (const path of paths) {
    const chain: string[] = [];
    for (let p = path; p !== '/' && !(await exists(p)); p = parentPath(p)) {
      if (missing.has(p)) break;
      chain.push(p);
    }
    for (const p of chain) missing.add(p);
  }
  return [...missing].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
}

// --------------------------------------------------------------------- access

/** Args of {@link setAccess}. */
export type SetAccessArgs = {
  path: string;
  /** User or group. */
  name: string;
  level: AccessLevel;
  recursive: boolean;
  /** Access before the flow (null: the path did not exist). */
  before: AccessSnapshot | null;
};

/** Whether setting `level` throughout changes any entry that `snap` describes. */
function changesAny(snap: AccessSnapshot, level: AccessLevel): boolean {
  return snap.level !== level || Object.values(snap.except).some((l) => l !== level);
}

/**
 * Sets a user's or group's access; revert puts back each entry's previous
 * level. The undo is the principal's previous access in compact form (one
 * level for a whole zone in the common case), not one record per entry.
 */
export const setAccess = defineTask<SetAccessArgs, AccessSnapshot>({
  kind: 'store.setAccess',
  target: Target.store,
  async execute({ store }, args) {
    const { count, snapshots } = await scanAccess(store, args.path, [args.name], args.recursive);
    if (count === 0) throw new NotFoundError(args.path);
    if (!changesAny(snapshots[0], args.level)) return undefined;
    await store.setAccess(args.path, args.name, args.level, { recursive: args.recursive });
    return snapshots[0];
  },
  async revert({ store }, args, undo) {
    const snap = undo ?? args.before;
    if (snap) await restoreSnapshot(store, args.path, args.name, args.recursive, snap);
  },
});

/** One principal's part of {@link setAccesses}. */
export type AccessGrant = {
  /** User or group. */
  name: string;
  level: AccessLevel;
  /** Access before the flow (null: the path did not exist). */
  before: AccessSnapshot | null;
};

/** Args of {@link setAccesses}. */
export type SetAccessesArgs = { path: string; recursive: boolean; grants: AccessGrant[] };

/**
 * {@link setAccess} for several principals on one subtree with one ACL read
 * of it (a large zone has hundreds of thousands of entries: each pass
 * counts). Undo: each changed principal's previous access, compactly.
 */
export const setAccesses = defineTask<SetAccessesArgs, { previous: Record<string, AccessSnapshot> }>({
  kind: 'store.setAccesses',
  target: Target.store,
  async execute({ store }, args, progress) {
    const names = args.grants.map((g) => g.name);
    const { count, snapshots } = await scanAccess(store, args.path, names, args.recursive);
    if (count === 0) throw new NotFoundError(args.path);
    const previous: Record<string, AccessSnapshot> = {};
    for (const [i, g] of args.grants.entries()) {
      if (!changesAny(snapshots[i], g.level)) continue;
      await store.setAccess(args.path, g.name, g.level, { recursive: args.recursive });
      previous[g.name] = snapshots[i];
      progress({ previous: { ...previous } });
    }
    return Object.keys(previous).length > 0 ? { previous } : undefined;
  },
  async revert({ store }, args, undo) {
    for (const g of [...args.grants].reverse()) {
      const snap = undo ? undo.previous[g.name] : g.before;
      if (snap) await restoreSnapshot(store, args.path, g.name, args.recursive, snap);
    }
  },
});

/** Args of {@link setInheritance}. */
export type SetInheritanceArgs = { path: string; inherit: boolean; before: boolean | null };

/** Sets a collection's inheritance flag (not recursively); revert restores the previous flag. */
export const setInheritance = defineTask<SetInheritanceArgs, { previous: boolean }>({
  kind: 'store.setInheritance',
  target: Target.store,
  async execute({ store }, args) {
    const entry = await store.stat(args.path);
    if (!entry || entry.type !== 'collection') throw new NotFoundError(args.path, 'collection');
    if (entry.inherit === args.inherit) return undefined;
    await store.setInheritance(args.path, args.inherit);
    return { previous: entry.inherit };
  },
  async revert({ store }, args, undo) {
    const previous = undo ? undo.previous : args.before;
    if (previous === null) return;
    const entry = await store.stat(args.path);
    if (entry?.type === 'collection' && entry.inherit !== previous) await store.setInheritance(args.path, previous);
  },
});

// ------------------------------------------------------------ users and groups

/** Args of {@link createUser}. */
export type CreateUserArgs = { name: string; user_type: 'rodsuser' | 'rodsadmin'; existed: boolean };

/** Creates a user unless it exists; revert removes it only if this task created it. */
export const createUser = defineTask<CreateUserArgs, { created: true }>({
  kind: 'store.createUser',
  target: Target.store,
  async execute({ store }, args) {
    if (await store.getUser(args.name)) return undefined;
    await store.createUser(args.name, args.user_type);
    return { created: true };
  },
  async revert({ store }, args, undo) {
    if (!undo && args.existed) return;
    if (await store.getUser(args.name)) await store.removeUser(args.name);
  },
});

/** Args of {@link createGroup}. */
export type CreateGroupArgs = { name: string; existed: boolean };

/** Creates a group unless it exists; revert removes it only if this task created it. */
export const createGroup = defineTask<CreateGroupArgs, { created: true }>({
  kind: 'store.createGroup',
  target: Target.store,
  async execute({ store }, args) {
    if (await store.getGroup(args.name)) return undefined;
    await store.createGroup(args.name);
    return { created: true };
  },
  async revert({ store }, args, undo) {
    if (!undo && args.existed) return;
    if (await store.getGroup(args.name)) await store.removeGroup(args.name);
  },
});

/** Args of the group member tasks. */
export type GroupMemberArgs = { group: string; user: string; was_member: boolean };

/** Whether both exist, so a membership can be put back (asked only on that rare path). */
async function canBeMember(store: DataStore, group: string, user: string): Promise<boolean> {
  return (await store.getGroup(group)) !== null && (await store.getUser(user)) !== null;
}

/** Adds a user to a group; revert removes the membership only if this task added it. */
export const addGroupMember = defineTask<GroupMemberArgs, { added: true }>({
  kind: 'store.addGroupMember',
  target: Target.store,
  async execute({ store }, args) {
    if (await store.isGroupMember(args.group, args.user)) return undefined;
    await store.addGroupMember(args.group, args.user);
    return { added: true };
  },
  async revert({ store }, args, undo) {
    if (!undo && args.was_member) return;
    if (await store.isGroupMember(args.group, args.user)) await store.removeGroupMember(args.group, args.user);
  },
});

/** Removes a user from a group; revert adds the membership back if this task removed it. */
export const removeGroupMember = defineTask<GroupMemberArgs, { removed: true }>({
  kind: 'store.removeGroupMember',
  target: Target.store,
  async execute({ store }, args) {
    if (!(await store.isGroupMember(args.group, args.user))) return undefined;
    await store.removeGroupMember(args.group, args.user);
    return { removed: true };
  },
  async revert({ store }, args, undo) {
    if (!undo && !args.was_member) return;
    if (!(await store.isGroupMember(args.group, args.user)) && (await canBeMember(store, args.group, args.user))) {
      await store.addGroupMember(args.group, args.user);
    }
  },
});

// ------------------------------------------------------------------- metadata

/** A metadata triple as plain JSON. */
export type AvuJson = { attribute: string; value: string; unit: string };

/** Args of {@link setMetadata}. */
export type SetMetadataArgs = {
  path: string;
  attribute: string;
  /** The one value to keep; null removes every value of the attribute. */
  value: string | null;
  unit: string;
  /** The attribute's values before the flow (null: the path did not exist). */
  before: AvuJson[] | null;
};

async function putAttribute(store: DataStore, path: string, attribute: string, wanted: readonly Avu[]): Promise<void> {
  const current = (await store.getMetadata(path)).filter((a) => a.attribute === attribute);
  const key = (a: Avu) => `${a.value}\u0000${a.unit}`;
  const want = new Set(wanted.map(key));
  const have = new Set(current.map(key));
  if (wanted.length === 1 && (current.length !== 1 || !have.has(key(wanted[0])))) {
    await store.setMetadata(path, wanted[0]);
    return;
  }
  for (const a of current) if (!want.has(key(a))) await store.removeMetadata(path, a);
  for (const a of wanted) if (!have.has(key(a))) await store.addMetadata(path, a);
}

/** Sets (or removes) one metadata attribute; revert puts back its previous values. */
export const setMetadata = defineTask<SetMetadataArgs, { previous: AvuJson[] }>({
  kind: 'store.setMetadata',
  target: Target.store,
  async execute({ store }, args, progress) {
    const previous: AvuJson[] = (await store.getMetadata(args.path))
      .filter((a) => a.attribute === args.attribute)
      .map((a) => ({ attribute: a.attribute, value: a.value, unit: a.unit }));
    const wanted = args.value === null ? [] : [{ attribute: args.attribute, value: args.value, unit: args.unit }];
    const same =
      previous.length === wanted.length && previous.every((a, i) => a.value === wanted[i].value && a.unit === wanted[i].unit);
    if (same) return undefined;
    progress({ previous });
    await putAttribute(store, args.path, args.attribute, wanted);
    return { previous };
  },
  async revert({ store }, args, undo) {
    const previous = undo ? undo.previous : args.before;
    if (previous === null || !(await store.stat(args.path))) return;
    await putAttribute(store, args.path, args.attribute, previous);
  },
});

// ---------------------------------------------------------------------- trash

/**
 * Where the embedded store puts a trashed path: `/<zone>/trash/home/rods/<path
 * relative to the zone>`, with a `.N` suffix on a clash. Only used to find an
 * entry trashed by a task whose result was never journaled.
 */
function trashDirFor(zone: string, path: string): string {
  return `/${zone}/trash/home/rods/${relativePath(parentPath(path), `/${zone}`)}`.replace(/\/$/, '');
}

function trashCandidates(names: readonly string[], base: string): string[] {
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.\\d+)?$`);
  return names.filter((n) => re.test(n));
}

/**
 * Entries already in the trash under the name a trash of `path` would get.
 * Used while building flows; `cache` keeps each trash folder's listing, so
 * removing many paths of one folder lists it once.
 */
export async function trashedBefore(store: DataStore, path: string, cache = new Map<string, string[]>()): Promise<string[]> {
  const dir = trashDirFor(store.zone, path);
  let names = cache.get(dir);
  if (!names) {
    names = (await store.collectionExists(dir)) ? (await store.list(dir)).map((e) => baseName(e.path)) : [];
    cache.set(dir, names);
  }
  return trashCandidates(names, baseName(path)).map((n) => `${dir}/${n}`);
}

/** Args of {@link trash}. */
export type TrashArgs = {
  path: string;
  /** Refuse when data objects remain below (a landing zone must be empty of files once moved). */
  refuse_objects: boolean;
  /** Trash entries with the same name before the flow (see {@link trashedBefore}). */
  known_trash: string[];
};

/** Thrown when a collection to remove still holds files it should not. */
export class ObjectsRemainError extends Error {
  override name = 'ObjectsRemainError';
  constructor(
    readonly path: string,
    readonly objects: string[],
  ) {
    super(
      `Collection ${path} still holds ${objects.length} file(s): ${objects
        .slice(0, 10)
        .map((o) => relativePath(o, path))
        .join(', ')}${objects.length > 10 ? ', ...' : ''}`,
    );
  }
}

/** Moves an object or collection to the trash; revert restores it from there. */
export const trash = defineTask<TrashArgs, { trash_path: string }>({
  kind: 'store.trash',
  target: Target.store,
  async execute({ store }, args) {
    if (args.refuse_objects) {
      const left = await store.listObjectPaths(args.path);
      if (left.length > 0) throw new ObjectsRemainError(args.path, left);
    }
    return { trash_path: await store.trash(args.path) };
  },
  async revert({ store }, args, undo) {
    if (await store.stat(args.path)) return;
    let from = undo?.trash_path;
    if (!from) {
      const dir = trashDirFor(store.zone, args.path);
      if (!(await store.collectionExists(dir))) return;
      const known = new Set(args.known_trash);
      const names = (await store.list(dir)).map((e) => baseName(e.path));
      const fresh = trashCandidates(names, baseName(args.path))
        .map((n) => `${dir}/${n}`)
        .filter((p) => !known.has(p));
      if (fresh.length !== 1) return;
      from = fresh[0];
    }
    if (await store.stat(from)) await store.restore(from, args.path);
  },
});

// ---------------------------------------------------------------------- moves

/** A principal whose access {@link moveObjects} removes from the objects it moves. */
export type Revoke = {
  /** User or group. */
  name: string;
  /**
   * Its access on the chunk's objects before the flow, keyed by name
   * relative to `src` (null: none known); a revert with an unknown undo
   * puts this back.
   */
  before: AccessSnapshot | null;
};

/**
 * Args of {@link moveObjects}: objects `<src>/<name>` go to `<dst>/<name>`.
 * `names` is relative and packed by {@link packNames}: a zone move's plan
 * holds every name until the run ends (the revert needs them), and one string
 * per chunk costs a quarter of the memory of an array of short strings, and
 * does not repeat the two long base paths per file. `revoke`: principals whose
 * access the move removes from these objects in the same store transaction.
 */
export type MoveObjectsArgs = { src: string; dst: string; names: string; revoke?: Revoke[] };

/** Undo of {@link moveObjects}: the count, and each revoked principal's previous access on the chunk. */
export type MoveObjectsUndo = { moved: number; previous?: Record<string, AccessSnapshot> };

// a store path never holds a control character (paths.ts), so a newline separates names unambiguously
const NAME_SEPARATOR = '\n';

/** Packs relative object names for {@link MoveObjectsArgs}. */
export function packNames(names: readonly string[]): string {
  return names.join(NAME_SEPARATOR);
}

type Move = { src: string; dst: string };

function movesOf(args: MoveObjectsArgs): Move[] {
  const { src, dst } = args;
  if (args.names === '') return [];
  return args.names.split(NAME_SEPARATOR).map((n) => ({ src: `${src}/${n}`, dst: `${dst}/${n}` }));
}

/** Whether the moves are done: one probe suffices, as the moves and their revert are each one store transaction. */
async function movesDone(store: DataStore, moves: readonly Move[]): Promise<boolean> {
  const probe = moves[0];
  return probe !== undefined && (await store.objectExists(probe.dst)) && !(await store.stat(probe.src));
}

/** Relative names of a chunk (the keys of its snapshots). */
function namesOf(args: MoveObjectsArgs): string[] {
  return args.names === '' ? [] : args.names.split(NAME_SEPARATOR);
}

/** Levels of one principal over a chunk, compactly: the most common level and the names at another. */
function compactLevels(names: readonly string[], levels: readonly AccessLevel[]): AccessSnapshot {
  const counts = [0, 0, 0, 0];
  for (const l of levels) counts[LEVEL_CODES.indexOf(l)]++;
  const level = LEVEL_CODES[commonCode(counts)];
  const except: Record<string, AccessLevel> = {};
  levels.forEach((l, i) => {
    if (l !== level) except[names[i]] = l;
  });
  return { level, except };
}

/**
 * Puts back a principal's levels on the chunk's objects under `base`, one
 * store call per level present; objects gone since (someone moved them) are
 * put back one by one where they still are.
 */
async function restoreChunk(store: DataStore, base: string, names: readonly string[], name: string, snap: AccessSnapshot): Promise<void> {
  if (!(await principalExists(store, name))) return;
  const byLevel = new Map<AccessLevel, string[]>();
  for (const n of names) {
    const level = snap.except[n] ?? snap.level;
    let group = byLevel.get(level);
    if (!group) byLevel.set(level, (group = []));
    group.push(`${base}/${n}`);
  }
  for (const [level, paths] of byLevel) {
    try {
      await store.setAccessMany(paths, name, level);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      for (const p of paths) await restoreAccess(store, p, name, level);
    }
  }
}

/**
 * Moves data objects in one store transaction (ACLs, metadata and checksums
 * travel with them), removing the `revoke` principals' access on them in the
 * same transaction; revert puts each revoked entry back, then moves the
 * objects back in one transaction.
 */
export const moveObjects = defineTask<MoveObjectsArgs, MoveObjectsUndo>({
  kind: 'store.moveObjects',
  target: Target.store,
  async execute({ store }, args) {
    const moves = movesOf(args);
    if (moves.length === 0) return undefined;
    const revoke = (args.revoke ?? []).map((r) => r.name);
    let previous: Record<string, AccessSnapshot> | undefined;
    if (revoke.length > 0) {
      const names = namesOf(args);
      const sources = moves.map((m) => m.src);
      previous = {};
      for (const name of revoke) previous[name] = compactLevels(names, await store.getAccessMany(sources, name));
    }
    await store.moveMany(moves, { revoke });
    return previous ? { moved: moves.length, previous } : { moved: moves.length };
  },
  async revert({ store }, args, undo) {
    const moves = movesOf(args);
    if (!(await movesDone(store, moves))) return;
    // access first, while the objects are still where the move put them: a revert cut short here runs again whole
    const names = namesOf(args);
    for (const r of args.revoke ?? []) {
      const snap = undo ? undo.previous?.[r.name] : r.before;
      if (snap) await restoreChunk(store, args.dst, names, r.name, snap);
    }
    try {
      await store.moveMany(moves.map((m) => ({ src: m.dst, dst: m.src })));
    } catch {
      // not all in place (changed by someone else since): move back what can be, one by one
      for (const m of moves) {
        if ((await store.objectExists(m.dst)) && !(await store.stat(m.src))) await store.move(m.dst, m.src);
      }
    }
  },
});

// ----------------------------------------------------------------- validation

/** Args of {@link checkZone}. */
export type CheckZoneArgs = { zone_path: string; verify: boolean };

/** Checks a landing zone's files against their `.md5` companions. Changes nothing. */
export const checkZone = defineTask<CheckZoneArgs, Json>({
  kind: 'store.checkLandingZone',
  target: Target.store,
  async execute({ store }, args) {
    await checkLandingZone(store, args.zone_path, { verify: args.verify });
    return undefined;
  },
  async revert() {},
});

