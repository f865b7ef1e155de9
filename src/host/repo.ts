/**
 * Data access for the site's models. Every function takes the {@link Db} (or a
 * transaction) as first argument, so callers choose the transaction scope.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { OWNER_ROLE_PK, PROJECT_TYPE_CATEGORY, roleByPk, type ProjectType, type TimelineStatus, type ZoneStatus } from './constants.js';
import type { Db } from './db/types.js';

/** A site user. */
export interface User {
  uuid: string;
  username: string;
  name: string;
  email: string;
  is_superuser: boolean;
}

/** A project or category. */
export interface Project {
  uuid: string;
  type: ProjectType;
  parent_uuid: string | null;
  title: string;
  description: string;
  readme: string;
  public_guest_access: boolean;
}

/** A role assignment (joined with its user and role). */
export interface Assignment {
  uuid: string;
  project_uuid: string;
  user_uuid: string;
  role_pk: number;
}

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

/** A timeline event with its status history. */
export interface TimelineEvent {
  uuid: string;
  project_uuid: string | null;
  app: string;
  user_uuid: string | null;
  event_name: string;
  description: string;
  extra_data: string;
  created: string;
}

export interface TimelineStatusRow {
  event_uuid: string;
  seq: number;
  status_type: TimelineStatus;
  status_desc: string;
  extra_data: string;
  created: string;
}

const now = (): string => new Date().toISOString();

// Booleans are stored as INTEGER 0/1 (the same in SQLite and PostgreSQL); the
// domain sees true/false only, so the conversion lives here and nowhere else.
const toBool = (v: unknown): boolean => Number(v) === 1;
const fromBool = (b: boolean): number => (b ? 1 : 0);

type Stored<T, K extends keyof T> = Omit<T, K> & Record<K, number> & Record<string, unknown>;

function userOf(row: Stored<User, 'is_superuser'>): User {
  return { uuid: row.uuid, username: row.username, name: row.name, email: row.email, is_superuser: toBool(row.is_superuser) };
}

function projectOf(row: Stored<Project, 'public_guest_access'>): Project {
  return {
    uuid: row.uuid,
    type: row.type,
    parent_uuid: row.parent_uuid,
    title: row.title,
    description: row.description,
    readme: row.readme,
    public_guest_access: toBool(row.public_guest_access),
  };
}

function investigationOf(row: Stored<Investigation, 'irods_status'>): Investigation {
  return { uuid: row.uuid, project_uuid: row.project_uuid, title: row.title, irods_status: toBool(row.irods_status) };
}

function first<T>(rows: T[]): T | undefined {
  return rows[0];
}

// Users and tokens

