/**
 * The first start's admin user: created when the site has no superuser, its
 * API token printed at that start and stored in `<dataDir>/admin-token` (mode 600),
 * its sign-in password generated and printed at that start only (the site keeps
 * just its hash; `taskflow manage setpassword admin` sets a new one).
 *
 * @module
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import type { Db } from './db/types.js';
import { generatePassword, hasPassword, setPassword } from './auth/passwords.js';
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
  /** True when this call created a new token (with the admin, or because the token file was gone). */
  tokenCreated: boolean;
  /** The token when created now or stored in the token file. */
  token: string | undefined;
  tokenFile: string;
  /**
   * The sign-in password, when this call generated it: with the admin, or for
   * an admin of an older site that had none. Shown once; never stored.
   */
  password: string | undefined;
}

/** Creates the admin and its token when the site has no superuser yet. */
export async function ensureAdmin(db: Db, dataDir: string): Promise<AdminInfo> {
  const tokenFile = adminTokenPath(dataDir);
  const supers = await db.query<{ username: string }>('SELECT username FROM users WHERE is_superuser = 1 ORDER BY username');
  if (supers.length > 0) {
    const username = supers.some((u) => u.username === ADMIN_USERNAME) ? ADMIN_USERNAME : supers[0].username;
    const admin = (await getUserByName(db, username))!;
    const password = await ensurePassword(db, admin.uuid);
    const stored = readAdminToken(dataDir);
    if (stored !== undefined) return { username, created: false, tokenCreated: false, token: stored, tokenFile, password };
    // The token file was removed: without a new token nobody could use the API.
    const token = await createToken(db, admin.uuid, 'admin');
    writeToken(dataDir, tokenFile, token);
    return { username, created: false, tokenCreated: true, token, tokenFile, password };
  }
  const existing = await getUserByName(db, ADMIN_USERNAME);
  const user = existing ?? (await createUser(db, { username: ADMIN_USERNAME, name: 'Site Admin', isSuperuser: true }));
  if (existing) await db.exec('UPDATE users SET is_superuser = 1 WHERE uuid = ?', [existing.uuid]);
  const token = await createToken(db, user.uuid, 'admin');
  writeToken(dataDir, tokenFile, token);
  const password = await ensurePassword(db, user.uuid);
  return { username: user.username, created: true, tokenCreated: true, token, tokenFile, password };
}

/** A new password for a superuser who has none (so someone can sign in), else undefined. */
async function ensurePassword(db: Db, userUuid: string): Promise<string | undefined> {
  if (await hasPassword(db, userUuid)) return undefined;
  const password = generatePassword();
  await setPassword(db, userUuid, password);
  return password;
}

function writeToken(dataDir: string, tokenFile: string, token: string): void {
  ensurePrivateDir(dataDir);
  writeFileSync(tokenFile, `${token}\n`, { mode: PRIVATE_FILE_MODE });
  chmodSync(tokenFile, PRIVATE_FILE_MODE);
}
