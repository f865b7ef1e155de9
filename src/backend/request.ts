/**
 * Finding `sodar_url` in a host app's incoming request, as SODAR Core does
 * for test servers: the POST form first, then the query string, then a JSON
 * body.
 *
 * @module
 */

/**
 * The parts of an incoming HTTP request the backend reads. Fastify and
 * Express requests fit as they are (parsed `body` and `query`); a plain
 * `node:http` request fits through `url` (query string) and a raw `body`
 * string the caller read.
 */
export interface RequestLike {
  /** Parsed body (form fields or JSON object), a raw form or JSON string, or URLSearchParams. */
  body?: unknown;
  /** Parsed query parameters, a raw query string, or URLSearchParams. */
  query?: unknown;
  /** Request target (`/path?query`); read for the query when `query` is absent. */
  url?: string;
  /** Request headers; `content-type` tells a parsed JSON body from a parsed form. */
  headers?: Record<string, string | string[] | undefined>;
}

const FIELD = 'sodar_url';

/** A usable value: a non-empty string; repeated fields count by their last value, as in Django. */
function pick(value: unknown): string | undefined {
  const v = Array.isArray(value) ? (value as unknown[])[value.length - 1] : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function fromParams(params: URLSearchParams): string | undefined {
  return pick(params.getAll(FIELD));
}

function fromObject(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (value instanceof URLSearchParams) return fromParams(value);
  return Object.prototype.hasOwnProperty.call(value, FIELD) ? pick((value as Record<string, unknown>)[FIELD]) : undefined;
}

function fromQueryString(text: string): string | undefined {
  return fromParams(new URLSearchParams(text.startsWith('?') ? text.slice(1) : text));
}

function fromJsonText(text: string): string | undefined {
  try {
    return fromObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function contentType(req: RequestLike): string {
  const h = req.headers?.['content-type'];
  return (Array.isArray(h) ? h[0] : h ?? '').toLowerCase();
}

function looksLikeJson(body: string): boolean {
  return body.trimStart().startsWith('{');
}

/**
 * The `sodar_url` parameter of `req`: from the POST form, else the query
 * string, else a JSON body; `undefined` when absent or empty.
 */
export function sodarUrlFromRequest(req: RequestLike | null | undefined): string | undefined {
  if (!req) return undefined;
  const { body } = req;
  const jsonBody =
    typeof body === 'string' ? looksLikeJson(body) : contentType(req).includes('json') && !(body instanceof URLSearchParams);

  const form = jsonBody ? undefined : typeof body === 'string' ? fromQueryString(body) : fromObject(body);
  if (form !== undefined) return form;

  const query =
    req.query !== undefined && req.query !== null
      ? typeof req.query === 'string'
        ? fromQueryString(req.query)
        : fromObject(req.query)
      : req.url !== undefined && req.url.includes('?')
        ? fromQueryString(req.url.slice(req.url.indexOf('?') + 1))
        : undefined;
  if (query !== undefined) return query;

  if (!jsonBody) return undefined;
  return typeof body === 'string' ? fromJsonText(body) : fromObject(body);
}