export async function getUser(db: Db, uuid: string): Promise<User | undefined> {
  return first((await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users WHERE uuid = ?', [uuid])).map(userOf));
}

export async function getUserByName(db: Db, username: string): Promise<User | undefined> {
  return first((await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users WHERE username = ?', [username])).map(userOf));
}

export async function listUsers(db: Db): Promise<User[]> {
  return (await db.query<Stored<User, 'is_superuser'>>('SELECT * FROM users ORDER BY username')).map(userOf);
}

export async function createUser(
  db: Db,
  u: { username: string; name?: string; email?: string; isSuperuser?: boolean; uuid?: string },
): Promise<User> {
  const user: User = {
    uuid: u.uuid ?? randomUUID(),
    username: u.username,
    name: u.name ?? '',
    email: u.email ?? '',
    is_superuser: u.isSuperuser ?? false,
  };
  await db.exec('INSERT INTO users (uuid, username, name, email, is_superuser) VALUES (?, ?, ?, ?, ?)', [
    user.uuid,
    user.username,
    user.name,
    user.email,
    fromBool(user.is_superuser),
  ]);
  return user;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates an API token for a user and returns it (only its hash is stored). */
export async function createToken(db: Db, userUuid: string, label = ''): Promise<string> {
  const token = randomBytes(24).toString('hex');
  await db.exec('INSERT INTO api_tokens (token_hash, user_uuid, label) VALUES (?, ?, ?)', [hashToken(token), userUuid, label]);
  return token;
}

/** The user owning `token`, or undefined. */
export async function userForToken(db: Db, token: string): Promise<User | undefined> {
  return first(
    (
      await db.query<Stored<User, 'is_superuser'>>('SELECT u.* FROM users u JOIN api_tokens t ON t.user_uuid = u.uuid WHERE t.token_hash = ?', [
        hashToken(token),
      ])
    ).map(userOf),
  );
}

// Projects

export async function getProject(db: Db, uuid: string): Promise<Project | undefined> {
  return first((await db.query<Stored<Project, 'public_guest_access'>>('SELECT * FROM projects WHERE uuid = ?', [uuid])).map(projectOf));
}

export async function listProjects(db: Db): Promise<Project[]> {
  return (await db.query<Stored<Project, 'public_guest_access'>>('SELECT * FROM projects ORDER BY title, uuid')).map(projectOf);
}

export async function insertProject(db: Db, p: Project): Promise<void> {
  await db.exec(
    'INSERT INTO projects (uuid, type, parent_uuid, title, description, readme, public_guest_access) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [p.uuid, p.type, p.parent_uuid, p.title, p.description, p.readme, fromBool(p.public_guest_access)],
  );
}

/** Writes every field of `p` over the stored row. */
export async function updateProject(db: Db, p: Project): Promise<number> {
  return db.exec(
    'UPDATE projects SET type = ?, parent_uuid = ?, title = ?, description = ?, readme = ?, public_guest_access = ? WHERE uuid = ?',
    [p.type, p.parent_uuid, p.title, p.description, p.readme, fromBool(p.public_guest_access), p.uuid],
  );
}

/** Removes a project and every row that belongs to it (a compensation for a failed create). */
export async function deleteProjectCascade(db: Db, uuid: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('DELETE FROM landing_zones WHERE project_uuid = ?', [uuid]);
    await deleteSheetRows(tx, uuid);
    await tx.exec('DELETE FROM app_settings WHERE project_uuid = ?', [uuid]);
    await tx.exec('DELETE FROM role_assignments WHERE project_uuid = ?', [uuid]);
    await tx.exec('DELETE FROM projects WHERE uuid = ?', [uuid]);
  });
}

/** Parents of a project, nearest first. */
export async function ancestors(db: Db, project: Project): Promise<Project[]> {
  const out: Project[] = [];
  let parent = project.parent_uuid;
  while (parent) {
    const p = await getProject(db, parent);
    if (!p || out.some((o) => o.uuid === p.uuid)) break;
    out.push(p);
    parent = p.parent_uuid;
  }
  return out;
}

/** Every project and category below `uuid`. */
export async function descendants(db: Db, uuid: string): Promise<Project[]> {
  const all = await listProjects(db);
  const out: Project[] = [];
  const queue = [uuid];
  while (queue.length > 0) {
    const cur = queue.shift();
    for (const p of all) {
      if (p.parent_uuid === cur && !out.some((o) => o.uuid === p.uuid)) {
        out.push(p);
        queue.push(p.uuid);
      }
    }
  }
  return out;
}

// Roles

export async function listAssignments(db: Db, projectUuid: string): Promise<Assignment[]> {
  return db.query<Assignment & Record<string, unknown>>(
    'SELECT * FROM role_assignments WHERE project_uuid = ? ORDER BY role_pk, uuid',
    [projectUuid],
  );
}

export async function getAssignment(db: Db, uuid: string): Promise<Assignment | undefined> {
  return first(await db.query<Assignment & Record<string, unknown>>('SELECT * FROM role_assignments WHERE uuid = ?', [uuid]));
}

export async function getAssignmentFor(db: Db, projectUuid: string, userUuid: string): Promise<Assignment | undefined> {
  return first(
    await db.query<Assignment & Record<string, unknown>>(
      'SELECT * FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?',
      [projectUuid, userUuid],
    ),
  );
}

/** Creates or updates the user's role in a project; returns the assignment. */
export async function setRole(db: Db, projectUuid: string, userUuid: string, rolePk: number): Promise<Assignment> {
  if (!roleByPk(rolePk)) throw new Error(`unknown role pk ${rolePk}`);
  const existing = await getAssignmentFor(db, projectUuid, userUuid);
  if (existing) {
    await db.exec('UPDATE role_assignments SET role_pk = ? WHERE uuid = ?', [rolePk, existing.uuid]);
    return { ...existing, role_pk: rolePk };
  }
  const a: Assignment = { uuid: randomUUID(), project_uuid: projectUuid, user_uuid: userUuid, role_pk: rolePk };
  await db.exec('INSERT INTO role_assignments (uuid, project_uuid, user_uuid, role_pk) VALUES (?, ?, ?, ?)', [
    a.uuid,
    a.project_uuid,
    a.user_uuid,
    a.role_pk,
  ]);
  return a;
}

/** Puts back an assignment exactly as it was (same uuid). */
export async function restoreAssignment(db: Db, a: Assignment): Promise<void> {
  await db.exec('DELETE FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?', [a.project_uuid, a.user_uuid]);
  await db.exec('INSERT INTO role_assignments (uuid, project_uuid, user_uuid, role_pk) VALUES (?, ?, ?, ?)', [
    a.uuid,
    a.project_uuid,
    a.user_uuid,
    a.role_pk,
  ]);
}

export async function deleteRole(db: Db, projectUuid: string, userUuid: string): Promise<number> {
  return db.exec('DELETE FROM role_assignments WHERE project_uuid = ? AND user_uuid = ?', [projectUuid, userUuid]);
}

/** The owner assignment of a project, or undefined. */
export async function getOwner(db: Db, projectUuid: string): Promise<(Assignment & { user: User }) | undefined> {
  const a = first(
    await db.query<Assignment & Record<string, unknown>>(
      'SELECT * FROM role_assignments WHERE project_uuid = ? AND role_pk = ?',
      [projectUuid, OWNER_ROLE_PK],
    ),
  );
  if (!a) return undefined;
  const user = await getUser(db, a.user_uuid);
  return user ? { ...a, user } : undefined;
}

/** Owners of the categories above a project (nearest first, distinct users). */
export async function inheritedOwners(db: Db, project: Project): Promise<User[]> {
  const out: User[] = [];
  for (const anc of await ancestors(db, project)) {
    if (anc.type !== PROJECT_TYPE_CATEGORY) continue;
    const owner = await getOwner(db, anc.uuid);
    if (owner && !out.some((u) => u.uuid === owner.user.uuid)) out.push(owner.user);
  }
  return out;
}

// App settings

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

// Timeline

/** Adds an event with its first status. */
export async function addEvent(
  db: Db,
  e: { projectUuid: string | null; app: string; userUuid: string | null; eventName: string; description: string; extraData?: unknown; status: TimelineStatus; statusDesc?: string },
): Promise<TimelineEvent> {
  const event: TimelineEvent = {
    uuid: randomUUID(),
    project_uuid: e.projectUuid,
    app: e.app,
    user_uuid: e.userUuid,
    event_name: e.eventName,
    description: e.description,
    extra_data: JSON.stringify(e.extraData ?? {}),
    created: now(),
  };
  await db.exec(
    'INSERT INTO timeline_events (uuid, project_uuid, app, user_uuid, event_name, description, extra_data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [event.uuid, event.project_uuid, event.app, event.user_uuid, event.event_name, event.description, event.extra_data, event.created],
  );
  await addEventStatus(db, event.uuid, e.status, e.statusDesc ?? '');
  return event;
}

export async function getEvent(db: Db, uuid: string): Promise<TimelineEvent | undefined> {
  return first(await db.query<TimelineEvent & Record<string, unknown>>('SELECT * FROM timeline_events WHERE uuid = ?', [uuid]));
}

/** Appends a status to an event's history. */
export async function addEventStatus(db: Db, eventUuid: string, status: TimelineStatus, desc: string, extraData: unknown = {}): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx.query<{ n: number | null }>('SELECT MAX(seq) AS n FROM timeline_statuses WHERE event_uuid = ?', [eventUuid]);
    const seq = Number(rows[0]?.n ?? 0) + 1;
    await tx.exec(
      'INSERT INTO timeline_statuses (event_uuid, seq, status_type, status_desc, extra_data, created) VALUES (?, ?, ?, ?, ?, ?)',
      [eventUuid, seq, status, desc, JSON.stringify(extraData), now()],
    );
  });
}

export async function eventStatuses(db: Db, eventUuid: string): Promise<TimelineStatusRow[]> {
  return db.query<TimelineStatusRow & Record<string, unknown>>(
    'SELECT * FROM timeline_statuses WHERE event_uuid = ? ORDER BY seq',
    [eventUuid],
  );
}

export async function listEvents(db: Db, projectUuid: string): Promise<TimelineEvent[]> {
  return db.query<TimelineEvent & Record<string, unknown>>(
    'SELECT * FROM timeline_events WHERE project_uuid = ? ORDER BY created, uuid',
    [projectUuid],
  );
}

// Sample sheets

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

// Landing zones

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

// Plugins

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

/** Collections of a sheet relative to sample_data: each study, then its assays (what sheet_colls_create creates). */
export async function sheetCollectionPaths(db: Db, investigationUuid: string): Promise<string[]> {
  const colls: string[] = [];
  for (const s of await listStudies(db, investigationUuid)) {
    colls.push(s.path);
    for (const a of await listAssays(db, s.uuid)) colls.push(a.path);
  }
  return colls;
}
