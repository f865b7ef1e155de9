/**
 * Landing zones.
 *
 * @module
 */
import type { ZoneStatus } from '../constants.js';
import { first, now } from '../db/rows.js';
import type { Db } from '../db/types.js';

/** A landing zone. */
export interface Zone {
  uuid: string;
  project_uuid: string;
  user_uuid: string;
  assay_uuid: string;
  title: string;
  configuration: string;
  description: string;
  status: ZoneStatus;
  status_info: string;
  modified: string;
}

export async function getZone(db: Db, uuid: string): Promise<Zone | undefined> {
  return first(await db.query<Zone & Record<string, unknown>>('SELECT * FROM landing_zones WHERE uuid = ?', [uuid]));
}

export async function listZones(db: Db, projectUuid: string): Promise<Zone[]> {
  return db.query<Zone & Record<string, unknown>>('SELECT * FROM landing_zones WHERE project_uuid = ? ORDER BY modified, uuid', [projectUuid]);
}

export async function insertZone(db: Db, z: Zone): Promise<void> {
  await db.exec(
    'INSERT INTO landing_zones (uuid, project_uuid, user_uuid, assay_uuid, title, configuration, description, status, status_info, modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [z.uuid, z.project_uuid, z.user_uuid, z.assay_uuid, z.title, z.configuration, z.description, z.status, z.status_info, z.modified],
  );
}

export async function deleteZone(db: Db, uuid: string): Promise<void> {
  await db.exec('DELETE FROM landing_zones WHERE uuid = ?', [uuid]);
}

/**
 * Sets a zone's status only when its current status is one of `from`
 * (compare-and-set, so two requests cannot both start a flow). Returns
 * whether it changed.
 */
export async function setZoneStatusIf(
  db: Db,
  uuid: string,
  from: readonly ZoneStatus[],
  status: ZoneStatus,
  info: string,
): Promise<boolean> {
  const marks = from.map(() => '?').join(', ');
  const n = await db.exec(`UPDATE landing_zones SET status = ?, status_info = ?, modified = ? WHERE uuid = ? AND status IN (${marks})`, [
    status,
    info,
    now(),
    uuid,
    ...from,
  ]);
  return n > 0;
}

/** Puts a zone's status and info back as they were (a compensation). */
export async function restoreZoneStatus(db: Db, z: Zone): Promise<void> {
  await db.exec('UPDATE landing_zones SET status = ?, status_info = ?, modified = ? WHERE uuid = ?', [z.status, z.status_info, z.modified, z.uuid]);
}
