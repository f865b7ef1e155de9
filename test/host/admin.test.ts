import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { adminTokenPath, ensureAdmin } from '../../src/host/admin.js';
import { openDb } from '../../src/host/db/index.js';
import type { Db } from '../../src/host/db/types.js';
import { checkPassword } from '../../src/host/auth/passwords.js';
import { ensureSessionSecret, sessionSecretPath } from '../../src/host/pages/session.js';
import { userForToken } from '../../src/host/repo.js';
import { readSecret, withStoredSecret } from '../../src/host/secret.js';

let dir: string;
let db: Db;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'host-admin-'));
  db = await openDb(loadConfig({ TASKFLOW_DATA_DIR: dir }));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the first start admin', () => {
  it('creates the admin and its token once, and keeps them on later starts', async () => {
    const first = await ensureAdmin(db, dir);
    expect(first).toMatchObject({ username: 'admin', created: true, tokenCreated: true, tokenFile: adminTokenPath(dir) });
    expect(readFileSync(first.tokenFile, 'utf8').trim()).toBe(first.token);
    expect(statSync(first.tokenFile).mode & 0o777).toBe(0o600);
    const again = await ensureAdmin(db, dir);
    expect(again).toMatchObject({ created: false, tokenCreated: false, token: first.token });
  });

  it('gives the admin a new token when the token file was removed, so the API stays usable', async () => {
    const first = await ensureAdmin(db, dir);
    unlinkSync(first.tokenFile);
    const next = await ensureAdmin(db, dir);
    expect(next).toMatchObject({ username: 'admin', created: false, tokenCreated: true });
    expect(next.token).not.toBe(first.token);
    expect(readFileSync(next.tokenFile, 'utf8').trim()).toBe(next.token);
    expect((await userForToken(db, next.token!))?.username).toBe('admin');
  });
});

describe("the admin's sign-in password", () => {
  it('is generated on the first start, returned once to print, stored only as a hash, and not again later', async () => {
    const first = await ensureAdmin(db, dir);
    expect(first.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect((await checkPassword(db, 'admin', first.password!))?.username).toBe('admin');
    expect(await checkPassword(db, 'admin', `${first.password!}x`)).toBeUndefined();
    expect(await checkPassword(db, 'nobody', first.password!)).toBeUndefined();
    const stored = await db.query<{ hash: string }>('SELECT hash FROM user_passwords');
    expect(stored).toHaveLength(1);
    expect(stored[0].hash).not.toContain(first.password!);
    expect((await ensureAdmin(db, dir)).password).toBeUndefined();
  });

  it('is generated for the admin of an older site that had none', async () => {
    await ensureAdmin(db, dir);
    await db.exec('DELETE FROM user_passwords');
    const next = await ensureAdmin(db, dir);
    expect(next.password).toBeDefined();
    expect((await checkPassword(db, 'admin', next.password!))?.username).toBe('admin');
  });
});

describe('the session signing key', () => {
  it('is generated once, owner-only, and reused', () => {
    const key = ensureSessionSecret(dir);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(sessionSecretPath(dir)).mode & 0o777).toBe(0o600);
    expect(ensureSessionSecret(dir)).toBe(key);
  });
});

describe('the stored secret', () => {
  it('is used when TASKFLOW_SODAR_SECRET is unset, and the environment wins otherwise', () => {
    const config = { dataDir: dir, sodarSecret: 'CHANGE ME!' };
    expect(withStoredSecret(config, {})).toEqual(config);
    expect(readSecret(dir)).toBeUndefined();
    writeFileSync(join(dir, 'secret'), 'abc123\n', { mode: 0o600 });
    expect(withStoredSecret(config, {}).sodarSecret).toBe('abc123');
    expect(withStoredSecret({ ...config, sodarSecret: 'from-env' }, { TASKFLOW_SODAR_SECRET: 'from-env' }).sodarSecret).toBe('from-env');
  });
});
