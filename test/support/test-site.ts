/**
 * A strict, in-memory implementation of the host site's taskflow callbacks
 * (protocol section 3) for tests: form-encoded bodies only, the secret checked
 * on every call, 404s as the table says. Its state can be seeded, read as a
 * deep copy (compare before/after with `toEqual`) and its calls inspected.
 *
 * By default it is as strict as the real views, so that a form a real SODAR
 * refuses fails here too. The facts, with the versions they come from:
 * - SODAR Core 0.10.12 `projectroles/views_taskflow.py`:
 *   `project/taskflow/get` answers only `project_uuid`, `title`,
 *   `description`; `project/taskflow/update` reads `request.data['title']`
 *   and `request.data['readme']` (a missing key raises: 500), sets no parent
 *   when `parent_uuid` is empty or absent (an unknown one: 404), an absent
 *   `description` to `''` and `public_guest_access` to
 *   `request.data.get('public_guest_access') or False`.
 * - SODAR Core 0.10.12 `timeline/views_taskflow.py`: `status/set` reads
 *   `request.data['status_desc']` once the event is found (missing: 500).
 * - SODAR 0.11.3 `samplesheets/views_taskflow.py`: `dirs/set` assigns
 *   `request.data['dir_status']` to the investigation's `irods_status`.
 * - Both booleans are model `BooleanField`s: Django 3.2's `to_python` (run by
 *   `save()`) accepts only `t`, `True`, `1`, `f`, `False`, `0`, anything else
 *   is a ValidationError (500).
 * - SODAR Core 0.10.12 `projectroles/models.py` `Project.save()`, run by
 *   `project/taskflow/update`: a project is not its own parent
 *   (`_validate_parent`), its parent is a category (`_validate_parent_type`)
 *   and not titled as the project (`_validate_title`); each a
 *   ValidationError, a 500. `Project.Meta.unique_together = ('title',
 *   'parent')`: a title a sibling has is an IntegrityError, a 500.
 *   Seeds are not checked: they make the world.
 * - SODAR Core 0.10.12 `projectroles/models.py` `RoleAssignment.save()`, run
 *   by `role/set` (and so by every seed here): `_validate_owner` refuses a
 *   second owner of a project; `_validate_delegate` refuses a new delegate
 *   assignment once the project has `PROJECTROLES_DELEGATE_LIMIT` (default 1)
 *   delegates, not counting delegates who own a category above it. Its test
 *   for an existing assignment (`filter(...) is None`) is never true, so
 *   turning a member's existing role into delegate is not limited. Both
 *   refusals are ValidationErrors: a 500.
 * - SODAR 0.11.3 `landingzones/views_taskflow.py`: `status/set` reads
 *   `request.data['status_info']` (missing: 500), `int(file_count)` and
 *   `bool(int(validate_only))` when present (not an integer: 500).
 *
 * `richProjectGet` makes `project/taskflow/get` answer every field, as our
 * reference site does.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FINISHED_ZONE_STATUSES,
  STATUS_INFO_MAX,
  TIMELINE_STATUSES,
  ZONE_STATUSES,
  parseDjangoBool,
} from '../../src/site/protocol.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Role names of SODAR by primary key. */
export const SITE_ROLES: Readonly<Record<number, string>> = {
  1: 'project owner',
  2: 'project delegate',
  3: 'project contributor',
  4: 'project guest',
  5: 'project finder',
};


/** SODAR Core 0.10.12 `PROJECTROLES_DELEGATE_LIMIT` default (0 would mean no limit). */
const DELEGATE_LIMIT = 1;
const OWNER_PK = 1;
const DELEGATE_PK = 2;

/** Settings every project has, with their defaults (the site refuses unknown ones). */
export const DEFAULT_SETTINGS: Readonly<Record<string, Json>> = {
  'projectroles.ip_restrict': false,
  'projectroles.ip_allowlist': [],
  'samplesheets.sheet_sync_enable': false,
  'samplesheets.sheet_config': {},
  'filesfolders.allow_public_links': false,
};

