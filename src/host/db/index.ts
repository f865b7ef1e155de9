/**
 * Opens the site database the configuration asks for: PostgreSQL when
 * DATABASE_URL is a postgres URL, else SQLite at `<dataDir>/site.sqlite`.
 *
 * @module
 */
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { ConfigError } from '../../config.js';
import { PostgresDb } from './postgres.js';
import { migrate } from './schema.js';
import { SqliteDb } from './sqlite.js';
import type { Db } from './types.js';

export * from './types.js';
export { dumpDb, migrate, TABLES } from './schema.js';

/** The SQLite file used when DATABASE_URL is unset. */
export function sqlitePath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'site.sqlite');
}

/** Where the database lives, for messages (password removed). */
export function describeDb(config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  if (!config.databaseUrl) return sqlitePath(config);
  try {
    const u = new URL(config.databaseUrl);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return config.databaseUrl;
  }
}

/** Opens and migrates the site database. Fails loudly when it cannot be reached. */
export async function openDb(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Db> {
  const url = config.databaseUrl;
  let db: Db;
  if (!url) db = SqliteDb.open(sqlitePath(config));
  else if (/^postgres(ql)?:\/\//.test(url)) db = await PostgresDb.open(url);
  else if (url.startsWith('sqlite:')) db = SqliteDb.open(url.slice('sqlite:'.length).replace(/^\/\//, ''));
  else throw new ConfigError('DATABASE_URL', `expected postgres://... or sqlite:<path>, got "${url}"`);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}
