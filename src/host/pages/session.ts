/**
 * Browser sessions of the site's pages: the cookie carries only a signed
 * session id; what the session holds (the signed-in user, the CSRF secret)
 * lives in the site database, so signing out ends it everywhere and a
 * restart keeps people signed in. The signing key is generated once and
 * stored owner-only in `<dataDir>/session-secret`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Session } from 'fastify';
import type {} from '@fastify/session';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../../private-files.js';
import type { Db } from '../db/types.js';

declare module 'fastify' {
  interface Session {
    /** The signed-in user. */
    userUuid?: string;
    /** When the user's password was set, as at the sign-in: a password set since ends the session. */
    passwordSet?: string;
    /** A message for the next page shown (what the last action did). */
    flash?: string;
    /** The CSRF secret of @fastify/csrf-protection. */
    _csrf?: string;
  }
}

/** Where the session signing key is stored. */
export function sessionSecretPath(dataDir: string): string {
  return join(dataDir, 'session-secret');
}

/** The stored session signing key, created (64 hex characters, mode 600) when there is none. */
export function ensureSessionSecret(dataDir: string): string {
  const file = sessionSecretPath(dataDir);
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
  }
  ensurePrivateDir(dataDir);
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE });
  chmodSync(file, PRIVATE_FILE_MODE);
  return secret;
}

type Callback = (err?: unknown) => void;

/**
 * How long the store keeps a session nobody signed in with (one made by a
 * visit to the sign-in page, for its CSRF token): every anonymous visit
 * makes one, so they must not pile up for the cookie's whole life.
 */
export const ANONYMOUS_SESSION_MS = 30 * 60_000;

/** @fastify/session's store over the `site_sessions` table. */
export class DbSessionStore {
  constructor(private readonly db: Db) {}

  set(sid: string, session: Session, cb: Callback): void {
    let until = session.cookie.expires ? new Date(session.cookie.expires).getTime() : Date.now() + 86_400_000;
    if (session.userUuid === undefined) until = Math.min(until, Date.now() + ANONYMOUS_SESSION_MS);
    const expires = new Date(until).toISOString();
    const data = JSON.stringify(session);
    this.db
      .exec('INSERT INTO site_sessions (sid, data, expires) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires = excluded.expires', [sid, data, expires])
      // ended sessions go when new ones come, so the table stays as small as the signed-in crowd
      .then(() => this.db.exec('DELETE FROM site_sessions WHERE expires < ?', [new Date().toISOString()]))
      .then(() => cb(), cb);
  }

  get(sid: string, cb: (err: unknown, session?: Session | null) => void): void {
    this.db
      .query<{ data: string; expires: string }>('SELECT data, expires FROM site_sessions WHERE sid = ?', [sid])
      .then((rows) => {
        const row = rows[0];
        if (!row || row.expires < new Date().toISOString()) return cb(null, null);
        const session = JSON.parse(row.data) as Session;
        if (session.cookie?.expires) session.cookie.expires = new Date(session.cookie.expires);
        cb(null, session);
      }, cb);
  }

  destroy(sid: string, cb: Callback): void {
    this.db.exec('DELETE FROM site_sessions WHERE sid = ?', [sid]).then(() => cb(), cb);
  }
}
