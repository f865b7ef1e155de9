/**
 * What to answer to the requests Fastify refuses before any route or hook of
 * ours sees them (its `frameworkErrors`): a URL whose percent-escapes do not
 * decode, a route parameter longer than Fastify allows. Left to Fastify, they
 * get its own JSON, in neither server's error format; the service sends this
 * answer as plain text, the site as its `{"detail": ...}`.
 *
 * @module
 */
import type { FastifyError } from 'fastify';

/** Status and message for an error Fastify passes to `frameworkErrors`. */
export function frameworkErrorAnswer(err: FastifyError): { status: number; message: string } {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        message: `Invalid URL: ${err.message} (a "%" must begin an escape of two hex digits, and the escaped bytes must be UTF-8)`,
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, message: `URL too long: ${err.message}` };
  }
  return { status: err.statusCode ?? 500, message: `Request refused: ${err.message}` };
}
