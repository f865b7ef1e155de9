/**
 * Who may do what over the protocol, as an iRODS server decides it for every
 * request (iRODS 4.3.5 `chlCheckDataObjAccess` / `checkCollAccessPerm`): a
 * user's level on an entry is the highest of the entries naming the user, a
 * group the user is in, or `public` (every user's group); a `rodsadmin` has
 * `own` everywhere. Reading and listing need `read`, changing bytes, names
 * or metadata needs `write`, changing access needs `own`. The taskflow
 * service does not go through here: it uses the store directly.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { LEVELS, PUBLIC_GROUP } from '../store/embedded/schema.js';
import type { AccessLevel } from '../store/types.js';
import type { SessionUser } from './server/api.js';
import { IrodsError } from './wire/irods-error.js';

/** A needed level, as the catalog stores it (read 1, write 2, own 3). */
export type NeededLevel = Exclude<AccessLevel, 'null'>;

/** The entry a permission check found. */
export interface CheckedEntry {
  id: number;
  path: string;
  kind: 'c' | 'o';
}

/**
 * SQL naming the principals whose ACL entries count for the user bound as
 * `:user`: the user, the user's groups, `public`. One place for that rule;
 * GenQuery's visibility filter uses it too.
 */
export const PRINCIPALS_OF_USER_SQL = `SELECT :user UNION SELECT group_name FROM members WHERE user_name = :user UNION SELECT '${PUBLIC_GROUP}'`;

/** The permission rules over one open catalog. */
export class AccessRules {
  private readonly entryAt: Database.Statement<[string], CheckedEntry>;
  private readonly levelOn: Database.Statement<[{ id: number; user: string }], { level: number | null }>;

  constructor(db: Database.Database) {
    this.entryAt = db.prepare(`SELECT id, path, kind FROM entries WHERE path = ?`);
    this.levelOn = db.prepare(
      `SELECT max(level) AS level FROM acl WHERE entry_id = :id AND name IN (${PRINCIPALS_OF_USER_SQL})`,
    );
  }

  /** Whether the user is a `rodsadmin`, who may do everything. */
  isAdmin(user: SessionUser): boolean {
    return user.type === 'rodsadmin';
  }

  /** The user's level on the entry at `path` (0 none … 3 own), or null when nothing is there. */
  level(user: SessionUser, path: string): { entry: CheckedEntry; level: number } | null {
    const entry = this.entryAt.get(path);
    if (!entry) return null;
    return { entry, level: this.levelOnEntry(user, entry.id) };
  }

  /** The user's level on the entry whose id is `id` (0 none … 3 own), for a caller that has read its row already. */
  levelOnEntry(user: SessionUser, id: number): number {
    if (this.isAdmin(user)) return LEVELS.own;
    return this.levelOn.get({ id, user: user.name })?.level ?? 0;
  }

  /**
   * The entry at `path` when the user holds at least `need` on it. Throws
   * `CAT_NO_ACCESS_PERMISSION` when they do not, and `notFound` (default
   * `USER_FILE_DOES_NOT_EXIST`) when nothing is there.
   */
  require(
    user: SessionUser,
    path: string,
    need: NeededLevel,
    notFound: 'USER_FILE_DOES_NOT_EXIST' | 'CAT_UNKNOWN_COLLECTION' | 'CAT_UNKNOWN_FILE' = 'USER_FILE_DOES_NOT_EXIST',
  ): CheckedEntry {
    const found = this.level(user, path);
    if (!found) throw new IrodsError(notFound, `${path} does not exist`);
    if (found.level < LEVELS[need]) {
      throw new IrodsError('CAT_NO_ACCESS_PERMISSION', `${user.name} needs ${need} access on ${path}`);
    }
    return found.entry;
  }

  /** Throws `SYS_NO_API_PRIV` unless the user is a `rodsadmin` (admin APIs). */
  requireAdmin(user: SessionUser, what: string): void {
    if (!this.isAdmin(user)) throw new IrodsError('SYS_NO_API_PRIV', `${what} needs a rodsadmin; ${user.name} is not one`);
  }
}
