/**
 * Client for the host site's callbacks (the `sodar` target, protocol section 3):
 * form-encoded POSTs to `<sodar_url>/<endpoint>` with `sodar_secret` added.
 *
 * Over `node:http`/`node:https` with kept-alive connections: every async run
 * sends at least one callback, and `fetch` cost about five times the CPU of
 * a plain request per callback (its WHATWG streams, abort signal and
 * JavaScript HTTP parser), which on the async bench was a tenth of the
 * service's time per run.
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import { boundedRequest, type BoundedAnswer, IncompleteAnswer, type ProtocolAgents, type RequestTarget, requestTarget } from '../backend/bounded-request.js';
import { BoundedCache } from '../bounded-cache.js';
import { formBool } from './protocol.js';

/** A field value; objects and arrays are sent as JSON strings, as SODAR expects. */
export type FieldValue = string | number | boolean | null | undefined | object;

/**
 * Answers of a proxy or server in front of a site that is down or
 * restarting (bad gateway, unavailable, gateway timeout). A 500 is not one:
 * SODAR's views answer it for a request they cannot take (a missing field, a
 * value Django refuses), which asking again does not change.
 */
const PASSING_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** A callback answered with a status other than 200, or could not be sent. */
export class SiteCallError extends Error {
  override readonly name = 'SiteCallError';
  /**
   * Whether the site was only out of reach for now (down, restarting, cut
   * off: see {@link PASSING_STATUSES} and `IncompleteAnswer.passing`), so the
   * same call may succeed later; false when it refused the call or the call
   * cannot be made.
   */
  readonly retryLater: boolean;

  constructor(
    readonly endpoint: string,
    /** HTTP status, or 0 when the site could not be reached. */
    readonly status: number,
    readonly body: string,
    /** With status 0: whether what kept the call from the site may pass. */
    unreachableForNow = false,
  ) {
    super(
      status === 0
        ? `Site callback ${endpoint} failed: ${body}`
        : `Site callback ${endpoint} answered ${status}: ${body.slice(0, 512)}`,
    );
    this.retryLater = status === 0 ? unreachableForNow : PASSING_STATUSES.has(status);
  }
}

/** Whether `err` is a site callback that failed only because the site was out of reach for now. */
export function siteOutOfReach(err: unknown): boolean {
  return err instanceof SiteCallError && err.retryLater;
}

/** Options of {@link SiteClient}. */
export interface SiteClientOptions {
  /** The shared secret sent as `sodar_secret`. */
  secret: string;
  /** Milliseconds a call may take. */
  timeoutMs: number;
}

/**
 * Encodes fields as `application/x-www-form-urlencoded`: nested values as JSON
 * strings, booleans as `True` / `False` (see {@link formBool}), null as empty.
 */
export function encodeForm(fields: Record<string, FieldValue>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (value === null) form.append(key, '');
    else if (typeof value === 'boolean') form.append(key, formBool(value));
    else if (typeof value === 'object') form.append(key, JSON.stringify(value));
    else form.append(key, String(value));
  }
  return form.toString();
}

/**
 * An idle kept-alive connection is closed after this long: before the
 * servers' own idle timeouts (Node's default is 5 s), so a callback rarely
 * meets a connection the site has just closed.
 */
const IDLE_SOCKET_MS = 4000;

/** Answers longer than this are cut: callbacks answer a word or a small JSON object. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** Callback URLs whose request options are kept (a service calls back one site, at a handful of endpoints). */
const TARGETS_KEPT = 64;

/** Posts callbacks to host sites. One per service; its idle connections never keep a process alive. */
export class SiteClient {
  private readonly agents: ProtocolAgents = {
    'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };

  /** Callback URL → its parsed target, so a callback parses no URL (see {@link TARGETS_KEPT}). */
  private readonly targets = new BoundedCache<string, RequestTarget>(TARGETS_KEPT);

  constructor(private readonly opts: SiteClientOptions) {}

  /**
   * POSTs `fields` (plus the secret) to `<baseUrl>/<endpoint>` and returns the
   * body text, all within the configured timeout. Throws {@link SiteCallError}
   * on any status but 200, or when no complete answer came.
   */
  async post(baseUrl: string, endpoint: string, fields: Record<string, FieldValue>): Promise<string> {
    const url = `${baseUrl.replace(/\/+$/, '')}/${endpoint}`;
    const body = Buffer.from(encodeForm({ ...fields, sodar_secret: this.opts.secret }));
    const target = this.targetOf(url, endpoint);
    const deadline = Date.now() + this.opts.timeoutMs;
    let attempt = await this.send(target, body, this.opts.timeoutMs);
    // A kept-alive connection the site closed while idle fails at once, almost surely before the site saw the
    // request (a status set again is harmless anyway): once more, on a new connection.
    if (attempt instanceof IncompleteAnswer && attempt.reusedSocket && attempt.code === 'ECONNRESET' && Date.now() < deadline) {
      attempt = await this.send(target, body, deadline - Date.now());
    }
    if (attempt instanceof IncompleteAnswer) throw new SiteCallError(endpoint, 0, `could not reach ${url}: ${attempt.reason}`, attempt.passing);
    if (attempt.status !== 200) throw new SiteCallError(endpoint, attempt.status, attempt.body);
    return attempt.body;
  }

  /** The parsed target of callback URL `url`; throws {@link SiteCallError} for one that is not http or https. */
  private targetOf(url: string, endpoint: string): RequestTarget {
    let target = this.targets.get(url);
    if (target !== undefined) return target;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SiteCallError(endpoint, 0, `could not reach ${url}: not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new SiteCallError(endpoint, 0, `could not reach ${url}: not an http or https URL`);
    }
    // submits name their own site URL: a bounded cache
    return this.targets.set(url, requestTarget(parsed));
  }

  /** One POST within `timeoutMs`; never rejects. */
  private send(target: RequestTarget, body: Buffer, timeoutMs: number): Promise<BoundedAnswer | IncompleteAnswer> {
    return boundedRequest(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
      body,
      agents: this.agents,
      timeoutMs,
      budgetMs: this.opts.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
    }).catch((err: IncompleteAnswer) => err);
  }

  /** Like {@link post}, parsing the answer as JSON. */
  async postJson<T>(baseUrl: string, endpoint: string, fields: Record<string, FieldValue>): Promise<T> {
    const text = await this.post(baseUrl, endpoint, fields);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SiteCallError(endpoint, 200, `answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
}
