/**
 * Calling iRODS API handlers directly, without the wire: an {@link ApiContext}
 * for a user over a real {@link EmbeddedStore}, as the connection builds one
 * after authentication, a call of a route as the connection makes it, and the
 * iRODS error a call answers. Handler tests of every area use these.
 *
 *   const ctx = await handlerContext(store, 'alice');
 *   const reply = await call(route, ctx, bodyName, body);   // or call(API number, ...)
 *   await ctx.end(); // runs the handlers' onClose cleanups
 */
import pino from 'pino';
import { apiTable } from '../../../src/irods/api/index.js';
import { AccessRules } from '../../../src/irods/permissions.js';
import { icatSiteOf } from '../../../src/irods/specific-query/icat-views.js';
import { DEFAULT_IRODS_LIMITS } from '../../../src/irods/index.js';
import { SpecificQueryRunner } from '../../../src/irods/specific-query/runner.js';
import type { ApiContext, ApiReply, ApiRoute, SessionUser } from '../../../src/irods/server/api.js';
import type { IrodsErrorName } from '../../../src/irods/wire/error-codes.js';
import { IrodsError } from '../../../src/irods/wire/irods-error.js';
import type { PiNode } from '../../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../../src/store/embedded/store.js';

/** A handler context plus what a test needs to drive its connection. */
export interface TestContext extends ApiContext {
  /** Runs the cleanups the handlers registered with `onClose`, once, in order, as a closing connection does. */
  end(): Promise<void>;
  /** Replies sent through `exchange`, with the answers given. */
  readonly exchanges: Array<{ reply: ApiReply; answer: number }>;
}

/** Options of {@link handlerContext}. */
export interface HandlerContextOptions {
  /** What `exchange` answers (default 99999997: go on). */
  exchangeAnswer?: (reply: ApiReply) => number;
  /** The connection's client signature (default 32 hex zeros). */
  clientSignature?: string;
  /** Largest data object (default the server's, {@link DEFAULT_IRODS_LIMITS}). */
  maxObjectBytes?: number;
}

// One set of access rules a store, as the server holds one.
const accessRulesOf = new WeakMap<EmbeddedStore, AccessRules>();
// One query runner a store, as the server holds one; a test file's stores come one after
// another, so the runner of the store before is closed (its processes killed) when the next comes.
let queriesOf: { store: EmbeddedStore; runner: SpecificQueryRunner } | undefined;
function specificQueriesOf(store: EmbeddedStore): SpecificQueryRunner {
  if (queriesOf?.store !== store) {
    queriesOf?.runner.close();
    queriesOf = { store, runner: new SpecificQueryRunner(icatSiteOf(store.protocolCore()), DEFAULT_IRODS_LIMITS.queryTimeoutMs) };
  }
  return queriesOf.runner;
}

/**
 * An API context for `user` on `store`. A name alone looks the user's type up
 * in the store (a `rodsadmin` or `rodsuser`); a {@link SessionUser} is taken
 * as given. Each call is a new connection with its own state.
 */
export async function handlerContext(
  store: EmbeddedStore,
  user: string | SessionUser,
  opts: HandlerContextOptions = {},
): Promise<TestContext> {
  let session: SessionUser;
  if (typeof user === 'string') {
    const p = await store.getPrincipal(user);
    if (!p || p.kind !== 'user') throw new Error(`no user ${user} in the store`);
    session = { name: user, type: p.userType ?? 'rodsuser', zone: store.zone };
  } else {
    session = user;
  }
  let access = accessRulesOf.get(store);
  if (!access) accessRulesOf.set(store, (access = new AccessRules(store.protocolCore().db)));
  const closers: Array<() => void | Promise<void>> = [];
  const exchanges: Array<{ reply: ApiReply; answer: number }> = [];
  return {
    user: session,
    store,
    access,
    log: pino({ level: 'silent' }),
    specificQueries: specificQueriesOf(store),
    maxObjectBytes: opts.maxObjectBytes ?? DEFAULT_IRODS_LIMITS.maxObjectBytes,
    exchanges,
    connection: {
      state: new Map(),
      clientSignature: opts.clientSignature ?? '0'.repeat(32),
      onClose(fn) {
        closers.push(fn);
      },
      async exchange(reply) {
        const answer = opts.exchangeAnswer ? opts.exchangeAnswer(reply) : 99999997;
        exchanges.push({ reply, answer });
        return answer;
      },
    },
    async end() {
      for (const fn of closers.splice(0)) await fn();
    },
  };
}

const routes = apiTable();

/**
 * Calls `route` (or the route of an API number) with a body (root element
 * name and content) and bytes, as the connection passes a decoded request.
 * A reply whose bytes lie in memory the server reuses after sending (`sent`)
 * comes back with a copy of them, and `sent` called, as a connection does
 * once it has written them.
 */
export async function call(
  route: ApiRoute | number,
  ctx: ApiContext,
  bodyName: string | null,
  body: PiNode | null,
  bs: Buffer = Buffer.alloc(0),
): Promise<ApiReply> {
  const handler = typeof route === 'number' ? routes.get(route) : route;
  if (!handler) throw new Error(`no route for API ${String(route)}`);
  const reply = await handler.handle({ api: handler.api, bodyName, body, bs }, ctx);
  if (!reply.sent) return reply;
  const copy = { ...reply, bs: reply.bs && Buffer.from(reply.bs), sent: undefined };
  reply.sent();
  return copy;
}

/** The iRODS error name a call fails with; throws when it succeeds or fails otherwise. */
export async function irodsError(p: Promise<unknown>): Promise<IrodsErrorName> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) return err.codeName;
    throw err;
  }
  throw new Error('expected an iRODS error, but the call succeeded');
}
