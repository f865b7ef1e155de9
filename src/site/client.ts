/**
 * Client for the host site's callbacks (the `sodar` target, protocol section 3):
 * form-encoded POSTs to `<sodar_url>/<endpoint>` with `sodar_secret` added.
 *
 * @module
 */
import { formBool } from './protocol.js';

/** A field value; objects and arrays are sent as JSON strings, as SODAR expects. */
export type FieldValue = string | number | boolean | null | undefined | object;

/** A callback answered with a status other than 200, or could not be sent. */
export class SiteCallError extends Error {
  override readonly name = 'SiteCallError';
  constructor(
    readonly endpoint: string,
    /** HTTP status, or 0 when the site could not be reached. */
    readonly status: number,
    readonly body: string,
  ) {
    super(
      status === 0
        ? `Site callback ${endpoint} failed: ${body}`
        : `Site callback ${endpoint} answered ${status}: ${body.slice(0, 512)}`,
    );
  }
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

/** Posts callbacks to host sites. Stateless apart from its options; one per service. */
export class SiteClient {
  constructor(private readonly opts: SiteClientOptions) {}

  /**
   * POSTs `fields` (plus the secret) to `<baseUrl>/<endpoint>` and returns the
   * body text. Throws {@link SiteCallError} on any status but 200.
   */
  async post(baseUrl: string, endpoint: string, fields: Record<string, FieldValue>): Promise<string> {
    const url = `${baseUrl.replace(/\/+$/, '')}/${endpoint}`;
    const body = encodeForm({ ...fields, sodar_secret: this.opts.secret });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new SiteCallError(endpoint, 0, `could not reach ${url}: ${cause}`);
    }
    const text = await res.text();
    if (res.status !== 200) throw new SiteCallError(endpoint, res.status, text);
    return text;
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
