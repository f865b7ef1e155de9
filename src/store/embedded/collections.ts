/**
 * Collections and the namespace: stat, create, list (paged), remove, and
 * moves of objects and collections (a rename in the catalog, no byte copy).
 *
 * @module
 */
import { AlreadyExistsError, NotAllowedError, NotEmptyError, NotFoundError } from '../errors.js';
import { isInside, parentPath, ROOT_PATH } from '../paths.js';
import type { PageOptions, StoreEntry } from '../types.js';
import { subtreeRange, type EntryKey, type EntryRow } from './catalog.js';
import { pageParams, toEntry, type StoreCore } from './core.js';
import { ADMIN_USER } from './schema.js';

/**
 * The latest modify time the catalog holds: it keeps times as ISO text, which
 * SQLite's date functions (GenQuery's times, `strftime('%s', ...)`) read
 * only up to the year 9999.
 */
export const LATEST_MODIFIED = new Date('9999-12-31T23:59:59.999Z');

/** Thrown inside a savepoint to undo a bulk move that did not move everything. */
class PartialMove extends Error {}

/**
 * Creates `target` (and missing parents when asked) inside the current
 * transaction; returns the collections created, parents first. `known`:
 * where to record the key of `target` (for a move into it right after,
 * see {@link moveIn}).
 */
export function createCollectionIn(core: StoreCore, target: string, owner: string, parents: boolean, known?: Map<string, EntryKey>): string[] {
  const existing = core.keyOf(target);
  if (existing) {
    if (existing.kind !== 'c') throw new AlreadyExistsError(target, 'object');
    known?.set(target, existing);
    return [];
  }
  const missing: string[] = [target];
  // nothing goes into the root `/`: it is read only (paths.ts ROOT_PATH)
  const collectionAt = (p: string) => (p === ROOT_PATH ? undefined : core.keyOf(p));
  let parent = parentPath(target);
  let parentRow = collectionAt(parent);
  while (!parentRow) {
    if (parent === ROOT_PATH) throw new NotAllowedError(target, 'the zone root cannot be created');
    if (!parents) throw new NotFoundError(parent, 'collection');
    missing.push(parent);
    parent = parentPath(parent);
    parentRow = collectionAt(parent);
  }
  if (parentRow.kind !== 'c') throw new NotFoundError(parent, 'collection', 'it is a data object');
  missing.reverse();
  for (const p of missing) parentRow = core.insertChild(parentRow, { path: p, kind: 'c', owner });
  known?.set(target, parentRow);
  return missing;
}

/** Options of {@link moveIn}: what the caller knows already in this transaction. */
export interface MoveInOptions {
  /** The move's timestamp (one for a batch). */
  now?: string;
  /** Target collections already looked up, by path (emptied when a collection moves, as paths change). */
  parents?: Map<string, EntryKey>;
  /** The key of `from`, when the caller looked it up. */
  source?: EntryKey;
}

/** Moves one entry (a collection with its subtree) inside the current transaction. */
export function moveIn(core: StoreCore, from: string, to: string, opts: MoveInOptions = {}): void {
  const { parents, now = new Date().toISOString() } = opts;
  core.refuseProtected(from, 'cannot move');
  if (from === to) throw new AlreadyExistsError(to, 'path', 'source and target are the same');
  if (isInside(to, from)) throw new NotAllowedError(from, `cannot move a collection into itself (${to})`);
  const row = opts.source ?? core.mustKey(from);
  const parentOf = parentPath(to);
  let parent = parents?.get(parentOf);
  if (!parent) {
    parent = core.parentFor(to);
    parents?.set(parentOf, parent);
  }
  // the unique path index refuses an occupied target: no lookup of it first
  try {
    core.q.moveRoot.run(to, parent.id, now, row.id);
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AlreadyExistsError(to);
    throw err;
  }
  if (row.kind === 'c') {
    parents?.clear();
    // a collection without children (a landing zone trashed after its move) has no paths below to rewrite
    if (core.q.firstChild.get(row.id) === undefined) return;
    const [lo, hi] = subtreeRange(from);
    core.q.moveDescendants.run({ dst: to, src: from, lo, hi });
  }
}

/** What a checked move ({@link Collections.moveChecked}) finds at its two paths, read inside its transaction. */
export interface MoveFound {
  /** The entry to move; undefined when nothing is there. */
  source: EntryRow | undefined;
  /** What is at the target path; undefined when it is free. */
  target: EntryRow | undefined;
}

/** Options of {@link Collections.moveChecked}. */
export interface MoveCheckedOptions {
  /**
   * Replace a data object at the target with the data object moved there:
   * the one there is removed for good (its row, ACL and metadata; its vault
   * file after the commit). A collection is never replaced, nor replaces.
   */
  overwrite?: boolean;
  /**
   * Runs first inside the move's transaction, given what is at both paths
   * (read once, for both): a caller's permission check, atomic with the
   * move. What it throws fails the move, which then changes nothing.
   */
  check?: (found: MoveFound) => void;
}

/** The collection and namespace calls of the embedded store. */
export class Collections {
  constructor(private readonly core: StoreCore) {}

  async stat(path: string): Promise<StoreEntry | null> {
    const target = this.core.normalize(path);
    this.core.assertOpen();
    const row = this.core.q.entryFacts.get(target);
    return row ? toEntry({ ...row, path: target }) : null;
  }

