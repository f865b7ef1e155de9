/**
 * landingzones API: zones are created, validated, moved and deleted by async
 * flows whose outcome arrives through the zone status callback. The site sets
 * the zone's next status itself before submitting (compare-and-set), so two
 * requests can never start flows on one zone, and busy or finished zones are
 * refused before anything is submitted.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PROJECT_TYPE_PROJECT, TITLE_MAX, ZONE_BUSY, ZONE_FINISHED, ZONE_OPERABLE, type ZoneStatus } from '../constants.js';
import type { SiteContext } from '../context.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import {
  getAssay,
  getInvestigation,
  getUser,
  getZone,
  insertZone,
  listZones,
  projectOfAssay,
  setZoneStatusIf,
  type Project,
  type User,
  type Zone,
} from '../repo.js';
import { ZoneAtStart } from '../../flows/zone-status.js';
import { submitFlow, withCompensation } from '../submit.js';
import { asyncEvent, failEvent } from '../timeline.js';
import { NEED, assertZoneAccess, projectFor, zoneScope, type ZoneScope } from '../api/access.js';
import { bodyOf, forceFailOf, limited, optString, requireString, requireUser } from '../api/request.js';
import { zoneJson } from '../api/serialize.js';

type Params = Record<string, string>;

/** SODAR's zone title: local time `YYYYMMDD_HHMMSS`, then `_<suffix>` when given. */
function zoneTitle(suffix: string | undefined): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  const clean = suffix?.trim().replace(/[^A-Za-z0-9_-]+/g, '_');
  return clean ? `${stamp}_${clean}` : stamp;
}

/**
 * The zone configuration: a plugin name such as `bih_proteomics_smb` in SODAR.
 * It becomes part of the zone's collection name, so only name characters pass.
 */
function zoneConfiguration(raw: string | undefined): string {
  const value = raw?.trim() ?? '';
  if (!/^[A-Za-z0-9_-]*$/.test(value)) {
    throw badRequest(`Field "configuration" may hold letters, digits, "_" and "-" only (it becomes part of the zone's path), got "${value.slice(0, 100)}"`);
  }
  return limited('configuration', value, TITLE_MAX);
}

/** Why a zone in `status` cannot take an operation now, or undefined when it can. */
export function zoneRefusal(status: ZoneStatus): string | undefined {
  if (ZONE_FINISHED.includes(status)) return `Landing zone is finished (status ${status}) and cannot be changed`;
  if (ZONE_BUSY.includes(status)) return `Landing zone is busy (status ${status}): wait for the running operation to end`;
  if (!ZONE_OPERABLE.includes(status)) return `Landing zone status ${status} does not allow this operation`;
  return undefined;
}

/** Registers the landingzones API under `landingzones/api/`. */
export function landingZoneRoutes(app: FastifyInstance, ctx: SiteContext): void {
  const { db } = ctx;
  const base = { zone: ctx.config.irodsZone, rootPath: ctx.config.irodsRootPath };

  app.get<{ Params: Params }>('/landingzones/api/list/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const { zones } = await visibleZones(ctx, user, req.params.project);
    return Promise.all(zones.map((z) => zoneJson(db, z, base)));
  });

  app.get<{ Params: Params }>('/landingzones/api/retrieve/:zone', async (req) => {
    const user = await requireUser(ctx, req);
    return zoneJson(db, (await zoneFor(ctx, user, req.params.zone)).zone, base);
  });

  app.post<{ Params: Params }>('/landingzones/api/create/:project', async (req, reply) => {
    const user = await requireUser(ctx, req);
    const forceFail = forceFailOf(ctx, req);
    const zone = await createZone(ctx, user, req.params.project, () => bodyOf(req), forceFail);
    reply.code(201);
    return zoneJson(db, (await getZone(db, zone.uuid)) ?? zone, base);
  });

  for (const [name, op] of Object.entries(ZONE_OPS)) {
    app.post<{ Params: Params }>(`/landingzones/api/submit/${name}/:zone`, async (req) => {
      const user = await requireUser(ctx, req);
      return operateZone(ctx, user, req.params.zone, op, forceFailOf(ctx, req));
    });
  }
}

