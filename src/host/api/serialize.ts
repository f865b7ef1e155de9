/**
 * API representations, shaped like SODAR's REST API (`sodar_uuid` keys,
 * role names, nested users).
 *
 * @module
 */
import { landingZonePath, type LayoutBase } from '../../flows/layout.js';
import { roleByPk, type LockShown } from '../constants.js';
import type { Db } from '../db/types.js';
import {
  eventStatuses,
  listAssays,
  listAssignments,
  listStudies,
  getUser,
  type Investigation,
  type Project,
  type TimelineEvent,
  type User,
  type Zone,
  getAssay,
} from '../repo.js';

export function userJson(u: User): Record<string, unknown> {
  return { username: u.username, name: u.name, email: u.email, is_superuser: u.is_superuser, sodar_uuid: u.uuid };
}

/**
 * A project or category. `locked` is `true` or `false` as the service reports
 * it, or `"unknown"` (`LOCK_UNKNOWN` in constants.ts) when the site cannot tell or did
 * not ask (lists); categories are never locked.
 */
export async function projectJson(db: Db, p: Project, locked: LockShown): Promise<Record<string, unknown>> {
  const roles: Record<string, unknown> = {};
  for (const a of await listAssignments(db, p.uuid)) {
    const u = await getUser(db, a.user_uuid);
    roles[a.uuid] = { user: u ? userJson(u) : null, role: roleByPk(a.role_pk)?.name ?? null, inherited: false, sodar_uuid: a.uuid };
  }
  return {
    title: p.title,
    type: p.type,
    parent: p.parent_uuid,
    description: p.description,
    readme: p.readme,
    public_guest_access: p.public_guest_access,
    archive: false,
    roles,
    locked,
    sodar_uuid: p.uuid,
  };
}

export function roleJson(a: { uuid: string; project_uuid: string; role_pk: number }, user: User): Record<string, unknown> {
  return { project: a.project_uuid, role: roleByPk(a.role_pk)?.name ?? null, user: userJson(user), sodar_uuid: a.uuid };
}

export async function investigationJson(db: Db, inv: Investigation): Promise<Record<string, unknown>> {
  const studies: Record<string, unknown> = {};
  for (const s of await listStudies(db, inv.uuid)) {
    const assays: Record<string, unknown> = {};
    for (const a of await listAssays(db, s.uuid)) assays[a.uuid] = { title: a.title, path: a.path, sodar_uuid: a.uuid };
    studies[s.uuid] = { title: s.title, path: s.path, assays, sodar_uuid: s.uuid };
  }
  return { title: inv.title, project: inv.project_uuid, irods_status: inv.irods_status, studies, sodar_uuid: inv.uuid };
}

/** A zone; `base` (store zone and root path) gives its `irods_path`. */
export async function zoneJson(db: Db, z: Zone, base: LayoutBase): Promise<Record<string, unknown>> {
  const user = await getUser(db, z.user_uuid);
  const assay = await getAssay(db, z.assay_uuid);
  return {
    title: z.title,
    project: z.project_uuid,
    user: user ? userJson(user) : null,
    assay: z.assay_uuid,
    assay_path: assay?.path ?? null,
    status: z.status,
    status_info: z.status_info,
    date_modified: z.modified,
    description: z.description,
    configuration: z.configuration || null,
    irods_path:
      user && assay
        ? landingZonePath(base, z.project_uuid, { userName: user.username, assayPath: assay.path, zoneTitle: z.title, zoneConfig: z.configuration })
        : null,
    sodar_uuid: z.uuid,
  };
}

export async function eventJson(db: Db, e: TimelineEvent): Promise<Record<string, unknown>> {
  const statuses = await eventStatuses(db, e.uuid);
  const last = statuses[statuses.length - 1];
  return {
    project: e.project_uuid,
    app: e.app,
    user: e.user_uuid,
    event_name: e.event_name,
    description: e.description,
    extra_data: JSON.parse(e.extra_data) as unknown,
    status_type: last?.status_type ?? null,
    status_desc: last?.status_desc ?? null,
    status_changes: statuses.map((s) => ({
      status_type: s.status_type,
      status_desc: s.status_desc,
      extra_data: JSON.parse(s.extra_data) as unknown,
      timestamp: s.created,
    })),
    timestamp: e.created,
    sodar_uuid: e.uuid,
  };
}
