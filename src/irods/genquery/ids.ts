/**
 * Numeric ids for users and groups. iRODS gives every user and group a row id
 * (`R_USER_MAIN.user_id`); our catalog keys principals by name, so GenQuery
 * derives a stable id from the name: the same name always gets the same id,
 * across connections and restarts, with no column to add. Collections and
 * data objects answer with `entries.id`, AVUs with `avus.seq`.
 *
 * Derived ids start at {@link DERIVED_ID_BASE}, above any entry id a catalog
 * reaches, so a user id never equals an object id (iRODS's ids share one
 * sequence too), and stay below 2^53 so every client reads them exactly.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** Lowest derived id. */
export const DERIVED_ID_BASE = 10_000_000_000;
/** 40 bits of hash: among 10,000 names a collision has odds of about 1 in 20,000. */
const HASH_BYTES = 5;

/** The id GenQuery reports for a user or group (`USER_ID`, `USER_GROUP_ID`, `*_ACCESS_USER_ID`). */
export function principalId(name: string): number {
  return DERIVED_ID_BASE + createHash('sha256').update(name).digest().readUIntBE(0, HASH_BYTES);
}

/** The SQL function the GenQuery SQL calls for {@link principalId}. */
export const SQL_PRINCIPAL_ID = 'irods_gq_principal_id';

const registered = new WeakSet<Database.Database>();

/** Registers the id function on a connection (once per connection; deterministic, so SQLite may cache it). */
export function registerIdFunctions(db: Database.Database): void {
  if (registered.has(db)) return;
  db.function(SQL_PRINCIPAL_ID, { deterministic: true }, (name: unknown) => principalId(String(name)));
  registered.add(db);
}
