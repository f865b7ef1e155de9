/**
 * JSON request bodies with bounded nesting, for the service and the site.
 *
 * `JSON.parse` itself copes with deep nesting, slowly (16 MB of `[` took
 * 5 s of CPU), but whatever walks the result afterwards recursively (Fastify's
 * prototype-poisoning check, `JSON.stringify`, our field checks) overflows the
 * stack. No request of the protocol or the site's API nests more than a
 * handful of levels, so a body nested deeper than {@link MAX_JSON_DEPTH} is
 * refused by a single cheap pass over its text before anything parses it.
 *
 * A body holding a `__proto__` key, or a `constructor` key with a `prototype`
 * key inside, is refused ({@link RefusedJsonKeyError}, naming the key): code
 * that copies such an object into another could change the prototype of
 * every object. It is valid JSON, so it is not called malformed.
 *
 * Bodies are decoded as strict UTF-8: bytes that are not UTF-8 are refused
 * ({@link InvalidUtf8BodyError}), where a lenient decoder would store U+FFFD in
 * their place and the sender would never learn that what they sent was lost.
 *
 * @module
 */
import { errorCodes, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';

/**
 * Deepest nesting of arrays and objects a JSON body or JSON field may have.
 * The deepest real request (a site's sample sheet: studies → assays → fields)
 * has about six levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * A request body refused before any route sees it, answered 400 with its
 * message. Fastify's error handlers read the status from `statusCode`.
 */
export abstract class RefusedBodyError extends Error {
  readonly statusCode = 400;
  abstract readonly code: string;
}

/** A JSON text nested deeper than allowed. */
export class JsonTooDeepError extends RefusedBodyError {
  override readonly name = 'JsonTooDeepError';
  readonly code = 'TASKFLOW_JSON_TOO_DEEP';
  constructor(readonly maxDepth: number) {
    super(`JSON nested too deeply: more than ${maxDepth} levels of arrays and objects`);
  }
}

/** A request body whose bytes are not UTF-8. */
export class InvalidUtf8BodyError extends RefusedBodyError {
  override readonly name = 'InvalidUtf8BodyError';
  readonly code = 'TASKFLOW_BODY_NOT_UTF8';
  constructor() {
    super('Request body is not valid UTF-8: send text encoded as UTF-8');
  }
}

/**
 * A form body (`application/x-www-form-urlencoded`) with a percent-escape
 * that is malformed or spells bytes that are not UTF-8: answered 400, as a
 * raw body that is not UTF-8 is, instead of storing U+FFFD for what was sent.
 */
export class InvalidFormBodyError extends RefusedBodyError {
  override readonly name = 'InvalidFormBodyError';
  readonly code = 'TASKFLOW_FORM_NOT_UTF8';
  constructor() {
    super('Form body is not valid: a "%" must begin an escape of two hex digits, and the escaped bytes must be UTF-8');
  }
}

/** One name or value of a form body, decoded (`+` is a space); {@link InvalidFormBodyError} for a bad escape. */
function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new InvalidFormBodyError();
  }
}

/**
 * The fields of a form body's text, the last value of a name given twice
 * winning (as `URLSearchParams` reads them, which decodes a bad escape to
 * U+FFFD instead of refusing it: {@link InvalidFormBodyError}).
 */
export function parseFormBody(text: string): Record<string, string> {
  const pairs: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [decodeFormComponent(part), ''] : [decodeFormComponent(part.slice(0, eq)), decodeFormComponent(part.slice(eq + 1))]);
  }
  // fromEntries defines each name as an own field: a "__proto__" name is data, never the prototype
  return Object.fromEntries(pairs);
}

/** A key that a JSON body may not hold: see {@link RefusedJsonKeyError}. */
export type RefusedJsonKey = '__proto__' | 'constructor.prototype';

/**
 * A JSON body refused for a key that could change objects' prototypes when
 * copied: `__proto__`, or `constructor` holding `prototype`.
 */
export class RefusedJsonKeyError extends RefusedBodyError {
  override readonly name = 'RefusedJsonKeyError';
  readonly code = 'TASKFLOW_JSON_KEY_REFUSED';
  constructor(readonly key: RefusedJsonKey) {
    super(
      key === '__proto__'
        ? 'Request body refused: key "__proto__" is not allowed'
        : 'Request body refused: key "constructor" holding a "prototype" key is not allowed',
    );
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `body` as text, refusing bytes that are not UTF-8 with an
 * {@link InvalidUtf8BodyError}. A leading byte order mark is dropped.
 * The one decoder of request bodies for the service and the site.
 */
export function decodeUtf8Body(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new InvalidUtf8BodyError();
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether `text`, read as JSON, opens more than `maxDepth` arrays and objects
 * inside each other: one pass counting brackets outside strings, stopping at
 * the first level too deep. Malformed text is left for the parser to refuse.
 */
export function jsonNestingExceeds(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

const REFUSE_PROTOTYPE_KEYS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * The value of a JSON request body's text. Throws Fastify's own errors for
 * an empty body and for malformed JSON (so both servers answer them as
 * before), {@link JsonTooDeepError} and {@link RefusedJsonKeyError}.
 */
export function parseJsonBody(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (text.length === 0) throw new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  if (jsonNestingExceeds(text, maxDepth)) throw new JsonTooDeepError(maxDepth);
  try {
    return secureJson.parse(text, null, REFUSE_PROTOTYPE_KEYS);
  } catch {
    // secure-json-parse throws the same SyntaxError for malformed text and for either key:
    // only a refused body pays for telling them apart
    const key = refusedKeyOf(text);
    throw key ? new RefusedJsonKeyError(key) : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
  }
}

/** Which key secure-json-parse refused in `text`; undefined when the text is not JSON at all. */
function refusedKeyOf(text: string): RefusedJsonKey | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  try {
    secureJson.scan(value as object, { protoAction: 'error', constructorAction: 'ignore' });
  } catch {
    return '__proto__';
  }
  return 'constructor.prototype';
}

/**
 * Replaces `app`'s `application/json` body parser by {@link parseJsonBody}
 * over the strict UTF-8 decoding of {@link decodeUtf8Body}.
 * Call before any route is added.
 */
export function useBoundedJsonBodies(app: FastifyInstance, maxDepth: number = MAX_JSON_DEPTH): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    let value: unknown;
    try {
      value = parseJsonBody(decodeUtf8Body(body as Buffer), maxDepth);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    done(null, value);
  });
}
