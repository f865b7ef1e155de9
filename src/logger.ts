/**
 * The structured log (pino) of the service, the iRODS protocol server and
 * the site, and the one list of what never reaches it: the shared secret,
 * passwords, API tokens, session cookies and the headers carrying them.
 * The programs log chosen fields only; these rules catch what slips in
 * anyway (an error carrying a request, a client that puts its token into a
 * URL).
 *
 * @module
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';
import { SECRET_HEADER } from './secret-match.js';

/** What a redacted value is replaced with. */
export const CENSOR = '[redacted]';

/** Names of fields holding a credential: the shared secret, sign-in passwords, API tokens. */
const SECRET_FIELDS = ['sodar_secret', 'secret', 'password', 'token'] as const;

/** Headers holding a credential: API tokens, session cookies, the secret of the service's own queries. */
const SECRET_HEADERS: readonly string[] = ['authorization', 'cookie', 'set-cookie', SECRET_HEADER];

/** The objects of a line that may hold a `headers` object: a request, a response, an error from an HTTP client. */
const HEADER_HOLDERS = ['req', 'res', 'err'] as const;

/**
 * The pino paths of {@link SECRET_FIELDS} (at the top of a line and one
 * level down, as in `{ body: { password } }`) and of {@link SECRET_HEADERS}
 * (in a `headers` object at the top or in one of {@link HEADER_HOLDERS}).
 * No deeper wildcards: with them pino's redaction took about 16 µs a line
 * here, against 7 µs with these (what the service's one-level wildcards
 * always cost), and the programs log chosen, flat fields.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, ...HEADER_HOLDERS.map((o) => `${o}.headers["${h}"]`)]),
];

/**
 * Whether a query parameter named `name` carries a credential: a secret
 * header's name, or a name containing a secret field's (`access_token`,
 * `new_password` too). Case does not matter.
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_HEADERS.includes(n) || SECRET_FIELDS.some((f) => n.includes(f));
}

/** `name` decoded as a query parameter's name; the raw text when it is no valid escape. */
function paramName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/**
 * `url` (a request target: path and query) with the value of each query
 * parameter that {@link isSecretName} names replaced by {@link CENSOR}; the
 * path and the other parameters stay as sent, so the line still says what
 * was asked for.
 */
export function redactRequestUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return isSecretName(paramName(name)) ? `${name}=${CENSOR}` : pair;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

/** The fields of a request that Fastify logs (`req`), as Fastify's own serializer has them. */
interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * Serializes a Fastify request as Fastify does (method, target, host, peer),
 * with {@link redactRequestUrl} applied to the target: a path-based redaction never
 * looks inside that string.
 */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return { method: req.method, url: redactRequestUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/**
 * A logger at `config.logLevel`, writing to `destination` (stdout by
 * default), its lines named `name`, with {@link REDACTED_PATHS} redacted
 * and requests serialized by {@link serializeRequest}. Given to Fastify as
 * its `loggerInstance`, it keeps those rules for Fastify's own lines.
 */
export function createLogger(config: Config, destination?: DestinationStream, name = 'taskflow'): Logger {
  const options = {
    level: config.logLevel,
    base: { name },
    redact: { paths: [...REDACTED_PATHS], censor: CENSOR },
    serializers: { req: serializeRequest },
  };
  return destination ? pino(options, destination) : pino(options);
}