export interface SiteProject {
  project_uuid: string;
  /** `CATEGORY` or `PROJECT` (the seed's default). */
  type: 'CATEGORY' | 'PROJECT';
  title: string;
  description: string;
  parent_uuid: string;
  readme: string;
  public_guest_access: boolean;
}

export interface SiteUser {
  user_uuid: string;
  username: string;
}

export interface SiteRole {
  assignment_uuid: string;
  project_uuid: string;
  user_uuid: string;
  role_pk: number;
  role_name: string;
}

export interface SiteTimelineEvent {
  event_uuid: string;
  project_uuid: string;
  /** Every status set, oldest first. */
  status_history: { status_type: string; status_desc: string; extra_data: Json }[];
}

export interface SiteZone {
  zone_uuid: string;
  project_uuid: string;
  status: string;
  status_info: string;
}

export interface SiteSheet {
  project_uuid: string;
  dir_status: boolean;
}

/** Everything the site holds; keys are uuids (roles: `<project_uuid>/<user_uuid>`). */
export interface SiteState {
  projects: Record<string, SiteProject>;
  users: Record<string, SiteUser>;
  roles: Record<string, SiteRole>;
  settings: Record<string, Record<string, Json>>;
  timeline: Record<string, SiteTimelineEvent>;
  zones: Record<string, SiteZone>;
  sheets: Record<string, SiteSheet>;
}

/** One callback received (the secret left out). */
export interface SiteCall {
  endpoint: string;
  fields: Record<string, string>;
  /** Status answered. */
  status: number;
}

export interface TestSite {
  /** Base URL to pass as `sodar_url`. */
  readonly url: string;
  /** Deep copy of the whole state. */
  state(): SiteState;
  /** Every callback received, in order. */
  readonly calls: SiteCall[];
  seedProject(p: Partial<SiteProject> & { project_uuid: string }): SiteProject;
  seedUser(u: SiteUser): SiteUser;
  seedRole(projectUuid: string, userUuid: string, rolePk: number): SiteRole;
  seedZone(z: Partial<SiteZone> & { zone_uuid: string; project_uuid: string }): SiteZone;
  seedTimelineEvent(e: { event_uuid: string; project_uuid?: string }): SiteTimelineEvent;
  seedSheet(s: { project_uuid: string; dir_status?: boolean }): SiteSheet;
  /** The next `count` calls to `endpoint` answer `status` without changing anything. */
  failNext(endpoint: string, status: number, count?: number): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A Django model `BooleanField` given a form string: anything but its six spellings is a 500. */
function djangoBool(name: string, v: string): boolean {
  const b = parseDjangoBool(v);
  if (b === undefined) throw new HttpError(500, `ValidationError: ['"${v}" value must be either True or False.'] (${name})`);
  return b;
}

/** `request.data[name]`: a missing key is a MultiValueDictKeyError, a 500. */
function key(f: Record<string, string>, name: string): string {
  const v = f[name];
  if (v === undefined) throw new HttpError(500, `MultiValueDictKeyError: '${name}'`);
  return v;
}

/** `int(value)` of a present form field: not an integer is a ValueError, a 500. */
function pyInt(name: string, v: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(v)) throw new HttpError(500, `ValueError: invalid literal for int() with base 10: '${v}' (${name})`);
  return Number(v);
}

