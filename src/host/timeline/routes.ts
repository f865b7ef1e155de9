/**
 * timeline API: a project's events with their status history.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { SiteContext } from '../context.js';
import { listEvents } from '../repo.js';
import { NEED, projectFor } from '../api/access.js';
import { requireUser } from '../api/request.js';
import { eventJson } from '../api/serialize.js';

/** Registers `timeline/api/list/<project>`. */
export function timelineRoutes(app: FastifyInstance, ctx: SiteContext): void {
  app.get<{ Params: { project: string } }>('/timeline/api/list/:project', async (req) => {
    const user = await requireUser(ctx, req);
    const project = await projectFor(ctx.db, user, req.params.project, NEED.view);
    return Promise.all((await listEvents(ctx.db, project.uuid)).map((e) => eventJson(ctx.db, e)));
  });
}
