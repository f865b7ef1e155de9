/**
 * Reading API requests: the token user, body fields, and the `force_fail`
 * test option.
 *
 * @module
 */
import type { FastifyRequest } from 'fastify';
import type { SiteContext } from '../context.js';
import { HttpError, badRequest } from '../errors.js';
import { userForToken, type User } from '../repo.js';

/**
 * The body as an object (form-encoded and JSON bodies both end up here); no
 * body is an empty object. Any other body (a JSON array or scalar, plain
 * text) is refused, so a client sending the wrong shape learns why instead
 * of reading "field required".
 */
export function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || (typeof b === 'string' && b === '')) return {};
  if (typeof b === 'object' && !Array.isArray(b)) return b as Record<string, unknown>;
  const got = Array.isArray(b) ? 'a JSON array' : typeof b === 'string' ? `a ${req.headers['content-type'] ?? 'text'} body` : `a JSON ${typeof b}`;
  throw badRequest(`The request body must be a JSON object or form fields, not ${got}`);
}

/** A required non-empty string field. */
export function requireString(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) throw badRequest(`Field "${key}" is required`);
  if (typeof v !== 'string') throw badRequest(`Field "${key}" must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`);
  return v;
}

/** `value` of field `key`, refused when longer than `max` characters (SODAR's column sizes). */
export function limited(key: string, value: string, max: number): string {
  if (value.length > max) throw badRequest(`Field "${key}" is longer than ${max} characters (${value.length})`);
  return value;
}

/** An optional string field. */
export function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Field "${key}" must be a string`);
  return v;
}

/** A boolean given as JSON boolean or as text (form fields, Python's True/False). */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  }
  return undefined;
}

/** An optional boolean field. */
export function optBool(body: Record<string, unknown>, key: string): boolean | undefined {
  if (body[key] === undefined || body[key] === null) return undefined;
  const b = parseBool(body[key]);
  if (b === undefined) throw badRequest(`Field "${key}" must be true or false`);
  return b;
}

const TOKEN_HINT = 'send "Authorization: token <token>" (the admin token is in <data dir>/admin-token)';

/** The authenticated user (`Authorization: token <token>`), or 401. */
export async function requireUser(ctx: SiteContext, req: FastifyRequest): Promise<User> {
  const header = req.headers.authorization ?? '';
  if (header.trim() === '') throw new HttpError(401, `Authentication credentials were not provided: ${TOKEN_HINT}`);
  const m = /^token\s+(\S+)$/i.exec(header.trim());
  if (!m) throw new HttpError(401, `Unsupported authorization header: ${TOKEN_HINT}`);
  const user = await userForToken(ctx.db, m[1]);
  if (!user) throw new HttpError(401, 'Invalid token.');
  return user;
}

/**
 * The `force_fail` option (query or body): makes the flow fail on purpose.
 * Only accepted in test mode, so a production site cannot be made to fail.
 */
export function forceFailOf(ctx: SiteContext, req: FastifyRequest): boolean {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const raw = q.force_fail ?? bodyOf(req).force_fail;
  const on = raw === undefined ? false : parseBool(raw);
  if (on === undefined) throw badRequest('force_fail must be true or false');
  if (on && !ctx.config.testMode) throw badRequest('force_fail is only accepted when TASKFLOW_TEST_MODE is on');
  return on;
}
