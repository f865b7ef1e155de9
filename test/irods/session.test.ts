/**
 * The protocol session with the reference client: python-irodsclient 0.8.1
 * logs in with native authentication over plain TCP and TLS, is refused with
 * the codes a real server answers, and no API is served before login.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../src/irods/wire/pi-values.js';
import { rawClient, STARTUP, type RawClient } from './support/raw-client.js';
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

/** A self-signed certificate for 127.0.0.1 / localhost, made with openssl for this run. */
function selfSignedCert(dir: string): { cert: string; key: string; certFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

/** python-irodsclient 0.8.1's TLS settings (connection.py ssl_startup, client_server_negotiation.py). */
const tlsClient = (certFile: string, policy = 'CS_NEG_REQUIRE') => ({
  irods_client_server_negotiation: 'request_server_negotiation',
  irods_client_server_policy: policy,
  irods_encryption_algorithm: 'AES-256-CBC',
  irods_encryption_key_size: 32,
  irods_encryption_num_hash_rounds: 16,
  irods_encryption_salt_size: 8,
  irods_ssl_ca_certificate_file: certFile,
});

describe('TLS', () => {
  let certDir: string;
  let tls: { cert: string; key: string; certFile: string };
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'taskflow-irods-cert-'));
    tls = selfSignedCert(certDir);
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  const login = async (w: WireServer, extra: Record<string, unknown>) => {
    const r = await runPython(LOGIN, { port: w.port, user: 'rods', password: 'rods-pw', zone: w.zone, extra });
    expect(r.stderr).not.toMatch(/Traceback/);
    return lastJson(r.stdout);
  };

  it('logs in over TLS when the server requires it, and refuses plaintext with a clear error', async () => {
    const w = await startWireServer({ tls: { cert: tls.cert, key: tls.key, policy: 'require' } });
    try {
      expect(await login(w, tlsClient(tls.certFile))).toMatchObject({ ok: true, version: [4, 2, 12] });
      const plain = await login(w, {});
      expect(plain).toMatchObject({ ok: false, error: 'SYS_NO_API_PRIV' });
      expect(plain.message).toContain('requires TLS');
      // asking for negotiation but refusing TLS: the client itself sees the disagreement
      const refusing = await login(w, tlsClient(tls.certFile, 'CS_NEG_REFUSE'));
      expect(refusing).toMatchObject({ ok: false, error: 'NetworkException' });
    } finally {
      await w.stop();
    }
  });

  it('serves both when TLS is allowed', async () => {
    const w = await startWireServer({ tls: { cert: tls.cert, key: tls.key, policy: 'allow' } });
    try {
      expect(await login(w, tlsClient(tls.certFile))).toMatchObject({ ok: true });
      expect(await login(w, {})).toMatchObject({ ok: true });
      expect(await login(w, tlsClient(tls.certFile, 'CS_NEG_REFUSE'))).toMatchObject({ ok: true });
    } finally {
      await w.stop();
    }
  });

  it('a client that stalls in the TLS handshake neither holds the server open nor outlives the login bound', async () => {
    const w = await startWireServer({ tls: { cert: tls.cert, key: tls.key, policy: 'require' }, limits: { loginTimeoutMs: 1000 } });
    const stall = async (): Promise<RawClient> => {
      const c = await rawClient(w.port);
      c.send('RODS_CONNECT', { body: STARTUP('rods', w.zone, { option: ';request_server_negotiation' }) });
      expect(text((await c.reply()).body, 'result')).toBe('CS_NEG_REQUIRE');
      c.send('RODS_CS_NEG_T', { body: { name: 'CS_NEG_PI', fields: { status: 1, result: 'cs_neg_result_kw=CS_NEG_USE_SSL;' } } });
      expect((await c.reply()).type).toBe('RODS_VERSION');
      return c;
    };
    try {
      const timedOut = await stall();
      const started = Date.now();
      await timedOut.closed;
      expect(Date.now() - started).toBeLessThan(5000);
      const stalled = await stall();
      const closing = Date.now();
      await w.server.close();
      await stalled.closed;
      expect(Date.now() - closing).toBeLessThan(900);
    } finally {
      await w.stop();
    }
  });

  it('without a certificate, a client requiring TLS is refused in the negotiation', async () => {
    const w = await startWireServer();
    try {
      expect(await login(w, tlsClient(tls.certFile))).toMatchObject({ ok: false, error: 'NetworkException' });
      expect(await login(w, tlsClient(tls.certFile, 'CS_NEG_REFUSE'))).toMatchObject({ ok: true });
    } finally {
      await w.stop();
    }
  });
});
