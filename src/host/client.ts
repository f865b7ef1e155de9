/**
 * A small client of the site's REST API (token auth), used by the demo and
 * the tests.
 *
 * @module
 */

/** The site answered with an error status. */
export class SiteApiError extends Error {
  override readonly name = 'SiteApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** The `detail` of the answer (or its text). */
    readonly detail: string,
  ) {
    super(`${method} ${path} answered ${status}: ${detail}`);
  }
}

/** Calls `<baseUrl>/<path>` with `Authorization: token <token>`. */
export class SiteApi {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  /** Sends a request and returns the parsed JSON answer; throws {@link SiteApiError} on 4xx/5xx. */
  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`, {
      method,
      headers: { authorization: `token ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status >= 400) {
      const detail = json && typeof json === 'object' && 'detail' in json ? String((json as { detail: unknown }).detail) : text;
      throw new SiteApiError(method, path, res.status, detail);
    }
    return (json ?? text) as T;
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  patch<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /**
   * Polls a zone until its status is one of `statuses` or the deadline passes
   * (then throws with the last status seen).
   */
  async waitZone(zoneUuid: string, statuses: readonly string[], timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let zone = await this.get(`landingzones/api/retrieve/${zoneUuid}`);
    while (!statuses.includes(String(zone.status))) {
      if (Date.now() > deadline) {
        throw new Error(`Landing zone ${zoneUuid} still ${String(zone.status)} after ${timeoutMs} ms (waiting for ${statuses.join('/')}): ${String(zone.status_info)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
      zone = await this.get(`landingzones/api/retrieve/${zoneUuid}`);
    }
    return zone;
  }
}
