/**
 * Tasks on the data store (the `irods` target). Each prepare reads what its
 * change will replace and returns it as the undo value (journaled before the
 * change); its revert puts that back, checking first, as the apply may have
 * been cut short anywhere.
 *
 * @module
 */
import { NothingAppliedError } from '../engine/errors.js';
import type { Json } from '../engine/types.js';
import { AlreadyExistsError, NotFoundError } from '../store/errors.js';
import { parentPath, relativePath } from '../store/paths.js';
import { pages } from '../store/pages.js';
import type { AccessLevel, Avu, FlowStore } from '../store/types.js';
import { Target } from './context.js';
import { defineTask } from './define.js';
import { ProgressKey, type ProgressArgs } from './progress.js';
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

/** Whether `a` sorts before `b` in the catalog's order of paths (bytes of UTF-8). */
function sortsBefore(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
}

/**
 * One principal's entries with access ({@link FlowStore.listAccess}), read a
 * page at a time beside the listing of all entries: the level at each path
 * of the listing, asked in path order.
 */
class AccessCursor {
  private readonly it: AsyncGenerator<Array<{ path: string; level: AccessLevel }>, void, undefined>;
  private page: Array<{ path: string; level: AccessLevel }> = [];
  private i = 0;
  private done = false;

  constructor(store: FlowStore, path: string, name: string, recursive: boolean) {
    this.it = pages((page) => store.listAccess(path, name, { recursive, ...page }), (e) => e.path);
  }

  /**
   * The level at `path`, the next path of the listing; entries before it
   * (gone from the listing since) are passed over. Undefined when the page
   * in hand is used up: {@link fill}, then ask again (most asks need no
   * await, which counts over a zone's hundreds of thousands of entries).
   */
  levelAt(path: string): AccessLevel | undefined {
    while (this.i < this.page.length) {
      const e = this.page[this.i];
      if (e.path === path) {
        this.i++;
        return e.level;
      }
      if (!sortsBefore(e.path, path)) return 'null';
      this.i++;
    }
    return this.done ? 'null' : undefined;
  }

  /** Reads the next page. */
  async fill(): Promise<void> {
    const next = await this.it.next();
    if (next.done) this.done = true;
    else {
      this.page = next.value;
      this.i = 0;
    }
  }
}

/**
 * Walks `path` (and its subtree when recursive: `path` first, then by path)
 * and calls `visit` with each entry's level per principal of `names`. The
 * listing of all entries and each principal's listing of the entries it has
 * access on are read side by side a page at a time (iRODS lists access
 * entries, not their absence): flat memory whatever the subtree's size.
 * Returns the entries walked (0 when `path` does not exist).
 */
async function walkAccess(
  store: FlowStore,
  path: string,
  names: readonly string[],
  recursive: boolean,
  visit: (path: string, levels: readonly AccessLevel[]) => void,
): Promise<number> {
  const root = await store.stat(path);
  if (!root) return 0;
  const cursors = names.map((name) => new AccessCursor(store, path, name, recursive));
  const levels: AccessLevel[] = new Array<AccessLevel>(names.length);
  // each cursor is asked once per entry (an answer consumes its access entry): without an await while its page is in hand
  const at = (p: string): Promise<void> | undefined => {
    for (let k = 0; k < cursors.length; k++) {
      const level = cursors[k].levelAt(p);
      if (level === undefined) return atAfterFill(p, k);
      levels[k] = level;
    }
    visit(p, levels);
    return undefined;
  };
  const atAfterFill = async (p: string, from: number): Promise<void> => {
    for (let k = from; k < cursors.length; k++) {
      let level = cursors[k].levelAt(p);
      while (level === undefined) {
        await cursors[k].fill();
        level = cursors[k].levelAt(p);
      }
      levels[k] = level;
    }
    visit(p, levels);
  };
  await at(root.path);
  let count = 1;
  if (recursive && root.type === 'collection') {
    for await (const page of pages((page) => store.list(path, { recursive: true, ...page }), (e) => e.path)) {
      for (const e of page) {
        const filling = at(e.path);
        if (filling) await filling;
      }
      count += page.length;
    }
  }
  return count;
}

/**
 * Reads, per principal of `names`, its access on `path` (and its subtree
 * when recursive) in compact form: the most common level, and the entries
 * at another level. The store counts the levels (one call; a zone where
 * every entry has the same ACL, the usual case, needs nothing more, and
 * nothing per entry is held in memory). The exceptions of a principal mostly
 * without access are its access entries, listed alone; only one mostly with
 * access needs the listing of all entries beside its access entries.
 */