  /**
   * Sets the modify time of the collection or object at `path`, nothing
   * else (its bytes, checksum and parent stay as they are): NotFound when
   * nothing is there, a RangeError for an invalid time or one past
   * {@link LATEST_MODIFIED}.
   */
  async setModified(path: string, modified: Date): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const ms = modified.getTime();
    if (!(ms >= Date.parse('0000-01-01T00:00:00Z') && ms <= LATEST_MODIFIED.getTime())) {
      throw new RangeError(`a modify time must lie in the years 0 to 9999, not ${Number.isNaN(ms) ? 'an invalid date' : modified.toISOString()}`);
    }
    core.write(() => {
      core.q.setModified.run(modified.toISOString(), core.mustKey(target).id);
    });
  }

  async createCollection(path: string, opts: { parents?: boolean; owner?: string } = {}): Promise<string[]> {
    const { core } = this;
    const target = core.normalize(path);
    const owner = opts.owner ?? ADMIN_USER;
    return core.write(() => {
      core.mustUser(owner);
      return createCollectionIn(core, target, owner, opts.parents ?? false);
    });
  }

  async list(path: string, opts: { recursive?: boolean } & PageOptions = {}): Promise<StoreEntry[]> {
    const { core } = this;
    const target = core.normalize(path);
    const page = pageParams(target, opts);
    return core.read(() => {
      const coll = core.mustKey(target, 'collection');
      const rows = opts.recursive ? core.q.subtreePage.all(page) : core.q.childrenPage.all({ ...page, parent: coll.id });
      return rows.map(toEntry);
    });
  }

  async listObjectPaths(path: string, opts: { relative?: boolean } & PageOptions = {}): Promise<string[]> {
    const { core } = this;
    const target = core.normalize(path);
    const relative = opts.relative ?? false;
    const page = pageParams(target, opts, relative);
    return core.read(() => {
      core.mustKey(target, 'collection');
      return relative ? core.q.objectNamesPage.all({ ...page, base: target }) : core.q.objectPathsPage.all(page);
    });
  }

  async listObjectChecksums(
    path: string,
    opts: { relative?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; checksum: string | null }>> {
    const { core } = this;
    const target = core.normalize(path);
    const relative = opts.relative ?? false;
    const page = pageParams(target, opts, relative);
    return core.read(() => {
      core.mustKey(target, 'collection');
      return core.q.objectChecksumsPage.all({ ...page, base: relative ? target : null });
    });
  }

  async removeCollection(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    core.refuseProtected(target, 'cannot remove');
    const ids = core.write(() => {
      const coll = core.mustKey(target, 'collection');
      const range = subtreeRange(target);
      if (core.q.firstChild.get(coll.id)) {
        if (!opts.recursive) throw new NotEmptyError(target);
      }
      const vaultIds = core.q.subtreeVaultIds.all(...range);
      core.q.deleteSubtreeAvus.run(...range);
      core.q.deleteSubtreeAcl.run(...range);
      core.q.deleteSubtreeEntries.run(...range);
      core.deleteRow(coll);
      return vaultIds;
    });
    core.vault.removeIds(ids);
  }

  async move(src: string, dst: string): Promise<void> {
    const { core } = this;
    const from = core.normalize(src);
    const to = core.normalize(dst);
    core.write(() => moveIn(core, from, to));
  }

  /**
   * {@link move}, with a check and optionally over a data object (see
   * {@link MoveCheckedOptions}), in one transaction: the removal of the
   * replaced object and the move happen both or neither.
   */
  async moveChecked(src: string, dst: string, opts: MoveCheckedOptions): Promise<void> {
    const { core } = this;
    const from = core.normalize(src);
    const to = core.normalize(dst);
    const replacedFile = core.write(() => {
      const found: MoveFound = { source: core.row(from), target: core.row(to) };
      opts.check?.(found);
      const { source, target } = found;
      let file: string | undefined;
      if (opts.overwrite && target && source && from !== to) {
        if (target.kind !== 'o') throw new AlreadyExistsError(to, 'collection');
        if (source.kind !== 'o') throw new AlreadyExistsError(to, 'object', 'only a data object replaces a data object');
        file = core.deleteObjectRow(target);
      }
      moveIn(core, from, to, { source });
      return file;
    });
    // after the commit: a move that failed still has the replaced object's bytes
    if (replacedFile) core.vault.removeFile(replacedFile);
  }

  async moveMany(moves: ReadonlyArray<{ src: string; dst: string }>): Promise<void> {
    const { core } = this;
    const norm = moves.map((m) => ({ src: core.normalize(m.src), dst: core.normalize(m.dst) }));
    core.write(() => {
      // one timestamp, and one lookup per target collection, for the whole batch (thousands of files into a few folders)
      const now = new Date().toISOString();
      const parents = new Map<string, EntryKey>();
      if (!this.moveObjectsAtOnce(norm, now, parents)) for (const m of norm) moveIn(core, m.src, m.dst, { now, parents });
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
  private moveObjectsAtOnce(moves: ReadonlyArray<{ src: string; dst: string }>, now: string, parents: Map<string, EntryKey>): boolean {
    const { core } = this;
    const rows: Array<[string, string, number]> = [];
    // a target that is also a source: one by one, the order of the list decides, as it should
    const sources = new Set(moves.map((m) => m.src));
    for (const { src, dst } of moves) {
      if (sources.has(dst) || core.protectedRootAt(src) !== undefined) return false;
      const parentOf = parentPath(dst);
      let parent = parents.get(parentOf);
      if (!parent) {
        const row = parentOf === ROOT_PATH ? undefined : core.keyOf(parentOf);
        if (row?.kind !== 'c') return false;
        parents.set(parentOf, (parent = row));
      }
      rows.push([src, dst, parent.id]);
    }
    const attempt = core.db.transaction(() => {
      if (core.q.moveObjectsAtOnce.run({ moves: JSON.stringify(rows), now }).changes !== rows.length) throw new PartialMove();
    });
    try {
      attempt();
      return true;
    } catch (err) {
      if (err instanceof PartialMove || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return false;
      throw err;
    }
  }
}
