/**
 * Setting a user's sign-in password through the REST API (not in SODAR, whose
 * users come from LDAP or Django's admin): superusers only.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { setPassword } from '../auth/passwords.js';
import type { SiteContext } from '../context.js';
import { badRequest, forbidden } from '../errors.js';
import { getUser } from '../repo.js';
import { bodyOf, requireString, requireUser } from './request.js';

/** Registers `POST project/api/users/password/<user uuid>` with body `{"password": ...}`. */
export function passwordRoutes(app: FastifyInstance, ctx: SiteContext): void {
  app.post<{ Params: { user: string } }>('/project/api/users/password/:user', async (req) => {
    const user = await requireUser(ctx, req);
    if (!user.is_superuser) throw forbidden('Only superusers may set passwords');
    const target = await getUser(ctx.db, req.params.user);
    if (!target) throw badRequest(`User ${req.params.user} not found`);
    await setPassword(ctx.db, target.uuid, requireString(bodyOf(req), 'password'));
    return { detail: `Password of "${target.username}" set` };
  });
}
