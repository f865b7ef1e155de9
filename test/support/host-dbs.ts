/**
 * Site databases for tests, one of each backend: SQLite in a temp folder
 * and a fresh PostgreSQL schema (host-postgres.ts). Each is closed and
 * removed by {@link closeTestDbs}, which a test file calls after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/host/db/index.js';
import { pgSchema } from './host-postgres.js';

const cleanups: (() => Promise<void>)[] = [];

/** Closes and removes every database made since the last call. */
export async function closeTestDbs(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

/** A new SQLite site database in a temp folder named from `prefix`. */
export async function sqliteTestDb(prefix = 'host-db-'): Promise<Db> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = await openDb({ dataDir: dir, databaseUrl: undefined });
  cleanups.push(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

/** A new PostgreSQL site database: a schema of its own on the test server. */
export async function postgresTestDb(): Promise<Db> {
  const s = await pgSchema();
  const db = await openDb({ dataDir: '/nonexistent', databaseUrl: s.url });
  cleanups.push(async () => {
    await db.close();
    await s.drop();
  });
  return db;
}
