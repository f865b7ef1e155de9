/**
 * `taskflow manage revoke USER` and `taskflow manage revoketoken` against a
 * site database on disk: revoke takes a user's password and API tokens,
 * their roles and the other users' stay, and an unknown user is named in
 * the error; revoketoken takes the one token read from standard input.
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

it('revokes one API token read from standard input, leaving the user\'s other tokens and password, and refuses an unknown token', async () => {
  dir = makeTempDir('taskflow-manage-');
  const env = { ...process.env, TASKFLOW_DATA_DIR: dir };
  const config = loadConfig({ TASKFLOW_DATA_DIR: dir });
  let db = await openDb(config);
  const bob = await createUser(db, { username: 'bob' });
  await setPassword(db, bob.uuid, 'bob-password-1');
  const [leaked, kept] = [await createToken(db, bob.uuid, 'laptop'), await createToken(db, bob.uuid, 'pipeline')];
  await db.close();

  const revoke = (token: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [CLI_PATH, 'manage', 'revoketoken'], { env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(`${token}\n`);
    });
  expect(await revoke(leaked)).toEqual({ code: 0, stdout: 'API token of "bob" revoked; their other tokens and their password stay\n', stderr: '' });
  // the token is gone: a second revoke finds nothing, and names no user
  expect(await revoke(leaked)).toEqual({ code: 1, stdout: '', stderr: `No such API token in the site database (${dir})\n` });

  db = await openDb(config);
  try {
    expect(await userForToken(db, leaked)).toBeUndefined();
    expect((await userForToken(db, kept))?.username).toBe('bob');
    expect(await hasPassword(db, bob.uuid)).toBe(true);
  } finally {
    await db.close();
  }
});
