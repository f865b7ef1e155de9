/**
 * Registered plugins.
 *
 * @module
 */
import type { Db } from '../db/types.js';

export async function pluginNames(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>('SELECT name FROM plugins ORDER BY name');
  return rows.map((r) => r.name);
}

export async function registerPlugin(db: Db, name: string, type: string, path: string): Promise<void> {
  await db.exec('INSERT INTO plugins (name, type, path) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET type = excluded.type, path = excluded.path', [
    name,
    type,
    path,
  ]);
}
