/**
 * The callback endpoints the service calls (protocol section 3). Bodies may be
 * form-encoded (what the service and a real SODAR send) or JSON; the secret
 * travels in the `sodar_secret` field. Served only while the taskflow backend
 * plugin is enabled (else 404, as if the endpoints did not exist).
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FORM_BODY_LIMIT } from '../config.js';
import { JsonTooDeepError, parseJsonBody, RefusedJsonKeyError } from '../json-body.js';
import { secretMatches } from '../secret-match.js';
import { roleByPk, TIMELINE_STATUSES, ZONE_FINISHED, ZONE_STATUS_INFO_MAX, ZONE_STATUSES, type TimelineStatus, type ZoneStatus } from './constants.js';
import type { SiteContext } from './context.js';
import { HttpError } from './errors.js';
import { bodyOf } from './api/request.js';
import { jsonSettingValue, parseDjangoBool, SETTINGS_PREFIX } from '../site/protocol.js';
import {
  addEventStatus,
  assertParentFits,
  assertRoleFits,
  assertTitleFree,
  deleteRole,
  deleteSheetRows,
  getAssignmentFor,
  getEvent,
  getInvestigation,
  getProject,
  getSettings,
  getUser,
  getZone,
  setDirStatus,
  setRole,
  setSettings,
  settleUndoByStatus,
  updateProject,
  type Project,
} from './repo.js';

type Fields = Record<string, unknown>;
type Handler = (f: Fields) => Promise<unknown>;

/** A plain-text answer with a status. */
class Answer extends HttpError {}

const field = (f: Fields, key: string): string => {
  const v = f[key];
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
};

/** A JSON value that may arrive as a JSON string (form) or as a value (JSON body). */
function jsonField(f: Fields, key: string): unknown {
  const v = f[key];
  if (typeof v !== 'string') return v;
  if (v === '') return undefined;
  try {
    return parseJsonBody(v);
  } catch (err) {
    if (err instanceof JsonTooDeepError) throw new Answer(400, `Field "${key}": ${err.message}`);
    if (err instanceof RefusedJsonKeyError) throw new Answer(400, `Field "${key}": key "${err.key}" is not allowed`);
    throw new Answer(400, `Field "${key}" is not valid JSON`);
  }
}

/**
 * A boolean field as a real SODAR reads it (Django's `t`, `True`, `1`, `f`,
 * `False`, `0`), or a JSON boolean; `true` / `false` too, which older
 * versions of our service sent. Anything else is refused (400), where SODAR
 * would fail with a 500.
 */
function boolField(f: Fields, key: string): boolean {
  const v = f[key];
  if (typeof v === 'boolean') return v;
  const s = field(f, key);
  const b = parseDjangoBool(s) ?? (s === 'true' ? true : s === 'false' ? false : undefined);
  if (b === undefined) throw new Answer(400, `Field "${key}" must be True or False (or t, 1, f, 0), not "${s.slice(0, 40)}"`);
  return b;
}

