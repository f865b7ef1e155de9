/**
 * Helpers for the metadata, access and admin handler tests: a handler
 * context over a real store (as the connection builds one after
 * authentication), a call of a route with a body shaped as python-irodsclient
 * 0.8.1 packs it, the iRODS error a call answers, and the reference client's
 * own Python functions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import pino from 'pino';
import { AccessRules } from '../../src/irods/permissions.js';
import type { ApiContext, ApiRoute, SessionUser } from '../../src/irods/server/api.js';
import type { IrodsErrorName } from '../../src/irods/wire/error-codes.js';
import { IrodsError } from '../../src/irods/wire/irods-error.js';
import type { PiNode } from '../../src/irods/wire/pi-values.js';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { PYTHON } from './support/wire-server.js';

/** A context for `user` (its type read from the store) on a connection with `clientSignature`. */
export async function contextFor(store: EmbeddedStore, user: string, clientSignature = '0123456789abcdef0123456789abcdef'): Promise<ApiContext> {
  const p = await store.getPrincipal(user);
  if (!p || p.kind !== 'user') throw new Error(`no user ${user} in the store`);
  const session: SessionUser = { name: user, type: p.userType ?? 'rodsuser', zone: store.zone };
  return {
    user: session,
    store,
    access: new AccessRules(store.protocolCore().db),
    log: pino({ level: 'silent' }),
    connection: {
      state: new Map(),
      clientSignature,
      onClose() {},
      async exchange() {
        throw new Error('these APIs send no intermediate replies');
      },
    },
  };
}

/** Calls `route` with a body, as the connection passes a decoded request. */
export function call(route: ApiRoute, ctx: ApiContext, bodyName: string, body: PiNode) {
  return route.handle({ api: route.api, bodyName, body, bs: Buffer.alloc(0) }, ctx);
}

/** `arg0`…`argN` of a `*_PI` whose fields are numbered arguments; empty ones left out, as python-irodsclient's MetadataRequest does. */
export function args(...values: string[]): PiNode {
  const node: PiNode = {};
  values.forEach((v, i) => {
    if (v !== '') node[`arg${i}`] = v;
  });
  return node;
}

/** The iRODS error name a call answers with (fails when it succeeds or throws anything else). */
export async function irodsError(p: Promise<unknown>): Promise<IrodsErrorName> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IrodsError) return err.codeName;
    throw err;
  }
  throw new Error('expected an iRODS error');
}


/** Runs a Python snippet with JSON on standard input and parses the JSON it prints. */
export function python<T>(script: string, input: unknown): T {
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input) }).toString()) as T;
}