async function scanAccess(
  store: FlowStore,
  path: string,
  names: readonly string[],
  recursive: boolean,
): Promise<{ count: number; snapshots: AccessSnapshot[] }> {
  const { entries: count, levels } = await store.accessCounts(path, names, { recursive });
  const counts = levels.map((l) => LEVEL_CODES.map((code) => l[code]));
  const snapshots: AccessSnapshot[] = counts.map((c) => ({ level: LEVEL_CODES[commonCode(c)], except: {} }));
  const mixed = names.filter((_n, k) => counts[k].some((n, code) => n > 0 && LEVEL_CODES[code] !== snapshots[k].level));
  // mostly without access: the exceptions are the entries it has access on, listed alone
  for (const name of mixed.filter((n) => snapshots[names.indexOf(n)].level === 'null')) {
    const { except } = snapshots[names.indexOf(name)];
    for await (const page of pages((page) => store.listAccess(path, name, { recursive, ...page }), (e) => e.path)) {
      for (const e of page) except[relKey(e.path, path)] = e.level;
    }
  }
  // mostly with access: the exceptions include entries without, found beside the listing of all
  const held = mixed.filter((n) => snapshots[names.indexOf(n)].level !== 'null');
  if (held.length > 0) {
    const heldSnaps = held.map((n) => snapshots[names.indexOf(n)]);
    await walkAccess(store, path, held, recursive, (p, levels) => {
      for (const [k, l] of levels.entries()) if (l !== heldSnaps[k].level) heldSnaps[k].except[relKey(p, path)] = l;
    });
  }
  return { count, snapshots };
}

/** Whether a user or group of that name exists (a revert has nothing to give a removed one). */
async function principalExists(store: FlowStore, name: string): Promise<boolean> {
  return (await store.getPrincipal(name)) !== null;
}

/** Whether `name` is a user (or a group, as `kind` asks). */
async function isPrincipal(store: FlowStore, name: string, kind: 'user' | 'group'): Promise<boolean> {
  return (await store.getPrincipal(name))?.kind === kind;
}

/** Sets `name` to `level` on `path` unless it is there already; a vanished path is skipped. */
async function restoreAccess(store: FlowStore, path: string, name: string, level: AccessLevel): Promise<void> {
  const current = (await notFoundToNull(store.getAccessMany([path], name)))?.[0] ?? null;
  if (current === null || current === level) return;
  await store.setAccess(path, name, level);
}

/**
 * Puts back a principal's access as `snap` recorded it: its common level on
 * the whole subtree in one store call, then each recorded exception. Entries
 * gone since are skipped; idempotent.
 */
async function restoreSnapshot(
  store: FlowStore,
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
};

/**
 * Removes the collections of `created` that exist, deepest first. One that
 * is no longer empty fails the revert: removing it would lose data someone
 * put there since.
 */
async function removeCreated(store: FlowStore, created: readonly string[]): Promise<void> {
  for (const p of [...created].sort((a, b) => b.length - a.length)) {
    if ((await store.stat(p))?.type === 'collection') await store.removeCollection(p);
  }
}

/** Creates collections and their missing parents; revert removes the ones that were missing. */
export const createCollections = defineTask<CreateCollectionsArgs, { created: string[] }>({
  kind: 'store.createCollections',
  target: Target.store,
  async prepare({ store }, args) {
    const created = await missingCollections(store, args.paths);
    return created.length > 0 ? { created } : undefined;
  },
  async apply({ store }, args, undo) {
    if (undo === undefined) return;
    for (const p of args.paths) await store.createCollection(p, { parents: true });
  },
  async revert({ store }, _args, undo) {
    await removeCreated(store, undo.created);
  },
});

/** Which collections of `paths` (and their parents) do not exist yet, parents first. */
export async function missingCollections(store: FlowStore, paths: readonly string[]): Promise<string[]> {
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
  async prepare({ store }, args) {
    const { count, snapshots } = await scanAccess(store, args.path, [args.name], args.recursive);
    if (count === 0) throw new NotFoundError(args.path);
    return changesAny(snapshots[0], args.level) ? snapshots[0] : undefined;
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await store.setAccess(args.path, args.name, args.level, { recursive: args.recursive });
  },
  async revert({ store }, args, undo) {
    await restoreSnapshot(store, args.path, args.name, args.recursive, undo);
  },
});