/** An operation on a landing zone: the status it enters and the flow it submits. */
export interface ZoneOp {
  next: ZoneStatus;
  info: string;
  eventName: string;
  flowName: string;
  validateOnly?: boolean;
  /** The answer's `detail`. */
  detail: string;
}

/**
 * The zone operations, by the name in their URL. The status and text a
 * zone enters are the flows' own ({@link ZoneAtStart}): the flow's reverts
 * stop at them, and the page shows what the flow will send.
 */
export const ZONE_OPS = {
  validate: {
    next: ZoneAtStart.move(true).status,
    info: ZoneAtStart.move(true).info,
    eventName: 'zone_validate',
    flowName: 'landing_zone_move',
    validateOnly: true,
    detail: 'Landing zone validation initiated',
  },
  move: {
    next: ZoneAtStart.move(false).status,
    info: ZoneAtStart.move(false).info,
    eventName: 'zone_move',
    flowName: 'landing_zone_move',
    detail: 'Landing zone moving initiated',
  },
  delete: {
    next: ZoneAtStart.delete.status,
    info: ZoneAtStart.delete.info,
    eventName: 'zone_delete',
    flowName: 'landing_zone_delete',
    detail: 'Landing zone deletion initiated',
  },
} as const satisfies Record<string, ZoneOp>;

/** The name of a zone operation. */
export type ZoneOpName = keyof typeof ZONE_OPS;

/** The zones of a project `user` may see (all, or their own), with the project. */
export async function visibleZones(ctx: SiteContext, user: User, projectUuid: string): Promise<{ project: Project; scope: ZoneScope; zones: Zone[] }> {
  const project = await projectFor(ctx.db, user, projectUuid, NEED.view);
  const scope = await zoneScope(ctx.db, user, project);
  const zones = (await listZones(ctx.db, project.uuid)).filter((z) => scope === 'all' || z.user_uuid === user.uuid);
  return { project, scope, zones };
}

/** Zone `zoneUuid` with its project, when `user` may see it; 404 or 403 otherwise. */
export async function zoneFor(ctx: SiteContext, user: User, zoneUuid: string): Promise<{ zone: Zone; project: Project }> {
  const zone = await getZone(ctx.db, zoneUuid);
  if (!zone) throw notFound('Landing zone');
  const project = await projectFor(ctx.db, user, zone.project_uuid, NEED.view);
  await assertZoneAccess(ctx.db, user, project, zone);
  return { zone, project };
}

/**
 * Starts creating a landing zone (async flow) from API fields (`assay`,
 * `title` suffix, `description`, `configuration`), as `user`; returns the
 * zone as inserted (status CREATING).
 */
