/**
 * Numeric ids for what the catalog keys by name. iRODS gives every user,
 * group and metadata triple a row id from one sequence (`R_USER_MAIN.user_id`,
 * `R_META_MAIN.meta_id`); our catalog keys principals by name and AVUs by
 * their text, so GenQuery derives a stable id from the name: the same name
 * always gets the same id, across connections and restarts, with no column to
 * add. Collections and data objects answer with `entries.id`.
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

function derivedId(kind: string, parts: readonly string[]): number {
  const h = createHash('sha256').update(kind);
  for (const p of parts) h.update('\0').update(p);
  return DERIVED_ID_BASE + h.digest().readUIntBE(0, HASH_BYTES);
}

/** The id GenQuery reports for a user or group (`USER_ID`, `USER_GROUP_ID`, `*_ACCESS_USER_ID`). */
export function principalId(name: string): number {
  return derivedId('principal', [name]);
}

/** The id GenQuery reports for a metadata triple (`META_*_ATTR_ID`): one id per triple, as iRODS shares AVU rows. */
export function avuId(attribute: string, value: string, unit: string): number {
  return derivedId('avu', [attribute, value, unit]);
}

/** SQL function names the GenQuery SQL calls. */
export const SQL_PRINCIPAL_ID = 'irods_gq_principal_id';
export const SQL_AVU_ID = 'irods_gq_avu_id';

const registered = new WeakSet<Database.Database>();

/** Registers the id functions on a connection (once per connection; deterministic, so SQLite may cache them). */
export function registerIdFunctions(db: Database.Database): void {
  if (registered.has(db)) return;
  db.function(SQL_PRINCIPAL_ID, { deterministic: true }, (name: unknown) => principalId(String(name)));
  db.function(SQL_AVU_ID, { deterministic: true }, (a: unknown, v: unknown, u: unknown) =>
    avuId(String(a), String(v), String(u)),
  );
  registered.add(db);
}
