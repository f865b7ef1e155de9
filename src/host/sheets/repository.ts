/**
 * Sample sheets: the investigation, its studies and assays.
 *
 * @module
 */
import { first, fromBool, toBool, type Stored } from '../db/rows.js';
import type { Db } from '../db/types.js';

/** An investigation (the sample sheet). */
export interface Investigation {
  uuid: string;
  project_uuid: string;
  title: string;
  /** Whether the sheet's collections exist in the store. */
  irods_status: boolean;
}

export interface Study {
  uuid: string;
  investigation_uuid: string;
  title: string;
  path: string;
}

export interface Assay {
  uuid: string;
  study_uuid: string;
  title: string;
  path: string;
}

function investigationOf(row: Stored<Investigation, 'irods_status'>): Investigation {
  return { uuid: row.uuid, project_uuid: row.project_uuid, title: row.title, irods_status: toBool(row.irods_status) };
}

export async function getInvestigation(db: Db, projectUuid: string): Promise<Investigation | undefined> {
  return first((await db.query<Stored<Investigation, 'irods_status'>>('SELECT * FROM investigations WHERE project_uuid = ?', [projectUuid])).map(investigationOf));
}

export async function listStudies(db: Db, investigationUuid: string): Promise<Study[]> {
  return db.query<Study & Record<string, unknown>>('SELECT * FROM studies WHERE investigation_uuid = ? ORDER BY path', [investigationUuid]);
}

export async function listAssays(db: Db, studyUuid: string): Promise<Assay[]> {
  return db.query<Assay & Record<string, unknown>>('SELECT * FROM assays WHERE study_uuid = ? ORDER BY path', [studyUuid]);
}

export async function getAssay(db: Db, uuid: string): Promise<Assay | undefined> {
  return first(await db.query<Assay & Record<string, unknown>>('SELECT * FROM assays WHERE uuid = ?', [uuid]));
}

/** The project an assay belongs to. */
export async function projectOfAssay(db: Db, assayUuid: string): Promise<string | undefined> {
  const rows = await db.query<{ project_uuid: string }>(
    'SELECT i.project_uuid FROM assays a JOIN studies s ON s.uuid = a.study_uuid JOIN investigations i ON i.uuid = s.investigation_uuid WHERE a.uuid = ?',
    [assayUuid],
  );
  return rows[0]?.project_uuid;
}

export async function setDirStatus(db: Db, projectUuid: string, status: boolean): Promise<number> {
  return db.exec('UPDATE investigations SET irods_status = ? WHERE project_uuid = ?', [fromBool(status), projectUuid]);
}

/** Removes the sheet of a project (investigation, studies, assays). */
export async function deleteSheetRows(db: Db, projectUuid: string): Promise<number> {
  const inv = await getInvestigation(db, projectUuid);
  if (!inv) return 0;
  await db.exec('DELETE FROM assays WHERE study_uuid IN (SELECT uuid FROM studies WHERE investigation_uuid = ?)', [inv.uuid]);
  await db.exec('DELETE FROM studies WHERE investigation_uuid = ?', [inv.uuid]);
  return db.exec('DELETE FROM investigations WHERE uuid = ?', [inv.uuid]);
}

/** Collections of a sheet relative to sample_data: each study, then its assays (what sheet_colls_create creates). */
export async function sheetCollectionPaths(db: Db, investigationUuid: string): Promise<string[]> {
  const colls: string[] = [];
  for (const s of await listStudies(db, investigationUuid)) {
    colls.push(s.path);
    for (const a of await listAssays(db, s.uuid)) colls.push(a.path);
  }
  return colls;
}
