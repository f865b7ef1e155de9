/**
 * Users and their API tokens.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { first, fromBool, toBool, type Stored } from '../db/rows.js';
import type { Db } from '../db/types.js';

/** A site user. */
export interface User {
  uuid: string;
  username: string;
  name: string;
  email: string;
  is_superuser: boolean;
}

function userOf(row: Stored<User, 'is_superuser'>): User {
  return { uuid: row.uuid, username: row.username, name: row.name, email: row.email, is_superuser: toBool(row.is_superuser) };
}

export async function getUser(db: Db, uuid: string): Promise<User | undefined> {
  return first((await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users WHERE uuid = ?', [uuid])).map(userOf));
}

export async function getUserByName(db: Db, username: string): Promise<User | undefined> {
  return first((await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users WHERE username = ?', [username])).map(userOf));
}

export async function listUsers(db: Db): Promise<User[]> {
  return (await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users ORDER BY username')).map(userOf);
}

export async function createUser(
  db: Db,
  u: { username: string; name?: string; email?: string; isSuperuser?: boolean; uuid?: string },
): Promise<User> {
  const user: User = {
    uuid: u.uuid ?? randomUUID(),
    username: u.username,
    name: u.name ?? '',
    email: u.email ?? '',
    is_superuser: u.isSuperuser ?? false,
  };
  await db.exec('INSERT INTO users (uuid, username, name, email, is_superuser) VALUES (?, ?, ?, ?, ?)', [
    user.uuid,
    user.username,
    user.name,
    user.email,
    fromBool(user.is_superuser),
  ]);
  return user;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates an API token for a user and returns it (only its hash is stored). */
export async function createToken(db: Db, userUuid: string, label = ''): Promise<string> {
  const token = randomBytes(24).toString('hex');
  await db.exec('INSERT INTO api_tokens (token_hash, user_uuid, label) VALUES (?, ?, ?)', [hashToken(token), userUuid, label]);
  return token;
}

/**
 * Removes the API token `token` (that one alone: the user's other tokens
 * and password stay); returns the user it belonged to, undefined when no
 * user has it.
 */
export async function revokeToken(db: Db, token: string): Promise<User | undefined> {
  return db.transaction(async (tx) => {
    const owner = await userForToken(tx, token);
    if (owner) await tx.exec('DELETE FROM api_tokens WHERE token_hash = ?', [hashToken(token)]);
    return owner;
  });
}

/** The user owning `token`, or undefined. */
export async function userForToken(db: Db, token: string): Promise<User | undefined> {
  return first(
    (
      await db.query<Stored<User, 'is_superuser'>>('SELECT u.* FROM users u JOIN api_tokens t ON t.user_uuid = u.uuid WHERE t.token_hash = ?', [
        hashToken(token),
      ])
    ).map(userOf),
  );
}
