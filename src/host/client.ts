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
   * Polls `path` until `done` holds for its answer or the deadline passes
   * (then throws with `describe` of the last answer).
   */
  async waitFor<T>(path: string, done: (answer: T) => boolean, describe: (answer: T) => string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let answer = await this.get<T>(path);
    while (!done(answer)) {
      if (Date.now() > deadline) throw new Error(`${describe(answer)} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
      answer = await this.get<T>(path);
    }
    return answer;
  }

  /**
   * Polls a zone until its status is one of `statuses` or the deadline passes
   * (then throws with the last status seen).
   */
  waitZone(zoneUuid: string, statuses: readonly string[], timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return this.waitFor<Record<string, unknown>>(
      `landingzones/api/retrieve/${zoneUuid}`,
      (zone) => statuses.includes(String(zone.status)),
      (zone) => `Landing zone ${zoneUuid} still ${String(zone.status)} (waiting for ${statuses.join('/')}): ${String(zone.status_info)}`,
      timeoutMs,
    );
  }

  /**
   * Polls a project's timeline until every event named `eventName` has ended
   * (`OK` or `FAILED`): the timeline callback of an async run may land after
   * the zone status callback that a caller waited for.
   */
  waitEventsEnded(projectUuid: string, eventName: string, timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
    const ofName = (events: Record<string, unknown>[]) => events.filter((e) => e.event_name === eventName);
    return this.waitFor<Record<string, unknown>[]>(
      `timeline/api/list/${projectUuid}`,
      (events) => ofName(events).every((e) => e.status_type === 'OK' || e.status_type === 'FAILED'),
      (events) => `Timeline events ${eventName} of ${projectUuid} still ${ofName(events).map((e) => String(e.status_type)).join(', ')}`,
      timeoutMs,
    );
  }
}
