/**
 * A small browser over `app.inject` for page tests: keeps the cookies, reads
 * the CSRF token of the last page, and posts forms as a browser does.
 */
import type { FastifyInstance } from 'fastify';

/** An answer: status, body, the redirect target. */
export interface PageAnswer {
  status: number;
  text: string;
  location: string | undefined;
  headers: Record<string, unknown>;
}

export class PageClient {
  private cookies = new Map<string, string>();
  /** The CSRF token of the last page read. */
  csrf = '';
  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(setCookie: unknown): void {
    const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    for (const c of list as string[]) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Forgets every cookie (a new browser). */
  clear(): void {
    this.cookies.clear();
    this.csrf = '';
  }

  /** The raw cookie value named `name`. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async get(url: string): Promise<PageAnswer> {
    const res = await this.app.inject({ method: 'GET', url, headers: { accept: 'text/html', cookie: this.cookieHeader() } });
    this.keep(res.headers['set-cookie']);
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.csrf = m[1];
    return { status: res.statusCode, text: res.body, location: res.headers.location as string | undefined, headers: res.headers };
  }

  /** Posts form `fields`, with the last page's CSRF token unless `csrf` is false. */
  async post(url: string, fields: Record<string, string>, opts: { csrf?: boolean } = {}): Promise<PageAnswer> {
    const all = opts.csrf === false ? fields : { _csrf: this.csrf, ...fields };
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { accept: 'text/html', cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(all).toString(),
    });
    this.keep(res.headers['set-cookie']);
    return { status: res.statusCode, text: res.body, location: res.headers.location as string | undefined, headers: res.headers };
  }

  /** Signs in through the sign-in page. */
  async signIn(username: string, password: string): Promise<PageAnswer> {
    await this.get('/login');
    return this.post('/login', { username, password, next: '/' });
  }
}
