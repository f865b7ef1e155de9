/** The protocol server's settings: defaults, addresses, and TLS settings checked together. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseListen } from '../../src/config.js';

describe('protocol server settings', () => {
  it('listens on loopback port 1247 without TLS by default', () => {
    const c = loadConfig({});
    expect(c.irodsListen).toEqual({ host: '127.0.0.1', port: 1247 });
    expect(c).toMatchObject({ irodsTls: 'refuse', irodsTlsCert: undefined, irodsIdleTimeout: 900, irodsMaxConnections: 200 });
  });

  it('reads HOST:PORT, [IPv6]:PORT and off', () => {
    expect(parseListen('X', '0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('X', '[::1]:1247')).toEqual({ host: '::1', port: 1247 });
    expect(parseListen('X', 'localhost:2000')).toEqual({ host: 'localhost', port: 2000 });
    expect(parseListen('X', 'OFF')).toBeNull();
    expect(loadConfig({ TASKFLOW_IRODS_LISTEN: 'off' }).irodsListen).toBeNull();
    for (const bad of ['1247', 'host:', ':1247', 'host:70000', '::1:1247', 'a:b']) {
      expect(() => loadConfig({ TASKFLOW_IRODS_LISTEN: bad }), bad).toThrow(/TASKFLOW_IRODS_LISTEN/);
    }
  });

  it('allows TLS when a certificate and key are given, and refuses policies it cannot keep', () => {
    const files = { TASKFLOW_IRODS_TLS_CERT: '/c.pem', TASKFLOW_IRODS_TLS_KEY: '/k.pem' };
    expect(loadConfig(files).irodsTls).toBe('allow');
    expect(loadConfig({ ...files, TASKFLOW_IRODS_TLS: 'require' }).irodsTls).toBe('require');
    expect(loadConfig({ ...files, TASKFLOW_IRODS_TLS: 'refuse' }).irodsTls).toBe('refuse');
    expect(() => loadConfig({ TASKFLOW_IRODS_TLS: 'require' })).toThrow(/require needs a certificate/);
    expect(() => loadConfig({ TASKFLOW_IRODS_TLS_CERT: '/c.pem' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...files, TASKFLOW_IRODS_TLS: 'maybe' })).toThrow(/refuse, allow or require/);
    expect(() => loadConfig({ TASKFLOW_IRODS_MAX_CONNECTIONS: '0' })).toThrow(/TASKFLOW_IRODS_MAX_CONNECTIONS/);
  });

  it('bounds data objects at 1 TiB unless TASKFLOW_IRODS_MAX_OBJECT_BYTES says otherwise (whole bytes, at least 1)', () => {
    expect(loadConfig({}).irodsMaxObjectBytes).toBe(2 ** 40);
    expect(loadConfig({ TASKFLOW_IRODS_MAX_OBJECT_BYTES: String(16 * 2 ** 40) }).irodsMaxObjectBytes).toBe(16 * 2 ** 40);
    for (const bad of ['0', '1.5', 'big', String(2 ** 53)]) {
      expect(() => loadConfig({ TASKFLOW_IRODS_MAX_OBJECT_BYTES: bad }), bad).toThrow(/TASKFLOW_IRODS_MAX_OBJECT_BYTES/);
    }
  });

  it('gives specific queries 30 s unless TASKFLOW_IRODS_QUERY_TIMEOUT says otherwise (whole seconds, at least 1)', () => {
    expect(loadConfig({}).irodsQueryTimeout).toBe(30);
    expect(loadConfig({ TASKFLOW_IRODS_QUERY_TIMEOUT: '5' }).irodsQueryTimeout).toBe(5);
    for (const bad of ['0', '1.5', 'soon']) expect(() => loadConfig({ TASKFLOW_IRODS_QUERY_TIMEOUT: bad }), bad).toThrow(/TASKFLOW_IRODS_QUERY_TIMEOUT/);
  });

  it('refuses idle and query timeouts longer than a timer can wait (2147483 s), naming the setting and the bound', () => {
    for (const name of ['TASKFLOW_IRODS_IDLE_TIMEOUT', 'TASKFLOW_IRODS_QUERY_TIMEOUT']) {
      // 30 days: as a timer of that many milliseconds, Node.js would fire it after 1 ms
      expect(() => loadConfig({ [name]: String(30 * 24 * 3600) }), name).toThrow(new RegExp(`${name}: must be at most 2147483\\b`));
      expect(() => loadConfig({ [name]: '2147483' }), name).not.toThrow();
    }
    expect(2147483 * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
