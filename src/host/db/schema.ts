/**
 * The site's one schema, in SQL both SQLite and PostgreSQL accept. Tables
 * mirror the SODAR Core / SODAR models the callbacks and the API need.
 *
 * @module
 */
import { ROLES } from '../constants.js';
import type { Db } from './types.js';

/** Every table, in creation order (referenced tables first). */
export const TABLES = [
  'plugins',
  'users',
  'api_tokens',
  'roles',
  'projects',
  'role_assignments',
  'app_settings',
  'timeline_events',
  'timeline_statuses',
  'investigations',
  'studies',
  'assays',
  'landing_zones',
  'user_passwords',
  'site_sessions',
  'pending_undos',
] as const;

const DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS plugins (
     name TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     path TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS users (
     uuid TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL DEFAULT '',
     email TEXT NOT NULL DEFAULT '',
     is_superuser INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS api_tokens (
     token_hash TEXT PRIMARY KEY,
     user_uuid TEXT NOT NULL REFERENCES users(uuid),
     label TEXT NOT NULL DEFAULT '')`,
  `CREATE TABLE IF NOT EXISTS roles (
     pk INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     rank INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS projects (
     uuid TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     parent_uuid TEXT REFERENCES projects(uuid),
     title TEXT NOT NULL,
     description TEXT NOT NULL DEFAULT '',
     readme TEXT NOT NULL DEFAULT '',
     public_guest_access INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS role_assignments (
     uuid TEXT PRIMARY KEY,
     project_uuid TEXT NOT NULL REFERENCES projects(uuid),
     user_uuid TEXT NOT NULL REFERENCES users(uuid),
     role_pk INTEGER NOT NULL REFERENCES roles(pk),
     UNIQUE (project_uuid, user_uuid))`,
  `CREATE TABLE IF NOT EXISTS app_settings (
     project_uuid TEXT NOT NULL REFERENCES projects(uuid),
     app TEXT NOT NULL,
     name TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (project_uuid, app, name))`,
  // Timeline rows keep no foreign keys: the log outlives what it mentions.
  `CREATE TABLE IF NOT EXISTS timeline_events (
     uuid TEXT PRIMARY KEY,
     project_uuid TEXT,
     app TEXT NOT NULL,
     user_uuid TEXT,
     event_name TEXT NOT NULL,
     description TEXT NOT NULL DEFAULT '',
     extra_data TEXT NOT NULL DEFAULT '{}',
     created TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS timeline_statuses (
     event_uuid TEXT NOT NULL,
     seq INTEGER NOT NULL,
     status_type TEXT NOT NULL,
     status_desc TEXT NOT NULL DEFAULT '',
     extra_data TEXT NOT NULL DEFAULT '{}',
     created TEXT NOT NULL,
     PRIMARY KEY (event_uuid, seq))`,
  `CREATE TABLE IF NOT EXISTS investigations (
     uuid TEXT PRIMARY KEY,
     project_uuid TEXT NOT NULL UNIQUE REFERENCES projects(uuid),
     title TEXT NOT NULL DEFAULT '',
     irods_status INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS studies (
     uuid TEXT PRIMARY KEY,
     investigation_uuid TEXT NOT NULL REFERENCES investigations(uuid),
     title TEXT NOT NULL DEFAULT '',
     path TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS assays (
     uuid TEXT PRIMARY KEY,
     study_uuid TEXT NOT NULL REFERENCES studies(uuid),
     title TEXT NOT NULL DEFAULT '',
     path TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS landing_zones (
     uuid TEXT PRIMARY KEY,
     project_uuid TEXT NOT NULL REFERENCES projects(uuid),
     user_uuid TEXT NOT NULL REFERENCES users(uuid),
     assay_uuid TEXT NOT NULL REFERENCES assays(uuid),
     title TEXT NOT NULL,
     configuration TEXT NOT NULL DEFAULT '',
     description TEXT NOT NULL DEFAULT '',
     status TEXT NOT NULL,
     status_info TEXT NOT NULL DEFAULT '',
     modified TEXT NOT NULL)`,
  // Password hashes live beside the users, not in them: user rows are read
  // with SELECT * and serialised in many places, a hash must ride on none.
  // A table added later needs no ALTER: CREATE ... IF NOT EXISTS migrates
  // older SQLite and PostgreSQL databases alike on the next start.
  `CREATE TABLE IF NOT EXISTS user_passwords (
     user_uuid TEXT PRIMARY KEY REFERENCES users(uuid),
     hash TEXT NOT NULL,
     changed TEXT NOT NULL)`,
  // Signed-in browser sessions (the cookie carries only the signed id).
  `CREATE TABLE IF NOT EXISTS site_sessions (
     sid TEXT PRIMARY KEY,
     data TEXT NOT NULL,
     expires TEXT NOT NULL)`,
  // How to take back a site change whose flow has not ended yet (see undo/repository.ts): kept
  // across crashes until the flow's outcome is known. No foreign keys: an undo may delete what it names.
  `CREATE TABLE IF NOT EXISTS pending_undos (
     event_uuid TEXT PRIMARY KEY,
     project_uuid TEXT,
     kind TEXT NOT NULL,
     data TEXT NOT NULL,
     on_ok TEXT,
     created TEXT NOT NULL)`,
  // The pages read a project's newest events and its zones a page at a time.
  'CREATE INDEX IF NOT EXISTS timeline_events_by_project ON timeline_events (project_uuid, created)',
  'CREATE INDEX IF NOT EXISTS landing_zones_by_project ON landing_zones (project_uuid, modified)',
];

/** Creates missing tables and seeds the roles. Safe to run on every start. */
export async function migrate(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    for (const stmt of DDL) await tx.exec(stmt);
    for (const r of ROLES) {
      await tx.exec('INSERT INTO roles (pk, name, rank) VALUES (?, ?, ?) ON CONFLICT (pk) DO NOTHING', [r.pk, r.name, r.rank]);
    }
  });
}

/**
 * Every table's rows as sorted JSON lines, for before/after comparisons.
 * `exclude` leaves tables out (e.g. the timeline, which records failures).
 */
export async function dumpDb(db: Db, exclude: readonly string[] = []): Promise<string[]> {
  const lines: string[] = [];
  for (const table of TABLES) {
    if (exclude.includes(table)) continue;
    const rows = await db.query(`SELECT * FROM ${table}`);
    const out = rows.map((r) => `${table} ${JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))))}`);
    lines.push(...out.sort());
  }
  return lines;
}
