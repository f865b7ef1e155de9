/**
 * The operator dashboard (superusers): placeholder registered here so the
 * page set is complete; filled by the dashboard commit.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { SiteContext } from '../context.js';
import type { Pages } from './index.js';

/** Registers the dashboard pages. */
export function opsRoutes(_app: FastifyInstance, _ctx: SiteContext, _pages: Pages): void {}
