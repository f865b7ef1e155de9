import { describe, expect, it } from 'vitest';
import { ConfigError, loadBackendSettings, loadConfig } from '../src/config.js';

describe('config', () => {
  it('uses the seed defaults', () => {
    const s = loadBackendSettings({});
    expect(s.backendHost).toBe('http://0.0.0.0');
    expect(s.backendPort).toBe(5005);
    expect(s.sodarSecret).toBe('CHANGE ME!');
    expect(s.targets).toEqual(['sodar', 'irods']);
    expect(s.testMode).toBe(false);
  });

  it('names the setting when a value is bad', () => {
    expect(() => loadBackendSettings({ TASKFLOW_BACKEND_PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadBackendSettings({ TASKFLOW_BACKEND_PORT: 'abc' })).toThrow(/TASKFLOW_BACKEND_PORT/);
    expect(() => loadConfig({ TASKFLOW_TEST_MODE: 'maybe' })).toThrow(/TASKFLOW_TEST_MODE/);
    expect(() => loadConfig({ TASKFLOW_LOCK_RETRY_INTERVAL: '-1' })).toThrow(/TASKFLOW_LOCK_RETRY_INTERVAL/);
  });

  it('refuses a time that would become a timer longer than Node.js can wait, naming the setting and the bound', () => {
    // 30 days: as a timer of that many milliseconds, Node.js would fire it after 1 ms
    for (const name of ['TASKFLOW_LOCK_LEASE', 'TASKFLOW_LOCK_RETRY_INTERVAL', 'TASKFLOW_ZONE_PROGRESS_INTERVAL']) {
      expect(() => loadConfig({ [name]: String(30 * 24 * 3600) }), name).toThrow(new RegExp(`${name}: must be at most 2147483\\b`));
      expect(() => loadConfig({ [name]: '2147483' }), name).not.toThrow();
    }
    for (const name of ['TASKFLOW_SITE_TIMEOUT', 'TASKFLOW_BACKEND_TIMEOUT']) {
      expect(() => loadConfig({ [name]: String(30 * 24 * 3600 * 1000) }), name).toThrow(new RegExp(`${name}: must be at most 2147483647\\b`));
      expect(() => loadConfig({ [name]: '2147483647' }), name).not.toThrow();
    }
  });

  it('reads lists, booleans and floats', () => {
    const c = loadConfig({ TASKFLOW_TARGETS: 'irods, ,sodar', TASKFLOW_TEST_MODE: 'TRUE', TASKFLOW_LOCK_RETRY_INTERVAL: '0.05' });
    expect(c.targets).toEqual(['irods', 'sodar']);
    expect(c.testMode).toBe(true);
    expect(c.lockRetryInterval).toBe(0.05);
  });

  it('bounds the bytes a small object keeps in the catalog: 64 KiB by default, 0 for none, at most 1 MiB', () => {
    expect(loadConfig({}).storeInlineMax).toBe(64 * 1024);
    expect(loadConfig({ TASKFLOW_STORE_INLINE_MAX: '0' }).storeInlineMax).toBe(0);
    expect(() => loadConfig({ TASKFLOW_STORE_INLINE_MAX: String(1024 * 1024 + 1) })).toThrow(/TASKFLOW_STORE_INLINE_MAX/);
    expect(() => loadConfig({ TASKFLOW_STORE_INLINE_MAX: '-1' })).toThrow(/TASKFLOW_STORE_INLINE_MAX/);
  });
});
