/**
 * Users' passwords for the store's iRODS protocol server. iRODS native
 * authentication proves the password by an MD5 over a challenge and the
 * password itself (iRODS 4.3.5 `plugins/auth/src/native.cpp`), so the server
 * must hold the password, not a hash of it, as a real iRODS catalog does.
 * They are kept in their own catalog table, which the catalog file's 0600
 * mode keeps to the store's owner, and are left out of dumps so that no
 * test output or state comparison ever shows one. A user without a
 * password cannot log in.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { NotAllowedError, NotFoundError } from '../errors.js';
import type { StoreCore } from './core.js';

/** The password rules (one place): not empty, one line, at most iRODS's 50 bytes (`MAX_PASSWORD_LEN`). */
export function checkPassword(password: string): void {
  if (password.length === 0) throw new RangeError('a password must not be empty');
  if (/[\r\n\0]/.test(password)) throw new RangeError('a password must be one line without NUL bytes');
  if (Buffer.byteLength(password) > 50) throw new RangeError('a password may have at most 50 bytes (iRODS MAX_PASSWORD_LEN)');
}

/** Read and set users' protocol passwords. */
export class Passwords {
  /** Prepared at the first login: every login reads one. */
  private secretOf: Database.Statement<[string], string> | undefined;

  constructor(private readonly core: StoreCore) {}

  /** Sets a user's password, or removes it with null (the user can then not log in). NotFound for no such user; NotAllowed for a group. */
  set(name: string, password: string | null): void {
    if (password !== null) checkPassword(password);
    const { core } = this;
    core.write(() => {
      const p = core.q.principal.get(name);
      if (!p) throw new NotFoundError(name, 'user');
      if (p.kind !== 'user') throw new NotAllowedError(name, 'a group has no password');
      if (password === null) core.db.prepare('DELETE FROM passwords WHERE name = ?').run(name);
      else core.db.prepare('INSERT INTO passwords (name, secret) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET secret = excluded.secret').run(name, password);
    });
  }

  /** The user's password, or null when the user has none or does not exist. */
  get(name: string): string | null {
    this.secretOf ??= this.core.db.prepare<[string], string>('SELECT secret FROM passwords WHERE name = ?').pluck();
    return this.core.read(() => this.secretOf!.get(name) ?? null);
  }
}