/** One principal's part of {@link setAccesses}. */
export type AccessGrant = {
  /** User or group. */
  name: string;
  level: AccessLevel;
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
  async prepare({ store }, args) {
    const names = args.grants.map((g) => g.name);
    const { count, snapshots } = await scanAccess(store, args.path, names, args.recursive);
    if (count === 0) throw new NotFoundError(args.path);
    const previous: Record<string, AccessSnapshot> = {};
    for (const [i, g] of args.grants.entries()) {
      if (changesAny(snapshots[i], g.level)) previous[g.name] = snapshots[i];
    }
    return Object.keys(previous).length > 0 ? { previous } : undefined;
  },
  async apply({ store }, args, undo) {
    const changed = args.grants.filter((g) => undo?.previous[g.name] !== undefined);
    if (changed.length > 0) await store.setAccesses(args.path, changed, { recursive: args.recursive });
  },
  async revert({ store }, args, undo) {
    for (const g of [...args.grants].reverse()) {
      const snap = undo.previous[g.name];
      if (snap) await restoreSnapshot(store, args.path, g.name, args.recursive, snap);
    }
  },
});

/** Args of {@link setInheritance}. */
export type SetInheritanceArgs = { path: string; inherit: boolean };

/** Sets a collection's inheritance flag (not recursively); revert restores the previous flag. */
export const setInheritance = defineTask<SetInheritanceArgs, { previous: boolean }>({
  kind: 'store.setInheritance',
  target: Target.store,
  async prepare({ store }, args) {
    const entry = await store.stat(args.path);
    if (!entry || entry.type !== 'collection') throw new NotFoundError(args.path, 'collection');
    return entry.inherit === args.inherit ? undefined : { previous: entry.inherit };
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await store.setInheritance(args.path, args.inherit);
  },
  async revert({ store }, args, undo) {
    const entry = await store.stat(args.path);
    if (entry?.type === 'collection' && entry.inherit !== undo.previous) await store.setInheritance(args.path, undo.previous);
  },
});

// ------------------------------------------------------------ users and groups

/** Args of {@link createUser}. */
export type CreateUserArgs = { name: string; user_type: 'rodsuser' | 'rodsadmin' };

/**
 * `change`, an apply of a task whose prepare found a user, group or
 * membership missing (or, to remove, there) and so recorded that this run
 * makes (removes) it: when another run (one without the project lock, or
 * another project's) did so meanwhile, the store refuses with AlreadyExists
 * (NotFound) before changing anything, and the task has nothing of its own
 * to revert: reverting it would take back what the other run did. The run
 * fails instead, as a conflict.
 */
async function refusedIfRaced(change: Promise<void>): Promise<void> {
  try {
    await change;
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw new NothingAppliedError(`${err.message}: another run made it meanwhile`, { cause: err });
    if (err instanceof NotFoundError && err.what === 'member') throw new NothingAppliedError(`${err.message}: another run removed it meanwhile`, { cause: err });
    throw err;
  }
}

/** Creates a user unless it exists; revert removes it only if this task created it. */
export const createUser = defineTask<CreateUserArgs, { created: true }>({
  kind: 'store.createUser',
  target: Target.store,
  async prepare({ store }, args) {
    return (await isPrincipal(store, args.name, 'user')) ? undefined : { created: true };
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await refusedIfRaced(store.createPrincipal(args.name, args.user_type));
  },
  async revert({ store }, args) {
    if (await isPrincipal(store, args.name, 'user')) await store.removePrincipal(args.name, 'user');
  },
});

/** Args of {@link createGroup}. */
export type CreateGroupArgs = { name: string };

/** Creates a group unless it exists; revert removes it only if this task created it. */
export const createGroup = defineTask<CreateGroupArgs, { created: true }>({
  kind: 'store.createGroup',
  target: Target.store,
  async prepare({ store }, args) {
    return (await isPrincipal(store, args.name, 'group')) ? undefined : { created: true };
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await refusedIfRaced(store.createPrincipal(args.name, 'rodsgroup'));
  },
  async revert({ store }, args) {
    if (await isPrincipal(store, args.name, 'group')) await store.removePrincipal(args.name, 'group');
  },
});

/** Args of the group member tasks. */
export type GroupMemberArgs = { group: string; user: string };

