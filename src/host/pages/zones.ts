/**
 * Landing zone pages: a project's zones (all for owners and delegates, their
 * own for contributors, none for guests: access.ts's `zoneScope`), one
 * zone, its status as a fragment htmx polls while the zone is busy, and the
 * create, validate, move and delete forms, through the REST API's functions.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { NEED, projectFor, zoneOwnerMayReach, zoneScope } from '../api/access.js';
import { landingZonePath } from '../../flows/layout.js';
import { ZONE_OPS, createZone, operateZone, zoneFor, type ZoneOpName } from '../zones/routes.js';
import { ZONE_BUSY, ZONE_OPERABLE, type ZoneStatus } from '../constants.js';
import type { SiteContext } from '../context.js';
import { notFound } from '../errors.js';
import { getAssay, getInvestigation, getUser, listAssays, listStudies, type User } from '../repo.js';
import type { PageView, Pages } from './index.js';
import { pageNumber, zonePage } from './queries.js';

type Params = Record<string, string>;

/** Milliseconds between two looks at a busy zone (the issue asks for at most 2 s behind). */
export const ZONE_POLL_MS = 1000;

const busy = (status: ZoneStatus): boolean => ZONE_BUSY.includes(status);
const operable = (status: ZoneStatus): boolean => ZONE_OPERABLE.includes(status);

/** Registers the zone pages. */
export function zonePages(app: FastifyInstance, ctx: SiteContext, pages: Pages): void {
  const { db } = ctx;
  const view = { busy, operable, pollSeconds: ZONE_POLL_MS / 1000 };

  /** A project's zone list; `at` is its page asked for (1 when shown again under a refused form). */
  const zonesView = async (user: User, uuid: string, at = 1): Promise<PageView> => {
    const project = await projectFor(db, user, uuid, NEED.view);
    const scope = await zoneScope(db, user, project);
    const page = await zonePage(db, project.uuid, user, scope, at);
    const reach = new Map<string, boolean>();
    for (const uuid of new Set(page.rows.map((z) => z.user_uuid))) reach.set(uuid, await zoneOwnerMayReach(db, await getUser(db, uuid), project));
    const zones = { ...page, rows: page.rows.map((z) => ({ ...z, ownerMayReach: reach.get(z.user_uuid) })) };
    const inv = await getInvestigation(db, project.uuid);
    const assays = [];
    if (inv?.irods_status === true) {
      for (const s of await listStudies(db, inv.uuid)) for (const a of await listAssays(db, s.uuid)) assays.push({ ...a, studyTitle: s.title });
    }
    const anyBusy = zones.rows.some((z) => busy(z.status));
    return { name: 'zones.njk', data: { ...view, title: `Landing zones of ${project.title}`, project, scope, zones, assays, inv, refresh: anyBusy } };
  };

  app.get<{ Params: Params; Querystring: Record<string, string> }>('/landingzones/:project', async (req, reply) => {
    const { name, data } = await zonesView(await pages.user(req), req.params.project, pageNumber(req.query.page));
    return pages.show(req, reply, name, data);
  });

  app.post<{ Params: Params }>('/landingzones/:project/create', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    return pages.form(req, reply, 'zone-create', () => zonesView(user, req.params.project), async () => {
      const zone = await createZone(ctx, user, req.params.project, () => body, false);
      return pages.done(req, reply, `/landingzones/zone/${zone.uuid}`, `Creating landing zone "${zone.title}".`);
    });
  });

  const zoneView = async (user: Parameters<typeof zoneFor>[1], uuid: string): Promise<Record<string, unknown>> => {
    const { zone, project } = await zoneFor(ctx, user, uuid);
    const owner = await getUser(db, zone.user_uuid);
    const assay = await getAssay(db, zone.assay_uuid);
    const path =
      owner && assay
        ? landingZonePath({ zone: ctx.config.irodsZone, rootPath: ctx.config.irodsRootPath }, zone.project_uuid, {
            userName: owner.username,
            assayPath: assay.path,
            zoneTitle: zone.title,
            zoneConfig: zone.configuration,
          })
        : '';
    return { ...view, zone, project, owner, assay, path, ownerMayReach: await zoneOwnerMayReach(db, owner, project) };
  };

  app.get<{ Params: Params }>('/landingzones/zone/:zone', async (req, reply) => {
    const user = await pages.user(req);
    const data = await zoneView(user, req.params.zone);
    const zone = data.zone as { status: ZoneStatus; title: string };
    return pages.show(req, reply, 'zone.njk', { ...data, title: `Landing zone ${zone.title}`, refresh: busy(zone.status) });
  });

  // The fragment htmx swaps in: it carries the polling attributes only while the zone is busy, so polling stops by itself.
  app.get<{ Params: Params }>('/landingzones/zone/:zone/status', async (req, reply) => {
    const user = await pages.user(req);
    return pages.show(req, reply, 'zone-status.njk', await zoneView(user, req.params.zone));
  });

  app.post<{ Params: Params }>('/landingzones/zone/:zone/:op', { preHandler: app.csrfProtection }, async (req, reply) => {
    const user = await pages.user(req);
    const name = req.params.op as ZoneOpName;
    if (!Object.hasOwn(ZONE_OPS, name)) throw notFound('Landing zone operation');
    const result = await operateZone(ctx, user, req.params.zone, ZONE_OPS[name], false);
    return pages.done(req, reply, `/landingzones/zone/${req.params.zone}`, `${result.detail}.`);
  });
}