export async function createZone(
  ctx: SiteContext,
  user: User,
  projectUuid: string,
  fields: () => Record<string, unknown>,
  forceFail: boolean,
): Promise<Zone> {
  const { db } = ctx;
  const project = await projectFor(db, user, projectUuid, NEED.contribute);
  if (project.type !== PROJECT_TYPE_PROJECT) throw badRequest('Landing zones belong to projects, not categories');
  const body = fields();
  const inv = await getInvestigation(db, project.uuid);
  if (!inv) throw badRequest('The project has no sample sheet');
  if (!inv.irods_status) throw badRequest('iRODS collections of the sample sheet have not been created');
  const assay = await getAssay(db, requireString(body, 'assay'));
  if (!assay || (await projectOfAssay(db, assay.uuid)) !== project.uuid) throw badRequest(`Assay ${String(body.assay)} not found in this project`);
  const configuration = zoneConfiguration(optString(body, 'configuration'));
  let title = limited('title', zoneTitle(optString(body, 'title')), TITLE_MAX);
  const taken = new Set((await listZones(db, project.uuid)).filter((z) => z.user_uuid === user.uuid && z.assay_uuid === assay.uuid).map((z) => z.title));
  for (let n = 2; taken.has(title); n++) title = `${title.replace(/-\d+$/, '')}-${n}`;
  const zone: Zone = {
    uuid: randomUUID(),
    project_uuid: project.uuid,
    user_uuid: user.uuid,
    assay_uuid: assay.uuid,
    title,
    configuration,
    description: optString(body, 'description') ?? '',
    status: 'CREATING',
    status_info: 'Creating landing zone',
    modified: new Date().toISOString(),
  };
  await withCompensation(
    db,
    async (tx) => {
      await insertZone(tx, zone);
      const event = await asyncEvent(
        ctx,
        {
          projectUuid: project.uuid,
          app: 'landingzones',
          userUuid: user.uuid,
          eventName: 'zone_create',
          description: `create landing zone "${title}"`,
          extraData: { zone_uuid: zone.uuid },
        },
        tx,
      );
      return { value: event, eventUuid: event.uuid, projectUuid: project.uuid, undo: { kind: 'zone_delete', zone_uuid: zone.uuid } };
    },
    (event) =>
      submitFlow(ctx, {
        projectUuid: project.uuid,
        flowName: 'landing_zone_create',
        flowData: {
          zone_title: zone.title,
          zone_uuid: zone.uuid,
          user_name: user.username,
          user_uuid: user.uuid,
          assay_path: assay.path,
          description: zone.description,
          zone_config: zone.configuration,
          colls: [],
        },
        requestMode: 'async',
        timelineUuid: event.uuid,
        forceFail,
      }),
    (event, err) => failEvent(ctx, event, err),
  );
  return zone;
}

/**
 * Starts operation `op` on zone `zoneUuid` (async flow), as `user`: refused
 * unless the user may act on the zone and the zone is ACTIVE or FAILED.
 */
export async function operateZone(ctx: SiteContext, user: User, zoneUuid: string, op: ZoneOp, forceFail: boolean): Promise<{ detail: string; sodar_uuid: string }> {
  const { db } = ctx;
  const { zone } = await zoneFor(ctx, user, zoneUuid);
  const refusal = zoneRefusal(zone.status);
  if (refusal) throw badRequest(refusal);
  const assay = await getAssay(db, zone.assay_uuid);
  const owner = await getUser(db, zone.user_uuid);
  if (!assay || !owner) throw new HttpError(500, `Landing zone ${zone.uuid} refers to a missing assay or user`);
  const flowData: Record<string, unknown> =
    op.flowName === 'landing_zone_delete'
      ? { zone_title: zone.title, zone_uuid: zone.uuid, assay_path: assay.path, user_name: owner.username, zone_config: zone.configuration }
      : {
          zone_title: zone.title,
          zone_uuid: zone.uuid,
          assay_path_zone: assay.path,
          assay_path_samples: assay.path,
          user_name: owner.username,
          zone_config: zone.configuration,
          validate_only: op.validateOnly === true,
        };
  await withCompensation(
    db,
    async (tx) => {
      // Compare-and-set: of two simultaneous requests, only one finds the zone operable.
      if (!(await setZoneStatusIf(tx, zone.uuid, ZONE_OPERABLE, op.next, op.info))) {
        const now = await getZone(tx, zone.uuid);
        throw badRequest(zoneRefusal(now?.status ?? zone.status) ?? 'Landing zone changed meanwhile: try again');
      }
      const event = await asyncEvent(
        ctx,
        {
          projectUuid: zone.project_uuid,
          app: 'landingzones',
          userUuid: user.uuid,
          eventName: op.eventName,
          description: `${op.eventName.replace('zone_', '')} landing zone "${zone.title}"`,
          extraData: { zone_uuid: zone.uuid },
        },
        tx,
      );
      return { value: event, eventUuid: event.uuid, projectUuid: zone.project_uuid, undo: { kind: 'zone_restore', zone } };
    },
    (event) =>
      submitFlow(ctx, {
        projectUuid: zone.project_uuid,
        flowName: op.flowName,
        flowData,
        requestMode: 'async',
        timelineUuid: event.uuid,
        forceFail,
        checkLock: op.flowName === 'landing_zone_move' && !op.validateOnly,
      }),
    (event, err) => failEvent(ctx, event, err),
  );
  return { detail: op.detail, sodar_uuid: zone.uuid };
}