function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new HttpError(413, 'Body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Options of {@link startTestSite}. */
export interface TestSiteOptions {
  secret: string;
  /** `project/taskflow/get` answers every project field (default: only SODAR Core 0.10's three). */
  richProjectGet?: boolean;
}

/** Starts a test site on 127.0.0.1 with a free port. */
export async function startTestSite(opts: TestSiteOptions): Promise<TestSite> {
  const state: SiteState = { projects: {}, users: {}, roles: {}, settings: {}, timeline: {}, zones: {}, sheets: {} };
  const calls: SiteCall[] = [];
  const failures = new Map<string, { status: number; count: number }>();

  const roleKey = (p: string, u: string) => `${p}/${u}`;
  const need = (f: Record<string, string>, name: string): string => {
    const v = f[name];
    if (v === undefined) throw new HttpError(400, `Missing field: ${name}`);
    return v;
  };
  const project = (f: Record<string, string>): SiteProject => {
    const p = state.projects[need(f, 'project_uuid')];
    if (!p) throw new HttpError(404, 'Project matching query does not exist.');
    return p;
  };
  const sheet = (f: Record<string, string>): SiteSheet => {
    const s = state.sheets[project(f).project_uuid];
    if (!s) throw new HttpError(404, 'Investigation matching query does not exist.');
    return s;
  };
  /** Categories above a project, nearest first (a cycle, which a real site refuses, ends the walk). */
  const ancestors = (projectUuid: string): string[] => {
    const out: string[] = [];
    for (let p = state.projects[projectUuid]?.parent_uuid; p && state.projects[p] && !out.includes(p); p = state.projects[p].parent_uuid) out.push(p);
    return out;
  };
  const makeRole = (projectUuid: string, userUuid: string, rolePk: number): SiteRole => {
    const roleName = SITE_ROLES[rolePk];
    if (roleName === undefined) throw new HttpError(404, 'Role matching query does not exist.');
    const key = roleKey(projectUuid, userUuid);
    const existing = state.roles[key];
    const others = Object.values(state.roles).filter((r) => r.project_uuid === projectUuid && r.user_uuid !== userUuid);
    const owner = others.find((r) => r.role_pk === OWNER_PK);
    if (rolePk === OWNER_PK && owner) {
      throw new HttpError(500, `ValidationError: User ${state.users[owner.user_uuid]?.username ?? owner.user_uuid} already set as owner of ${projectUuid}`);
    }
    if (rolePk === DELEGATE_PK && !existing) {
      const categoryOwners = new Set(
        ancestors(projectUuid).flatMap((a) => Object.values(state.roles).filter((r) => r.project_uuid === a && r.role_pk === OWNER_PK).map((r) => r.user_uuid)),
      );
      const delegates = others.filter((r) => r.role_pk === DELEGATE_PK && !categoryOwners.has(r.user_uuid));
      if (delegates.length >= DELEGATE_LIMIT) {
        throw new HttpError(500, `ValidationError: The limit (${DELEGATE_LIMIT}) of delegates for this project has already been reached.`);
      }
    }
    const role: SiteRole = {
      // derived from project and user, so a role deleted and set again by a rollback compares equal
      // (a real site gives the new assignment a new uuid: the protocol cannot restore it)
      assignment_uuid: existing?.assignment_uuid ?? `assignment-${projectUuid}-${userUuid}`,
      project_uuid: projectUuid,
      user_uuid: userUuid,
      role_pk: rolePk,
      role_name: roleName,
    };
    state.roles[key] = role;
    return role;
  };

  const handlers: Record<string, (f: Record<string, string>) => string | object> = {
    'project/taskflow/get': (f) => {
      const p = project(f);
      const { type: _type, ...fields } = p;
      return opts.richProjectGet ? fields : { project_uuid: p.project_uuid, title: p.title, description: p.description };
    },
    'project/taskflow/update': (f) => {
      const p = project(f);
      const parent = f.parent_uuid ? f.parent_uuid : '';
      if (parent !== '' && !state.projects[parent]) throw new HttpError(404, 'Project matching query does not exist.');
      const next: SiteProject = {
        ...p,
        parent_uuid: parent,
        title: key(f, 'title'),
        description: f.description || '',
        readme: key(f, 'readme'),
        public_guest_access: f.public_guest_access ? djangoBool('public_guest_access', f.public_guest_access) : false,
      };
      if (next.parent_uuid === p.project_uuid) throw new HttpError(500, 'ValidationError: Project can not be set as its own parent');
      if (parent !== '' && state.projects[parent].type !== 'CATEGORY') {
        throw new HttpError(500, 'ValidationError: Subprojects are only allowed within categories');
      }
      if (parent !== '' && state.projects[parent].title === next.title) {
        throw new HttpError(500, 'ValidationError: Project and parent titles can not be equal');
      }
      // NULL parents never clash in PostgreSQL's unique index, so top-level titles may repeat
      const sibling = Object.values(state.projects).find((o) => o.project_uuid !== p.project_uuid && parent !== '' && o.parent_uuid === parent && o.title === next.title);
      if (sibling) {
        throw new HttpError(500, 'IntegrityError: duplicate key value violates unique constraint "projectroles_project_title_parent_id_key"');
      }
      Object.assign(p, next);
      return 'ok';
    },
    'project/taskflow/role/get': (f) => {
      const p = project(f);
      const r = state.roles[roleKey(p.project_uuid, need(f, 'user_uuid'))];
      if (!r) throw new HttpError(404, 'RoleAssignment matching query does not exist.');
      return { ...r };
    },
    'project/taskflow/role/set': (f) => {
      const p = project(f);
      const u = state.users[need(f, 'user_uuid')];
      if (!u) throw new HttpError(404, 'User matching query does not exist.');
      const pk = Number(need(f, 'role_pk'));
      if (!Number.isInteger(pk)) throw new HttpError(400, 'Invalid role_pk');
      makeRole(p.project_uuid, u.user_uuid, pk);
      return 'ok';
    },
    'project/taskflow/role/delete': (f) => {
      const p = project(f);
      const key = roleKey(p.project_uuid, need(f, 'user_uuid'));
      if (!state.roles[key]) throw new HttpError(404, 'RoleAssignment matching query does not exist.');
      delete state.roles[key];
      return 'ok';
    },
    'project/taskflow/settings/get': (f) => {
      const p = project(f);
      const out: Record<string, Json> = {};
      // As SODAR Core 0.10.12 (views_taskflow.py TaskflowProjectSettingsGetAPIView, app_settings.py
      // get_all_settings): every setting keyed `settings.<app>.<name>`, a dict JSON-encoded, a list not.
      for (const [k, v] of Object.entries(state.settings[p.project_uuid] ?? {})) {
        out[`settings.${k}`] = v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v;
      }
      return { project_uuid: p.project_uuid, settings: out };
    },
    'project/taskflow/settings/set': (f) => {
      const p = project(f);
      let incoming: unknown;
      try {
        incoming = JSON.parse(need(f, 'settings'));
      } catch {
        throw new HttpError(400, 'settings is not valid JSON');
      }
      if (incoming === null || typeof incoming !== 'object' || Array.isArray(incoming)) {
        throw new HttpError(400, 'settings must be a JSON object');
      }
      const current = state.settings[p.project_uuid] ?? {};
      const next = { ...current };
      for (const [key, value] of Object.entries(incoming as Record<string, Json>)) {
        if (!key.startsWith('settings.')) throw new HttpError(400, `Invalid setting name: ${key}`);
        const name = key.slice('settings.'.length);
        if (!(name in current)) throw new HttpError(400, `Unknown setting: ${name}`);
        const old = current[name];
        // JSON settings arrive either as values or as the JSON strings settings/get hands out.
        if (old !== null && typeof old === 'object' && typeof value === 'string') {
          try {
            next[name] = JSON.parse(value) as Json;
          } catch {
            throw new HttpError(400, `Setting ${name} needs JSON`);
          }
        } else next[name] = value;
      }
      state.settings[p.project_uuid] = next;
      return 'ok';
    },
    'timeline/taskflow/status/set': (f) => {
      const e = state.timeline[need(f, 'event_uuid')];
      if (!e) throw new HttpError(404, 'Timeline event not found');
      const desc = key(f, 'status_desc');
      const status = need(f, 'status_type');
      if (!(TIMELINE_STATUSES as readonly string[]).includes(status)) throw new HttpError(400, `Invalid status type: "${status}"`);
      let extra: Json = {};
      if (f.extra_data !== undefined && f.extra_data !== '') {
        try {
          extra = JSON.parse(f.extra_data) as Json;
        } catch {
          throw new HttpError(400, 'extra_data is not valid JSON');
        }
      }
      e.status_history.push({ status_type: status, status_desc: desc, extra_data: extra });
      return 'ok';
    },
    'landingzones/taskflow/status/set': (f) => {
      const z = state.zones[need(f, 'zone_uuid')];
      if (!z) throw new HttpError(404, 'LandingZone matching query does not exist.');
      const statusInfo = key(f, 'status_info');
      const status = need(f, 'status');
      if (!(ZONE_STATUSES as readonly string[]).includes(status)) {
        throw new HttpError(400, `Invalid status: "${status}"`);
      }
      if (f.file_count !== undefined) pyInt('file_count', f.file_count);
      if (f.validate_only !== undefined) pyInt('validate_only', f.validate_only);
      // A finished zone keeps its final status whatever arrives later (SODAR issue lesson).
      if ((FINISHED_ZONE_STATUSES as readonly string[]).includes(z.status)) return 'ok';
      z.status = status;
      z.status_info = statusInfo.slice(0, STATUS_INFO_MAX);
      return 'ok';
    },
    'samplesheets/taskflow/dirs/get': (f) => ({ dir_status: sheet(f).dir_status }),
    'samplesheets/taskflow/dirs/set': (f) => {
      const s = sheet(f);
      s.dir_status = djangoBool('dir_status', key(f, 'dir_status'));
      return 'ok';
    },
    'samplesheets/taskflow/delete': (f) => {
      const s = sheet(f);
      delete state.sheets[s.project_uuid];
      return 'ok';
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const endpoint = (req.url ?? '/').split('?')[0].replace(/^\/+|\/+$/g, '');
    let status = 200;
    let body: string;
    let fields: Record<string, string> = {};
    try {
      const handler = handlers[endpoint];
      if (!handler) throw new HttpError(404, 'Not found');
      if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed');
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const raw = await readBody(req);
      if (type !== 'application/x-www-form-urlencoded') {
        throw new HttpError(415, `Unsupported media type "${type}": form-encoded bodies only`);
      }
      const form = new URLSearchParams(raw);
      for (const [k, v] of form) fields[k] = v;
      if (fields.sodar_secret !== opts.secret) throw new HttpError(403, 'Not authorized');
      const { sodar_secret: _secret, ...rest } = fields;
      fields = rest;
      const injected = failures.get(endpoint);
      if (injected) {
        if (--injected.count <= 0) failures.delete(endpoint);
        throw new HttpError(injected.status, 'Injected failure');
      }
      const out = handler(fields);
      body = typeof out === 'string' ? out : JSON.stringify(out);
    } catch (err) {
      status = err instanceof HttpError ? err.status : 500;
      body = err instanceof Error ? err.message : String(err);
    }
    const { sodar_secret: _s, ...logged } = fields;
    calls.push({ endpoint, fields: logged, status });
    res.writeHead(status, {
      'content-type': body.startsWith('{') ? 'application/json' : 'text/plain; charset=utf-8',
    });
    res.end(body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    state: () => structuredClone(state),
    seedProject(p) {
      const full: SiteProject = {
        type: 'PROJECT',
        title: 'Project',
        description: '',
        parent_uuid: '',
        readme: '',
        public_guest_access: false,
        ...p,
      };
      state.projects[full.project_uuid] = full;
      state.settings[full.project_uuid] ??= structuredClone(DEFAULT_SETTINGS) as Record<string, Json>;
      return { ...full };
    },
    seedUser(u) {
      state.users[u.user_uuid] = { ...u };
      return { ...u };
    },
    seedRole(projectUuid, userUuid, rolePk) {
      return { ...makeRole(projectUuid, userUuid, rolePk) };
    },
    seedZone(z) {
      const full: SiteZone = { status: 'ACTIVE', status_info: '', ...z };
      state.zones[full.zone_uuid] = full;
      return { ...full };
    },
    seedTimelineEvent(e) {
      const full: SiteTimelineEvent = { event_uuid: e.event_uuid, project_uuid: e.project_uuid ?? '', status_history: [] };
      state.timeline[full.event_uuid] = full;
      return structuredClone(full);
    },
    seedSheet(s) {
      const full: SiteSheet = { project_uuid: s.project_uuid, dir_status: s.dir_status ?? false };
      state.sheets[full.project_uuid] = full;
      return { ...full };
    },
    failNext(endpoint, status, count = 1) {
      failures.set(endpoint.replace(/^\/+|\/+$/g, ''), { status, count });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
