/**
 * Users' authentication names: the distinguished names (GSI, Kerberos) an
 * iRODS catalog keeps per user in `R_USER_AUTH` (`iadmin aua` / `rua`,
 * GenQuery's `USER_DN`). The store's protocol server authenticates by
 * password only, so a name here logs no one in; it is kept, listed and
 * removed as iRODS keeps it, for the tools that manage a zone's users. The
 * names of a user go with the user (`removePrincipalIn`).
 *
 * @module
 */
import { NotAllowedError, NotFoundError } from '../errors.js';
import type { StoreCore } from './core.js';

/** At most this many bytes, iRODS 4.3.5's `R_USER_AUTH.user_auth_name` (varchar(1000)). */
export const MAX_AUTH_NAME_BYTES = 1000;

/** Throws a RangeError for a name iRODS would not store: empty, longer than {@link MAX_AUTH_NAME_BYTES}, or with a NUL. */
export function checkAuthName(authName: string): void {
  if (authName.length === 0) throw new RangeError('an authentication name must not be empty');
  if (authName.includes('\0')) throw new RangeError('an authentication name must not contain NUL');
  if (Buffer.byteLength(authName) > MAX_AUTH_NAME_BYTES) {
    throw new RangeError(`an authentication name may have at most ${MAX_AUTH_NAME_BYTES} bytes`);
  }
}

/**
 * Adds `authName` to user `name` inside the caller's write transaction;
 * false when the user has it already (iRODS answers that as done). NotFound
 * for no such principal, NotAllowed for a group: a group never logs in.
 */
export function addAuthNameIn(core: StoreCore, name: string, authName: string): boolean {
  checkAuthName(authName);
  mustUser(core, name);
  return core.db.prepare('INSERT OR IGNORE INTO auth_names (user_name, auth_name) VALUES (?, ?)').run(name, authName).changes > 0;
}

function mustUser(core: StoreCore, name: string): void {
  const p = core.q.principal.get(name);
  if (!p) throw new NotFoundError(name, 'user');
  if (p.kind !== 'user') throw new NotAllowedError(name, 'a group has no authentication names');
}

/** Read and change users' authentication names. */
export class AuthNames {
  constructor(private readonly core: StoreCore) {}

  /** See {@link addAuthNameIn}; one transaction. */
  add(name: string, authName: string): boolean {
    return this.core.write(() => addAuthNameIn(this.core, name, authName));
  }

  /** Removes `authName` from user `name`; false when the user does not have it. */
  remove(name: string, authName: string): boolean {
    const { core } = this;
    return core.write(() => {
      mustUser(core, name);
      return core.db.prepare('DELETE FROM auth_names WHERE user_name = ? AND auth_name = ?').run(name, authName).changes > 0;
    });
  }

  /** The user's names in the order they were added (empty for no such user). */
  of(name: string): string[] {
    const { core } = this;
    return core.read(() =>
      core.db.prepare<[string], string>('SELECT auth_name FROM auth_names WHERE user_name = ? ORDER BY id').pluck().all(name),
    );
  }
}
