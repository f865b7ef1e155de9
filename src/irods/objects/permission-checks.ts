/**
 * Permission checks of the object and collection APIs beyond one entry's
 * level (`../permissions.ts`): the level with the whole catalog row, and
 * the first entry of a subtree the user does not own (a recursive removal
 * needs `own` on everything it removes).
 *
 * iRODS has finer levels than this store: `delete_object` (1130, iRODS
 * 4.3.5 `icatSysInserts.sql`) lies above `modify_object` (1120, what
 * `write` grants) and below `own` (1200), so what needs `delete_object`
 * (unlink, rename, removing a collection) needs `own` here, as it does on
 * an iRODS server whose users hold only read, write and own.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import type { EntryRow } from '../../store/embedded/catalog.js';
import { subtreeRange } from '../../store/embedded/catalog.js';
import { LEVELS } from '../../store/embedded/schema.js';
import { PRINCIPALS_OF_USER_SQL, type NeededLevel } from '../permissions.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';

/** A catalog row and the asking user's level on it (0 none … 3 own). */
export interface SeenEntry {
  row: EntryRow;
  level: number;
}

/** The catalog row at `path` and the asking user's level on it; undefined when nothing is there. */
export function entryAt(ctx: ApiContext, path: string): SeenEntry | undefined {
  const row = ctx.store.protocolCore().row(path);
  if (!row) return undefined;
  return { row, level: ctx.access.levelOnEntry(ctx.user, row.id) };
}

/** Throws `CAT_NO_ACCESS_PERMISSION` unless `level` reaches `need`; `what` says what the user was doing. */
export function requireLevel(ctx: ApiContext, path: string, level: number, need: NeededLevel, what: string): void {
  if (level < LEVELS[need]) {
    throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${ctx.user.name} needs ${need} access on ${path} to ${what}`);
  }
}

type FirstNotOwned = Database.Statement<[{ lo: string; hi: string; user: string; objectsOnly: number }], string>;
const firstNotOwnedOf = new WeakMap<Database.Database, FirstNotOwned>();

/**
 * The first entry below `path` (objects only, or collections too) that the
 * user does not own, or undefined when they own all; a `rodsadmin` owns all.
 */
export function firstNotOwnedBelow(ctx: ApiContext, path: string, objectsOnly: boolean): string | undefined {
  if (ctx.access.isAdmin(ctx.user)) return undefined;
  const { db } = ctx.store.protocolCore();
  let stmt = firstNotOwnedOf.get(db);
  if (!stmt) {
    stmt = db
      .prepare<[{ lo: string; hi: string; user: string; objectsOnly: number }], string>(
        `SELECT e.path FROM entries e
         WHERE e.path > :lo AND e.path < :hi AND (:objectsOnly = 0 OR e.kind = 'o')
           AND coalesce((SELECT max(a.level) FROM acl a WHERE a.entry_id = e.id AND a.name IN (${PRINCIPALS_OF_USER_SQL})), 0) < ${LEVELS.own}
         ORDER BY e.path LIMIT 1`,
      )
      .pluck();
    firstNotOwnedOf.set(db, stmt);
  }
  const [lo, hi] = subtreeRange(path);
  return stmt.get({ lo, hi, user: ctx.user.name, objectsOnly: objectsOnly ? 1 : 0 });
}