/** Whether both exist, so a membership can be put back (asked only on that rare path). */
async function canBeMember(store: FlowStore, group: string, user: string): Promise<boolean> {
  return (await isPrincipal(store, group, 'group')) && (await isPrincipal(store, user, 'user'));
}

/** Adds a user to a group; revert removes the membership only if this task added it. */
export const addGroupMember = defineTask<GroupMemberArgs, { added: true }>({
  kind: 'store.addGroupMember',
  target: Target.store,
  async prepare({ store }, args) {
    return (await store.isGroupMember(args.group, args.user)) ? undefined : { added: true };
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await refusedIfRaced(store.addGroupMember(args.group, args.user, { onlyNew: true }));
  },
  async revert({ store }, args) {
    if (await store.isGroupMember(args.group, args.user)) await store.removeGroupMember(args.group, args.user);
  },
});

/** Removes a user from a group; revert adds the membership back if this task removed it. */
export const removeGroupMember = defineTask<GroupMemberArgs, { removed: true }>({
  kind: 'store.removeGroupMember',
  target: Target.store,
  async prepare({ store }, args) {
    return (await store.isGroupMember(args.group, args.user)) ? { removed: true } : undefined;
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await refusedIfRaced(store.removeGroupMember(args.group, args.user, { onlyMember: true }));
  },
  async revert({ store }, args) {
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
};

async function putAttribute(store: FlowStore, path: string, attribute: string, wanted: readonly Avu[]): Promise<void> {
  const current = (await store.getMetadata(path)).filter((a) => a.attribute === attribute);
  const key = (a: Avu) => `${a.value}\u0000${a.unit}`;
  const want = new Set(wanted.map(key));
  const have = new Set(current.map(key));
  if (wanted.length === 1 && (current.length !== 1 || !have.has(key(wanted[0])))) {
    await store.modifyMetadata(path, 'set', wanted[0]);
    return;
  }
  for (const a of current) if (!want.has(key(a))) await store.modifyMetadata(path, 'rm', a);
  for (const a of wanted) if (!have.has(key(a))) await store.modifyMetadata(path, 'add', a);
}

function wantedValues(args: SetMetadataArgs): AvuJson[] {
  return args.value === null ? [] : [{ attribute: args.attribute, value: args.value, unit: args.unit }];
}

/** Sets (or removes) one metadata attribute; revert puts back its previous values. */
export const setMetadata = defineTask<SetMetadataArgs, { previous: AvuJson[] }>({
  kind: 'store.setMetadata',
  target: Target.store,
  async prepare({ store }, args) {
    const previous: AvuJson[] = (await store.getMetadata(args.path))
      .filter((a) => a.attribute === args.attribute)
      .map((a) => ({ attribute: a.attribute, value: a.value, unit: a.unit }));
    const wanted = wantedValues(args);
    const same =
      previous.length === wanted.length && previous.every((a, i) => a.value === wanted[i].value && a.unit === wanted[i].unit);
    return same ? undefined : { previous };
  },
  async apply({ store }, args, undo) {
    if (undo !== undefined) await putAttribute(store, args.path, args.attribute, wantedValues(args));
  },
  async revert({ store }, args, undo) {
    if (await store.stat(args.path)) await putAttribute(store, args.path, args.attribute, undo.previous);
  },
});

// ---------------------------------------------------------------------- trash

/** Args of {@link trash}. */
export type TrashArgs = {
  path: string;
  /** Refuse when data objects remain below (a landing zone must be empty of files once moved). */
  refuse_objects: boolean;
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

/**
 * Undo of {@link trash}: where the entry goes, and the trash collections the
 * move will create on the way (parents first; absent in runs journaled
 * before it was kept: their revert removes any trash collection it empties).
 */
export type TrashUndo = { trash_path: string; created?: string[] };

/**
 * Moves an object or collection to the trash, to the trash path its prepare
 * chose (so the revert knows where to look whether or not the move happened);
 * revert restores it from there and removes the trash collections the move
 * created, not the ones that were there, empty, before.
 */
export const trash = defineTask<TrashArgs, TrashUndo>({
  kind: 'store.trash',
  target: Target.store,
  async prepare({ store }, args) {
    let trashPath: string;
    if (!args.refuse_objects) trashPath = await store.trashPathFor(args.path);
    else {
      // the objects left and the trash path in one read of the store
      const found = await store.trashPathUnlessObjects(args.path);
      if ('objects' in found) throw new ObjectsRemainError(args.path, found.objects);
      trashPath = found.trashPath;
    }
    return { trash_path: trashPath, created: await missingCollections(store, [parentPath(trashPath)]) };
  },
  async apply({ store }, args, undo) {
    await store.trash(args.path, { to: undo!.trash_path });
  },
  async revert({ store }, args, undo) {
    if (await store.stat(args.path)) return;
    if (await store.stat(undo.trash_path)) await store.restore(undo.trash_path, args.path, { created: undo.created });
  },
});

// ---------------------------------------------------------------------- moves

/**
 * Args of {@link moveObjects}: objects `<src>/<name>` go to `<dst>/<name>`.
 * `names` is relative and packed by {@link packNames}: a zone move's plan
 * holds every name until the run ends (the revert needs them), and one string
 * per chunk costs a quarter of the memory of an array of short strings, and
 * does not repeat the two long base paths per file. `revoke`: users or groups
 * whose access on these objects is removed right after the move. `progress`:
 * what the run's progress counts once this chunk is moved (a zone move: the
 * data files moved so far, of all).
 */
export type MoveObjectsArgs = { src: string; dst: string; names: string; revoke?: string[]; progress?: ProgressArgs };

/**
 * Undo of {@link moveObjects}: the count, and each revoked principal's access
 * on the chunk before the move, keyed by name relative to `src` (one chunk's
 * worth: bounded by the chunk size, whatever the zone's).
 */
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
async function movesDone(store: FlowStore, moves: readonly Move[]): Promise<boolean> {
  const probe = moves[0];
  return probe !== undefined && (await store.stat(probe.dst))?.type === 'object' && !(await store.stat(probe.src));
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
async function restoreChunk(store: FlowStore, base: string, names: readonly string[], name: string, snap: AccessSnapshot): Promise<void> {
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
 * Moves data objects in one store call (ACLs, metadata and checksums travel
 * with them), then removes the `revoke` principals' access on them, one
 * store call per principal; revert puts each revoked entry back (the same
 * whether the apply got to the revoke or not), then moves the objects back
 * in one store call.
 */
export const moveObjects = defineTask<MoveObjectsArgs, MoveObjectsUndo>({
  kind: 'store.moveObjects',
  target: Target.store,
  async prepare({ store }, args) {
    const moves = movesOf(args);
    if (moves.length === 0) return undefined;
    const revoke = args.revoke ?? [];
    if (revoke.length === 0) return { moved: moves.length };
    const names = namesOf(args);
    const sources = moves.map((m) => m.src);
    const previous: Record<string, AccessSnapshot> = {};
    for (const name of revoke) {
      // a principal that does not exist holds no access to remove
      if (await store.getPrincipal(name)) previous[name] = compactLevels(names, await store.getAccessMany(sources, name));
    }
    return { moved: moves.length, previous };
  },
  async apply({ store, progress }, args, undo) {
    if (undo === undefined) return;
    const moves = movesOf(args);
    await store.moveMany(moves);
    for (const [name, snap] of Object.entries(undo.previous ?? {})) {
      if (snap.level === 'null' && Object.keys(snap.except).length === 0) continue;
      await store.setAccessMany(
        moves.map((m) => m.dst),
        name,
        'null',
      );
    }
    if (args.progress) progress?.count(args.progress.key, args.progress.done, args.progress.total);
  },
  async revert({ store }, args, undo) {
    const moves = movesOf(args);
    if (!(await movesDone(store, moves))) return;
    // access first, while the objects are still where the move put them: a revert cut short here runs again whole
    const names = namesOf(args);
    for (const name of args.revoke ?? []) {
      const snap = undo.previous?.[name];
      if (snap) await restoreChunk(store, args.dst, names, name, snap);
    }
    try {
      await store.moveMany(moves.map((m) => ({ src: m.dst, dst: m.src })));
    } catch {
      // not all in place (changed by someone else since): move back what can be, one by one
      for (const m of moves) {
        if ((await store.stat(m.dst))?.type === 'object' && !(await store.stat(m.src))) await store.move(m.dst, m.src);
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
  async prepare() {
    return undefined;
  },
  async apply({ store, progress }, args) {
    await checkLandingZone(store, args.zone_path, {
      verify: args.verify,
      onProgress: progress && ((checked, total) => progress.count(ProgressKey.filesChecked, checked, total)),
    });
  },
  async revert() {},
});

