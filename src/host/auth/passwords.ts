/**
 * Site passwords: argon2id hashes (the `argon2` package, its own prebuilt
 * binaries), one per user in `user_passwords`. Only the hash is stored; a
 * generated password is shown once, to whoever asked for it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { Db } from '../db/types.js';
import { badRequest } from '../errors.js';
import { getUserByName, type User } from '../repo.js';

/**
 * argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a
 * guess costs an attacker that much memory, a sign-in here a third of a
 * second on a busy 2-core machine instead of the library default's second.
 */
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Shortest password a superuser may set. */
export const PASSWORD_MIN_LENGTH = 10;
/** Longest password accepted (argon2 takes any length; a bound keeps a sign-in cheap to refuse). */
export const PASSWORD_MAX_LENGTH = 1024;

/** A new random password: 20 characters from an unambiguous alphabet (about 116 bits). */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(20)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Refuses a password too short or too long to set, saying why. */
export function checkNewPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) throw badRequest(`A password needs at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) throw badRequest(`A password may have at most ${PASSWORD_MAX_LENGTH} characters`);
}

/** Stores the argon2id hash of `password` as the user's password (replacing any earlier one). */
export async function setPassword(db: Db, userUuid: string, password: string): Promise<void> {
  checkNewPassword(password);
  const hash = await argon2.hash(password, HASH_OPTIONS);
  await db.exec(
    'INSERT INTO user_passwords (user_uuid, hash, changed) VALUES (?, ?, ?) ON CONFLICT (user_uuid) DO UPDATE SET hash = excluded.hash, changed = excluded.changed',
    [userUuid, hash, new Date().toISOString()],
  );
}

/**
 * When the user's password was last set (undefined: none). A session
 * remembers it at sign-in: a password set since (a reset by a superuser)
 * signs out every session of the user, as Django's session hash does.
 */
export async function passwordSetAt(db: Db, userUuid: string): Promise<string | undefined> {
  return (await db.query<{ changed: string }>('SELECT changed FROM user_passwords WHERE user_uuid = ?', [userUuid]))[0]?.changed;
}

/**
 * Takes every way in away from a user (SODAR: a Django user made inactive):
 * their password (so no sign-in, and every page session of theirs ends, see
 * {@link passwordSetAt}) and their API tokens. Their roles stay; a new
 * password (`setPassword`) and token let them in again. Returns what was removed.
 */
export async function revokeAccess(db: Db, userUuid: string): Promise<{ passwords: number; tokens: number }> {
  return db.transaction(async (tx) => ({
    passwords: await tx.exec('DELETE FROM user_passwords WHERE user_uuid = ?', [userUuid]),
    tokens: await tx.exec('DELETE FROM api_tokens WHERE user_uuid = ?', [userUuid]),
  }));
}

/** Whether the user has a password at all. */
export async function hasPassword(db: Db, userUuid: string): Promise<boolean> {
  return (await db.query('SELECT 1 AS one FROM user_passwords WHERE user_uuid = ?', [userUuid])).length > 0;
}

// Verified when the user is unknown, so an unknown name costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

/** The user named `username` when `password` is theirs; undefined otherwise (unknown user, no password, wrong password). */
export async function checkPassword(db: Db, username: string, password: string): Promise<User | undefined> {
  if (password.length > PASSWORD_MAX_LENGTH) return undefined;
  const user = await getUserByName(db, username);
  const row = user ? (await db.query<{ hash: string }>('SELECT hash FROM user_passwords WHERE user_uuid = ?', [user.uuid]))[0] : undefined;
  if (!row) {
    dummyHash ??= argon2.hash(generatePassword(), HASH_OPTIONS);
    await argon2.verify(await dummyHash, password);
    return undefined;
  }
  return (await argon2.verify(row.hash, password)) ? user : undefined;
}
