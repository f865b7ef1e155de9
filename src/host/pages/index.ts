/**
 * The site's web pages: sign-in, the project tree, a project with its
 * members and timeline, the sample sheet, landing zones (live while busy)
 * and the operator dashboard. Server-rendered; htmx only refreshes a busy
 * zone's status. Every action calls the same functions as the REST API
 * (src/host/api/*.ts), so the rules of access.ts decide for both. A
 * refusal of what a form was given shows the form's page again with the
 * message and the values typed (`Pages.form`); any other refusal is shown
 * as its message.
 *
 * Sessions, cookies and CSRF checks are registered inside this plugin only:
 * the REST API and the callbacks never read a cookie, so a browser session
 * can never be used to call them (they take a token or the shared secret).
 *
 * @module
 */
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkPassword, passwordSetAt } from '../auth/passwords.js';
import { SignInThrottle } from '../auth/sign-in-throttle.js';
import type { SiteContext } from '../context.js';
import { HttpError } from '../errors.js';
import { getUser, type User } from '../repo.js';
import { formErrorId, formRefusal } from './forms.js';
import { opsRoutes } from './ops.js';
import { projectPages } from './projects.js';
import { HTMX_DIR, STATIC_DIR, render } from './render.js';
import { DbSessionStore, ensureSessionSecret } from './session.js';
import { zonePages } from './zones.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'sodar_session';
/** How long a sign-in lasts. */
const SESSION_MAX_AGE_MS = 12 * 3600 * 1000;

/** What every page template gets. */
export interface PageBase {
  user: User | null;
  csrf: string;
  flash: string | undefined;
  [key: string]: unknown;
}

/** The page helpers the route modules share. */
export interface Pages {
  /** The signed-in user, or a 401 that sends the browser to the sign-in page. */
  user(req: FastifyRequest): Promise<User>;
  /** Answers with template `name`, given `data` and the common fields. */
  show(req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  /** After an action: remembers `message` for the next page and sends the browser to `to`. */
  done(req: FastifyRequest, reply: FastifyReply, to: string, message: string): FastifyReply;
  /**
   * Runs `action` for form `form` of the page `view` builds. When the action
   * refuses what was posted (see {@link formRefusal}), answers with that page
   * again, the refusal's status kept: the form shows the message and the
   * values posted, with a fresh CSRF token. Any other error goes on to the
   * error page.
   */
  form(req: FastifyRequest, reply: FastifyReply, form: string, view: () => Promise<PageView>, action: () => Promise<FastifyReply>): Promise<FastifyReply>;
}

/** A page as its template and data, so a form's action can show it again. */
export interface PageView {
  name: string;
  data: Record<string, unknown>;
}

/**
 * The user a request's session found, with the session values it was found
 * for: a page asks for its user in its handler and again for the page
 * frame, and each time costs two queries.
 */
const sessionUsers = new WeakMap<FastifyRequest, { uuid: string; passwordSet: unknown; user: Promise<User | undefined> }>();

/** The signed-in user of a request, or undefined (none, or their password was set since the sign-in). */
function sessionUser(ctx: SiteContext, req: FastifyRequest): Promise<User | undefined> {
  const uuid = req.session.get('userUuid');
  if (!uuid) return Promise.resolve(undefined);
  const passwordSet = req.session.get('passwordSet');
  const found = sessionUsers.get(req);
  // a sign-in or sign-out within the request changes the session: asked again then
  if (found && found.uuid === uuid && found.passwordSet === passwordSet) return found.user;
  const user = (async () => ((await passwordSetAt(ctx.db, uuid)) === passwordSet ? getUser(ctx.db, uuid) : undefined))();
  sessionUsers.set(req, { uuid, passwordSet, user });
  return user;
}

/**
 * Only a path on this site: `next` can never send a signed-in person
 * elsewhere. A browser drops tabs and newlines from a URL and reads `\` as
 * `/`, so `/<tab>/host` means `//host`: a path with a control character or a
 * backslash anywhere is refused, and what is left must parse to this site.
 */
function localPath(next: unknown): string {
  if (typeof next !== 'string' || !/^\/(?![/\\])/.test(next) || /[\x00-\x1f\x7f\\]/.test(next)) return '/';
  const here = 'http://site.invalid';
  const url = new URL(next, here);
  return url.origin === here ? `${url.pathname}${url.search}${url.hash}` : '/';
}

/** `seconds` as a person reads a wait: whole minutes from a minute on. */
function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** The page text for an error the pages got. */
function errorText(err: Error & { statusCode?: number; code?: string }): { status: number; text: string } {
  if (err instanceof HttpError) return { status: err.status, text: err.detail };
  if (err.code?.startsWith('FST_CSRF')) {
    return { status: 403, text: 'This form did not come from a page of this site, or it is too old (its CSRF token is missing or wrong): reload the page and try again.' };
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return { status: err.statusCode, text: err.message };
  return { status: 500, text: `Server error: ${err.message}` };
}

/** Registers the pages (call inside `app.register`, so their hooks stay theirs). */
export async function sitePages(app: FastifyInstance, ctx: SiteContext): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: ensureSessionSecret(ctx.config.dataDir),
    cookieName: SESSION_COOKIE,
    store: new DbSessionStore(ctx.db),
    saveUninitialized: false,
    // A sign-in lasts SESSION_MAX_AGE_MS from signing in: not renewed (and written) on every page.
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: SESSION_MAX_AGE_MS },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
  await app.register(fastifyStatic, { root: [STATIC_DIR, HTMX_DIR], prefix: '/static/', index: false, maxAge: 3600 * 1000 });

