/**
 * Plain-text answers for requests that never reach a route handler: bodies
 * that are not JSON, not UTF-8, too large, nested too deeply, of the wrong
 * type; and for the typed refusals routes throw (a query parameter given
 * twice). Fastify's own errors are turned into short messages saying what to
 * send instead.
 *
 * @module
 */
import type { FastifyError } from 'fastify';
import { InvalidUtf8BodyError, JsonTooDeepError, RefusedJsonKeyError } from '../json-body.js';
import { errorText } from './messages.js';
import { RepeatedQueryParamError } from './runs-routes.js';

/** Status and plain-text body for an error raised while reading a request. */
export function requestErrorAnswer(err: FastifyError, bodyLimit: number): { status: number; body: string } {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: `Request body too large: the limit is ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: 'Unsupported content type: send application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: 'Request body is empty: send a JSON object' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: `Malformed JSON body: ${errorText(err)}` };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: 'Request body length does not match its Content-Length' };
  }
  if (err instanceof JsonTooDeepError) return { status: 400, body: `Request body refused: ${err.message}` };
  if (err instanceof InvalidUtf8BodyError || err instanceof RefusedJsonKeyError || err instanceof RepeatedQueryParamError) {
    return { status: 400, body: err.message };
  }
  if (err instanceof SyntaxError) return { status: 400, body: `Malformed JSON body: ${err.message}` };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, body: `Bad request: ${errorText(err)}` };
  return { status: 500, body: `Internal error: ${errorText(err)}` };
}