/** Registers every callback endpoint. */
export function callbackRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;

  const project = async (f: Fields): Promise<Project> => {
    const p = await getProject(db, field(f, 'project_uuid'));
    if (!p) throw new Answer(404, 'Project not found');
    return p;
  };

  const route = (path: string, handler: Handler): void => {
    app.post(`/${path}`, { bodyLimit: FORM_BODY_LIMIT }, async (req: FastifyRequest, reply: FastifyReply) => {
      if (!(await ctx.taskflow())) return reply.code(404).type('text/plain').send('Not found');
      try {
        const f = bodyOf(req);
        // the secret as sent, never coerced: a JSON number or list is no secret (the service's rule)
        if (!secretMatches(f.sodar_secret, ctx.config.sodarSecret)) return reply.code(403).type('text/plain').send('Not authorized');
        const out = await handler(f);
        if (typeof out === 'string') return reply.code(200).type('text/plain').send(out);
        return reply.code(200).send(out);
      } catch (err) {
        if (err instanceof HttpError) return reply.code(err.status).type('text/plain').send(err.detail);
        throw err;
      }
    });
  };

  route('project/taskflow/get', async (f) => {
    const p = await project(f);
    return {
      project_uuid: p.uuid,
      title: p.title,
      description: p.description,
      parent_uuid: p.parent_uuid,
      readme: p.readme,
      public_guest_access: p.public_guest_access,
    };
  });

  route('project/taskflow/update', async (f) => {
    const p = await project(f);
    const parent = field(f, 'parent_uuid');
    const has = (k: string): boolean => f[k] !== undefined;
    const parentUuid = !has('parent_uuid') ? p.parent_uuid : ['', 'None', '0', 'null'].includes(parent) ? null : parent;
    const title = has('title') && field(f, 'title') !== '' ? field(f, 'title') : p.title;
    if (parentUuid !== null) {
      // as SODAR Core v0.10.12 TaskflowProjectUpdateAPIView: an unknown parent is a 404
      const parentRow = await getProject(db, parentUuid);
      if (!parentRow) throw new Answer(404, `Parent project ${parentUuid} not found`);
      await assertParentFits(db, p, parentRow);
    }
    await assertTitleFree(db, title, parentUuid, p.uuid);
    await updateProject(db, {
      ...p,
      title,
      description: has('description') ? field(f, 'description') : p.description,
      readme: has('readme') ? field(f, 'readme') : p.readme,
      // empty is false, as in SODAR's `request.data.get('public_guest_access') or False`
      public_guest_access: !has('public_guest_access') ? p.public_guest_access : field(f, 'public_guest_access') !== '' && boolField(f, 'public_guest_access'),
      parent_uuid: parentUuid,
    });
    return 'ok';
  });

  const user = async (f: Fields) => {
    const u = await getUser(db, field(f, 'user_uuid'));
    if (!u) throw new Answer(404, 'User not found');
    return u;
  };

  route('project/taskflow/role/get', async (f) => {
    const p = await project(f);
    const u = await user(f);
    const a = await getAssignmentFor(db, p.uuid, u.uuid);
    if (!a) throw new Answer(404, 'Role assignment not found');
    return { assignment_uuid: a.uuid, project_uuid: p.uuid, user_uuid: u.uuid, role_pk: a.role_pk, role_name: roleByPk(a.role_pk)?.name ?? null };
  });

  route('project/taskflow/role/set', async (f) => {
    const p = await project(f);
    const u = await user(f);
    const pk = Number(field(f, 'role_pk'));
    if (!roleByPk(pk)) throw new Answer(404, `Role ${field(f, 'role_pk')} not found`);
    await assertRoleFits(db, p, u.uuid, pk);
    await setRole(db, p.uuid, u.uuid, pk);
    return 'ok';
  });

  route('project/taskflow/role/delete', async (f) => {
    const p = await project(f);
    const u = await user(f);
    if ((await deleteRole(db, p.uuid, u.uuid)) === 0) throw new Answer(404, 'Role assignment not found');
    return 'ok';
  });

  route('project/taskflow/settings/get', async (f) => {
    const p = await project(f);
    const settings = await getSettings(db, p.uuid);
    // As SODAR Core 0.10.12 (TaskflowProjectSettingsGetAPIView): keyed `settings.<app>.<name>`, a dict JSON-encoded.
    const out = Object.fromEntries(
      Object.entries(settings).map(([k, v]) => [`${SETTINGS_PREFIX}${k}`, v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v]),
    );
    return { project_uuid: p.uuid, settings: out };
  });

  route('project/taskflow/settings/set', async (f) => {
    const p = await project(f);
    const raw = jsonField(f, 'settings') ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Answer(400, 'Field "settings" must be a JSON object');
    const current = await getSettings(db, p.uuid);
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const key = k.startsWith(SETTINGS_PREFIX) ? k.slice(SETTINGS_PREFIX.length) : k;
      if (!/^[^.]+\..+$/.test(key)) throw new Answer(400, `Setting "${k}" is not "settings.<app>.<name>"`);
      // a JSON setting (one holding a dict or list) may come back as the JSON string settings/get handed out
      settings[key] = jsonSettingValue(v, current[key]);
    }
    await setSettings(db, p.uuid, settings);
    return 'ok';
  });

  route('timeline/taskflow/status/set', async (f) => {
    const event = await getEvent(db, field(f, 'event_uuid'));
    if (!event) throw new Answer(404, 'Timeline event not found');
    const status = field(f, 'status_type');
    if (!TIMELINE_STATUSES.includes(status as TimelineStatus)) throw new Answer(400, `Invalid status type "${status}"`);
    const extra = jsonField(f, 'extra_data') ?? {};
    // The service reports here how a flow ended that no answer told the site of (its recovery of an
    // interrupted run): the site's change made before the flow stays or goes with the status, at once.
    await db.transaction(async (tx) => {
      await addEventStatus(tx, event.uuid, status as TimelineStatus, field(f, 'status_desc'), extra);
      await settleUndoByStatus(tx, event.uuid, status as TimelineStatus);
    });
    return 'ok';
  });

  route('landingzones/taskflow/status/set', async (f) => {
    const zone = await getZone(db, field(f, 'zone_uuid'));
    if (!zone) throw new Answer(404, 'Landing zone not found');
    const status = field(f, 'status');
    if (!ZONE_STATUSES.includes(status as ZoneStatus)) throw new Answer(400, `Invalid zone status "${status}"`);
    // A finished zone keeps its status whatever arrives later (protocol section 3, "Lessons").
    if (ZONE_FINISHED.includes(zone.status)) return 'ok';
    await db.exec('UPDATE landing_zones SET status = ?, status_info = ?, modified = ? WHERE uuid = ?', [
      status,
      field(f, 'status_info').slice(0, ZONE_STATUS_INFO_MAX),
      new Date().toISOString(),
      zone.uuid,
    ]);
    return 'ok';
  });

  route('samplesheets/taskflow/dirs/get', async (f) => {
    const p = await project(f);
    const inv = await getInvestigation(db, p.uuid);
    return { dir_status: inv?.irods_status === true };
  });

  route('samplesheets/taskflow/dirs/set', async (f) => {
    const p = await project(f);
    if ((await setDirStatus(db, p.uuid, boolField(f, 'dir_status'))) === 0) throw new Answer(404, 'Sample sheet not found');
    return 'ok';
  });

  route('samplesheets/taskflow/delete', async (f) => {
    const p = await project(f);
    const removed = await db.transaction(async (tx) => {
      await tx.exec('DELETE FROM landing_zones WHERE project_uuid = ?', [p.uuid]);
      return deleteSheetRows(tx, p.uuid);
    });
    if (removed === 0) throw new Answer(404, 'Sample sheet not found');
    return 'ok';
  });
}
