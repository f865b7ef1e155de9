/**
 * A project's app settings.
 *
 * @module
 */
import type { Db } from '../db/types.js';

/** Settings of a project as `{"<app>.<name>": value}` (values parsed from JSON). */
export async function getSettings(db: Db, projectUuid: string): Promise<Record<string, unknown>> {
  const rows = await db.query<{ app: string; name: string; value: string }>(
    'SELECT app, name, value FROM app_settings WHERE project_uuid = ? ORDER BY app, name',
    [projectUuid],
  );
  return Object.fromEntries(rows.map((r) => [`${r.app}.${r.name}`, JSON.parse(r.value) as unknown]));
}

/** Sets settings given as `{"<app>.<name>": value}`. */
export async function setSettings(db: Db, projectUuid: string, settings: Record<string, unknown>): Promise<void> {
  for (const [key, value] of Object.entries(settings)) {
    const dot = key.indexOf('.');
    if (dot <= 0) throw new Error(`setting "${key}" is not "<app>.<name>"`);
    await db.exec(
      'INSERT INTO app_settings (project_uuid, app, name, value) VALUES (?, ?, ?, ?) ON CONFLICT (project_uuid, app, name) DO UPDATE SET value = excluded.value',
      [projectUuid, key.slice(0, dot), key.slice(dot + 1), JSON.stringify(value ?? null)],
    );
  }
}

/** Replaces all settings of a project with exactly `settings`. */
export async function replaceSettings(db: Db, projectUuid: string, settings: Record<string, unknown>): Promise<void> {
  await db.exec('DELETE FROM app_settings WHERE project_uuid = ?', [projectUuid]);
  await setSettings(db, projectUuid, settings);
}
