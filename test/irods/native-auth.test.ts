/**
 * Native authentication through python-irodsclient 0.8.1 against the store's
 * iRODS server: the right password logs in; a wrong one, an empty one, a
 * user without a password and an unknown user are refused with the iRODS
 * error a real server answers, and the server goes on serving.
 *
 * Passes only with the server (src/irods, `taskflow store serve`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOp, requireIrodsClient, type ClientOpResult } from '../support/irods-client.js';
import { startIrodsStore, type IrodsStoreServer } from '../support/irods-store-server.js';

let server: IrodsStoreServer | undefined;

beforeAll(async () => {
  requireIrodsClient();
  // nopass: a user the store knows who never got a password
  server = await startIrodsStore({ users: [{ name: 'alice' }, { name: 'nopass', noPassword: true }] });
}, 120_000);

afterAll(async () => {
  await server?.dispose();
});

/** The refusal: python-irodsclient raises the exception class named after the iRODS error. */
function expectRefused(r: ClientOpResult, errors: readonly string[]): void {
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (r.ok) return;
  expect(errors, `${r.error} (${r.code}): ${r.message}`).toContain(r.error);
}

describe('native authentication', { timeout: 120_000 }, () => {
  it('logs in with the right password and reports a 4.2-series server', async () => {
    const r = await clientOp(server!.accounts.get('alice')!, { op: 'login' });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    // clients pick native authentication (703/704) for servers before 4.3
    expect((r as { value: number[] }).value.slice(0, 2)).toEqual([4, 2]);
  });

  it('refuses a wrong password with CAT_INVALID_AUTHENTICATION (-826000)', async () => {
    const alice = server!.accounts.get('alice')!;
    const r = await clientOp({ ...alice, password: `${alice.password}x` }, { op: 'login' });
    expectRefused(r, ['CAT_INVALID_AUTHENTICATION']);
    expect(r.ok === false && r.code).toBe(-826000);
  });

  it("refuses another user's password and an empty one", async () => {
    const alice = server!.accounts.get('alice')!;
    expectRefused(await clientOp({ ...alice, password: server!.admin.password }, { op: 'login' }), ['CAT_INVALID_AUTHENTICATION']);
    expectRefused(await clientOp({ ...alice, password: '' }, { op: 'login' }), ['CAT_INVALID_AUTHENTICATION']);
  });

  it('refuses a user without a password, whatever is sent, and an unknown user', async () => {
    const alice = server!.accounts.get('alice')!;
    for (const password of ['', alice.password, 'nopass']) {
      expectRefused(await clientOp({ ...alice, user: 'nopass', password }, { op: 'login' }), ['CAT_INVALID_AUTHENTICATION', 'CAT_INVALID_USER']);
    }
    expectRefused(await clientOp({ ...alice, user: 'nobody_here' }, { op: 'login' }), ['CAT_INVALID_AUTHENTICATION', 'CAT_INVALID_USER']);
  });

  it('serves no API on a connection whose authentication failed, and keeps serving others', async () => {
    const alice = server!.accounts.get('alice')!;
    // the client goes on to a GenQuery only if the server let the failed connection through
    const r = await clientOp({ ...alice, password: 'wrong' }, { op: 'list', path: `/${alice.zone}/home/alice` });
    expectRefused(r, ['CAT_INVALID_AUTHENTICATION']);
    const ok = await clientOp(alice, { op: 'list', path: `/${alice.zone}/home/alice` });
    expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true, value: [] });
    expect(server!.alive()).toBe(true);
  });
});
