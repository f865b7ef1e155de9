/**
 * `taskflow manage revoke USER` against a site database on disk: the user's
 * password and API tokens go, their roles and the other users' stay; an
 * unknown user is named in the error.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hasPassword, setPassword } from '../../src/host/auth/passwords.js';
import { openDb } from '../../src/host/db/index.js';
import { createToken, createUser, userForToken } from '../../src/host/repo.js';
import { CLI_PATH, makeTempDir, removeDir } from '../support/service-harness.js';

const run = promisify(execFile);
let dir: string | undefined;
afterEach(() => {
  if (dir) removeDir(dir);
});

it('revokes one user\'s password and tokens and names an unknown user', async () => {
  dir = makeTempDir('taskflow-manage-');
  const env = { ...process.env, TASKFLOW_DATA_DIR: dir };
  const config = loadConfig({ TASKFLOW_DATA_DIR: dir });
  let db = await openDb(config);
  const [bob, eve] = [await createUser(db, { username: 'bob' }), await createUser(db, { username: 'eve' })];
  for (const u of [bob, eve]) await setPassword(db, u.uuid, `${u.username}-password-1`);
  const [bobToken, eveToken] = [await createToken(db, bob.uuid), await createToken(db, eve.uuid)];
  await db.close();

  const { stdout } = await run(process.execPath, [CLI_PATH, 'manage', 'revoke', 'bob'], { env });
  expect(stdout).toBe('Access of "bob" revoked: password removed, 1 API token(s) removed; set a password to let them in again\n');
  const unknown = await run(process.execPath, [CLI_PATH, 'manage', 'revoke', 'nobody'], { env }).catch((e: { code: number; stderr: string }) => e);
  expect(unknown).toMatchObject({ code: 1, stderr: `No user "nobody" in the site database (${dir})\n` });

  db = await openDb(config);
  try {
    expect(await hasPassword(db, bob.uuid)).toBe(false);
    expect(await userForToken(db, bobToken)).toBeUndefined();
    expect(await hasPassword(db, eve.uuid)).toBe(true);
    expect((await userForToken(db, eveToken))?.username).toBe('eve');
  } finally {
    await db.close();
  }
});
