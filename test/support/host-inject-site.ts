/**
 * An in-process site for tests: its database (SQLite in a temp dir, or a
 * fresh PostgreSQL schema), the Fastify app driven by `inject`, an admin
 * token, and a {@link FakeBackend} standing in for the taskflow service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { ensureAdmin } from '../../src/host/admin.js';
import type { SiteContext } from '../../src/host/context.js';
import { openDb } from '../../src/host/db/index.js';
import type { Db } from '../../src/host/db/types.js';
import { buildSiteApp } from '../../src/host/server.js';
import { FakeBackend } from './host-fake-backend.js';

export const TEST_SECRET = 'test-secret';

/** A test site. */
export interface InjectSite {
  app: FastifyInstance;
  ctx: SiteContext;
  db: Db;
  config: Config;
  backend: FakeBackend;
  /** Set false to act as if the taskflow plugin were disabled. */
  enabled: { value: boolean };
  adminToken: string;
  /** The admin's sign-in password, as the first start generated it. */
  adminPassword: string;
  /** Calls the API as `token` (default the admin) and returns status and JSON. */
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any; text: string }>;
  /** Posts a callback, form-encoded (default) or JSON. */
  callback(path: string, fields: Record<string, unknown>, opts?: { json?: boolean; secret?: string | null }): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

/** Status, parsed JSON (undefined when the body is not JSON) and text of an injected response. */
export function injectAnswer(res: { statusCode: number; body: string }): { status: number; json: any; text: string } {
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text: res.body };
}

/** Starts an in-process site; `databaseUrl` selects PostgreSQL. */
export async function injectSite(opts: { databaseUrl?: string; env?: Record<string, string> } = {}): Promise<InjectSite> {
  const dir = mkdtempSync(join(tmpdir(), 'host-site-'));
  const config = loadConfig({ TASKFLOW_DATA_DIR: dir, TASKFLOW_SODAR_SECRET: TEST_SECRET, TASKFLOW_TEST_MODE: 'true', ...(opts.env ?? {}) });
  config.databaseUrl = opts.databaseUrl;
  const db = await openDb(config);
  const admin = await ensureAdmin(db, dir);
  const backend = new FakeBackend();
  const enabled = { value: true };
  const ctx: SiteContext = { db, config, siteUrl: () => 'http://site.test', taskflow: async () => (enabled.value ? backend : null) };
  const app = buildSiteApp(ctx);
  await app.ready();
  return {
    app,
    ctx,
    db,
    config,
    backend,
    enabled,
    adminToken: admin.token!,
    adminPassword: admin.password!,
    async call(method, path, body, token) {
      const res = await app.inject({
        method: method as 'GET',
        url: `/${path}`,
        headers: { authorization: `token ${token ?? admin.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      return injectAnswer(res);
    },
    async callback(path, fields, o = {}) {
      const secret = o.secret === undefined ? TEST_SECRET : o.secret;
      const all: Record<string, unknown> = secret === null ? { ...fields } : { ...fields, sodar_secret: secret };
      const payload = o.json
        ? JSON.stringify(all)
        : new URLSearchParams(Object.entries(all).map(([k, v]): [string, string] => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])).toString();
      const res = await app.inject({
        method: 'POST',
        url: `/${path}`,
        headers: { 'content-type': o.json ? 'application/json' : 'application/x-www-form-urlencoded' },
        payload,
      });
      return { status: res.statusCode, text: res.body };
    },
    async close() {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