  app.addHook('onSend', async (_req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });

  const pageBase = async (req: FastifyRequest, reply: FastifyReply): Promise<PageBase> => {
    const user = (await sessionUser(ctx, req)) ?? null;
    const flash = req.session.get('flash');
    if (flash !== undefined) req.session.set('flash', undefined);
    return { user, csrf: reply.generateCsrf(), flash, path: req.url };
  };
  const html = (reply: FastifyReply, status: number, text: string): FastifyReply => reply.code(status).type('text/html; charset=utf-8').send(text);

  const pages: Pages = {
    async user(req) {
      const user = await sessionUser(ctx, req);
      if (!user) throw new HttpError(401, 'Please sign in to see this page.');
      return user;
    },
    async show(req, reply, name, data, status = 200) {
      return html(reply, status, render(name, { ...(await pageBase(req, reply)), ...data }));
    },
    done(req, reply, to, message) {
      req.session.set('flash', message);
      return reply.code(303).redirect(to);
    },
    async form(req, reply, form, view, action) {
      try {
        return await action();
      } catch (err) {
        const refused = formRefusal(err, form, req.body);
        if (!refused) throw err;
        let page: PageView;
        try {
          page = await view();
        } catch {
          // The page itself is gone or closed to the user now: the refusal is still what they asked about.
          throw err;
        }
        // No self-refresh (a busy zone list has one): it would load the post's URL and drop the values.
        const data = { ...(await pageBase(req, reply)), ...page.data, refresh: false };
        const text = render(page.name, { ...data, refused });
        // A form shown only in some states (another tab changed it meanwhile) may be missing: say it at the top then.
        const placed = text.includes(`id="${formErrorId(form)}"`) ? text : render(page.name, { ...data, refused: { ...refused, unplaced: true } });
        return html(reply, refused.status, placed);
      }
    },
  };

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const { status, text } = errorText(err);
    if (status === 401 && req.method === 'GET') return reply.code(303).redirect(`/login?next=${encodeURIComponent(req.url)}`);
    if (status >= 500) req.log.error(err);
    return pages.show(req, reply, 'error.njk', { status, message: text }, status);
  });

  app.get('/', async (req, reply) => {
    // API clients (and the tests of old) ask / what this is; people get the home page.
    if (!(req.headers.accept ?? '').includes('text/html')) {
      return { site: 'sodar-taskflow reference site', taskflow_enabled: (await ctx.taskflow()) !== null };
    }
    return projectPagesHome(req, reply);
  });

  app.get('/login', async (req, reply) => pages.show(req, reply, 'login.njk', { next: localPath((req.query as Record<string, unknown>).next) }));

  const throttle = new SignInThrottle({ maxFailures: ctx.config.siteSignInFailures, windowMs: ctx.config.siteSignInWindow * 1000 });
  app.post('/login', { preHandler: app.csrfProtection }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const next = localPath(body.next);
    const wait = throttle.retryAfterSeconds(username);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      const error = `Too many failed sign-ins for this user name: try again in ${waitText(wait)}.`;
      return pages.show(req, reply, 'login.njk', { next, username, error }, 429);
    }
    const user = username && password ? await checkPassword(ctx.db, username, password) : undefined;
    if (!user) {
      if (username) throttle.failed(username);
      return pages.show(req, reply, 'login.njk', { next, username, error: 'Wrong user name or password.' }, 401);
    }
    throttle.succeeded(username);
    // A new session id at sign-in: an id planted before it (session fixation) is worth nothing.
    await req.session.regenerate();
    req.session.set('userUuid', user.uuid);
    req.session.set('passwordSet', await passwordSetAt(ctx.db, user.uuid));
    return pages.done(req, reply, next, `Signed in as ${user.username}.`);
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    await req.session.destroy();
    return reply.code(303).redirect('/login');
  });

  const { home: projectPagesHome } = projectPages(app, ctx, pages);
  zonePages(app, ctx, pages);
  opsRoutes(app, ctx, pages);
}
