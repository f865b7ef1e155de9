/**
 * The trash: removal by rename into `/<zone>/trash/home/rods/...`, as iRODS's
 * `irm` without `-f` does, and the rename back. A removal on behalf of a
 * user (the iRODS protocol server's unlink and collection removal) goes to
 * that user's trash instead, as the iRODS server puts it.
 *
 * @module
 */
import { InvalidPathError, NotAllowedError } from '../errors.js';
import { isInside, parentPath, relativePath } from '../paths.js';
import type { EntryKey } from './catalog.js';
import { createCollectionIn, moveIn } from './collections.js';
import { pageParams, type StoreCore } from './core.js';
import { ADMIN_USER } from './schema.js';

/** The trash calls of the embedded store. */
export class Trash {
  constructor(private readonly core: StoreCore) {}

  /**
   * Where a trash of `path` would put it now: `/<zone>/trash/home/rods/<path
   * relative to the zone>`; on a name clash the entry gets a `.N` suffix, and
   * a trashed object where one of its parent collections goes makes that
   * collection branch off beside it the same way. Changes nothing.
   */
  async trashPathFor(path: string, opts: { user?: string } = {}): Promise<string> {
    const { core } = this;
    const target = core.normalize(path);
    this.refuse(target);
    return core.read(() => {
      core.mustKey(target);
      return this.destination(target, opts.user);
    });
  }

  /** See `FlowStore.trashPathUnlessObjects`: the objects are listed first, as a caller listing them itself would. */
  async trashPathUnlessObjects(path: string): Promise<{ objects: string[] } | { trashPath: string }> {
    const { core } = this;
    const target = core.normalize(path);
    return core.read(() => {
      core.mustKey(target, 'collection');
      const objects = core.q.objectPathsPage.all(pageParams(target, {}));
      if (objects.length > 0) return { objects };
      this.refuse(target);
      return { trashPath: this.destination(target) };
    });
  }

  /**
   * Moves `path` into the trash, creating the trash collections on the way;
   * returns the trash path. `to`: the trash path to use (from
   * {@link trashPathFor}), so a caller that chose it before can undo after a
   * crash without asking; AlreadyExists when something took it since.
   * `user`: trash on behalf of this user, as an iRODS server does
   * (iRODS 4.3.5 `rsMkTrashPath`): into `/<zone>/trash/home/<user>/...`, an
   * entry of the user's home without its `home/<user>` prefix; the trash
   * collections created on the way, the user's trash home included, belong
   * to the user.
   */
  async trash(path: string, opts: { to?: string; user?: string } = {}): Promise<string> {
    const { core } = this;
    const target = core.normalize(path);
    const to = opts.to === undefined ? undefined : core.normalize(opts.to);
    this.refuse(target);
    if (to !== undefined && !isInside(to, core.trashRoot)) throw new InvalidPathError(to, `not inside the trash ${core.trashRoot}`);
    return core.write(() => {
      const source = core.mustKey(target);
      if (opts.user !== undefined) core.mustUser(opts.user);
      const dest = to ?? this.destination(target, opts.user);
      // the trash home above a user's own belongs to the admin
      if (opts.user !== undefined) createCollectionIn(core, `${core.trashRoot}/home`, ADMIN_USER, false);
      // the keys looked up on the way are the move's: no second lookup of either
      const parents = new Map<string, EntryKey>();
      createCollectionIn(core, parentPath(dest), opts.user ?? ADMIN_USER, true, parents);
      moveIn(core, target, dest, { parents, source });
      return dest;
    });
  }

  /**
   * Moves a trashed entry back to `path` (whose parent must exist), ACLs,
   * metadata and checksums intact, then removes the trash collections above
   * it left empty, so a trash + restore leaves the catalog as it was:
   * `created` names the ones the trash made (an empty trash collection that
   * was there before stays); without it, any below the trash homes
   * (`<trash>/home` and `<trash>/home/<name>` stay: iRODS makes a user with
   * its trash home, and the catalog's setup the admin's).
   */
  async restore(trashPath: string, path: string, opts: { created?: readonly string[] } = {}): Promise<void> {
    const { core } = this;
    const from = core.normalize(trashPath);
    const to = core.normalize(path);
    if (!isInside(from, core.trashRoot)) throw new InvalidPathError(from, `not inside the trash ${core.trashRoot}`);
    const removable = opts.created === undefined ? undefined : new Set(opts.created.map((p) => core.normalize(p)));
    core.write(() => {
      moveIn(core, from, to);
      const trashHomes = `${core.trashRoot}/home`;
      for (let p = parentPath(from); isInside(p, core.trashRoot); p = parentPath(p)) {
        if (removable !== undefined ? !removable.has(p) : p === trashHomes || parentPath(p) === trashHomes) break;
        const row = core.keyOf(p)!;
        if (core.q.firstChild.get(row.id)) break;
        core.deleteRow(row);
      }
    });
  }

  private refuse(target: string): void {
    this.core.refuseProtected(target, 'cannot trash');
    if (isInside(target, this.core.trashRoot)) throw new NotAllowedError(target, 'already in the trash');
  }

  /** The free trash path for `target` (trashed by `user`, when given), inside the current transaction. */
  private destination(target: string, user?: string): string {
    const { core } = this;
    const userHome = `${core.zoneRoot}/home/${user}`;
    const below = user !== undefined && isInside(target, userHome) ? userHome : core.zoneRoot;
    const segments = relativePath(target, below).split('/');
    let dir = `${core.trashRoot}/home/${user ?? ADMIN_USER}`;
    const straight = segments.length > 1 ? `${dir}/${segments.slice(0, -1).join('/')}` : dir;
    // the parent there is a collection, so none of its ancestors is an object: nothing branches off (one lookup, not one per level)
    if (core.keyOf(straight)?.kind === 'c') {
      dir = straight;
    } else {
      for (const seg of segments.slice(0, -1)) {
        // A trashed object may sit where this entry's parent collection goes: branch off beside it.
        let next = `${dir}/${seg}`;
        for (let n = 1; core.keyOf(next)?.kind === 'o'; n++) next = `${dir}/${seg}.${n}`;
        dir = next;
      }
    }
    const base = `${dir}/${segments[segments.length - 1]}`;
    let dest = base;
    for (let n = 1; core.keyOf(dest); n++) dest = `${base}.${n}`;
    return dest;
  }
}
