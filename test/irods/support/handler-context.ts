/**
 * Calling iRODS API handlers directly, without the wire: an {@link ApiContext}
 * for a user over a real {@link EmbeddedStore}, as the connection builds one
 * after authentication. Handler tests of every area may use it.
 *
 *   const ctx = handlerContext(store, 'alice');
 *   const reply = await route.handle({ api, bodyName, body, bs: Buffer.alloc(0) }, ctx);
 *   await endConnection(ctx); // runs the handlers' onClose cleanups
 */
import pino from 'pino';
import { AccessRules } from '../../../src/irods/permissions.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute, SessionUser } from '../../../src/irods/server/api.js';
import type { PiNode } from '../../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../../src/store/embedded/store.js';

/** A handler context plus what a test needs to drive its connection. */
export interface TestContext extends ApiContext {
  /** Cleanups the handlers registered with `onClose`, in order. */
  readonly closers: Array<() => void | Promise<void>>;
  /** Replies sent through `exchange`, with the answers given. */
  readonly exchanges: Array<{ reply: ApiReply; answer: number }>;
}

/** Options of {@link handlerContext}. */
export interface HandlerContextOptions {
  /** What `exchange` answers (default 99999997: go on). */
  exchangeAnswer?: (reply: ApiReply) => number;
  /** The connection's client signature (default 32 hex zeros). */
  clientSignature?: string;
}

const accessRulesOf = new WeakMap<EmbeddedStore, AccessRules>();

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
    closers,
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
  };
}

/** Ends the test connection: runs its cleanups once, in registration order. */
export async function endConnection(ctx: TestContext): Promise<void> {
  const fns = ctx.closers.splice(0);
  for (const fn of fns) await fn();
}

/** Calls `route` with a body (root element name and content) as the connection would pass it. */
export function call(
  route: ApiRoute,
  ctx: ApiContext,
  bodyName: string | null,
  body: PiNode | null,
  bs: Buffer = Buffer.alloc(0),
): Promise<ApiReply> {
  const req: ApiRequest = { api: route.api, bodyName, body, bs };
  return route.handle(req, ctx);
}
