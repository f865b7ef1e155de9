/**
 * The first start's admin user: created when the site has no superuser, its
 * API token printed once and stored in `<dataDir>/admin-token` (mode 600).
 *
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db/types.js';
import { createToken, createUser, getUserByName } from './repo.js';

/** User name of the admin the first start creates. */
export const ADMIN_USERNAME = 'admin';

/** Where the admin token is stored. */
export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

/** The stored admin token, or undefined when there is none. */
export function readAdminToken(dataDir: string): string | undefined {
  const p = adminTokenPath(dataDir);
  return existsSync(p) ? readFileSync(p, 'utf8').trim() || undefined : undefined;
}

/** What {@link ensureAdmin} found or did. */
export interface AdminInfo {
  username: string;
  /** True when this call created the admin. */
  created: boolean;
  /** The token when created now or stored in the token file. */
  token: string | undefined;
  tokenFile: string;
}

/** Creates the admin and its token when the site has no superuser yet. */
export async function ensureAdmin(db: Db, dataDir: string): Promise<AdminInfo> {
  const tokenFile = adminTokenPath(dataDir);
  const supers = await db.query<{ username: string }>('SELECT username FROM users WHERE is_superuser = 1 ORDER BY username');
  if (supers.length > 0) {
    return { username: supers[0].username, created: false, token: readAdminToken(dataDir), tokenFile };
  }
  const existing = await getUserByName(db, ADMIN_USERNAME);
  const user = existing ?? (await createUser(db, { username: ADMIN_USERNAME, name: 'Site Admin', isSuperuser: true }));
  if (existing) await db.exec('UPDATE users SET is_superuser = 1 WHERE uuid = ?', [existing.uuid]);
  const token = await createToken(db, user.uuid, 'admin');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  return { username: user.username, created: true, token, tokenFile };
}
