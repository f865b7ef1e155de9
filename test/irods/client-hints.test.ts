/**
 * Client hints (CLIENT_HINTS_AN 10215, iRODS 4.2.12 `rsClientHints.cpp`):
 * sent as python-irodsclient 3.3.0's `session.client_hints` sends it (an API
 * request without a body), built from 0.8.1's message classes, and read as
 * 3.3.0 reads it (the text of `buf` in `BytesBuf_PI`, as JSON).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';

const HINTS = `${CLIENT_PRELUDE}
import json
import xml.etree.ElementTree as ET
from irods.message import iRODSMessage
def hints(user, password):
    s = session(user, password)
    with s.pool.get_connection() as conn:
        conn.send(iRODSMessage('RODS_API_REQ', int_info=10215))
        reply = conn.recv()
    s.cleanup()
    xml = ET.fromstring(reply.msg.replace(b'\\0', b''))
    text = xml.find('buf').text
    return {'tag': xml.tag, 'buflen': int(xml.find('buflen').text), 'bytes': len(text.encode()), 'text': text, 'hints': json.loads(text)}
`;

describe('client hints (10215)', () => {
  let w: WireServer;
  beforeAll(async () => {
    w = await startWireServer();
    await w.store.createPrincipal('alice', 'rodsuser');
    w.store.setPassword('alice', 'alice-pw');
  });
  afterAll(async () => w?.stop());

  it('answers the hints of iRODS 4.2.12 as nlohmann dumps them: MD5, strict ACLs, no rules, the plugins served, the specific queries `ls` lists', async () => {
    const out = await clientScript(w, `${HINTS}print(json.dumps({'rods': hints('rods', 'rods-pw'), 'alice': hints('alice', 'alice-pw')}))`);
    const { rods, alice } = out as Record<string, { tag: string; buflen: number; bytes: number; text: string; hints: Record<string, unknown> }>;
    expect(rods!.tag).toBe('BytesBuf_PI');
    expect(rods!.buflen).toBe(rods!.bytes);
    expect(Object.keys(rods!.hints)).toEqual(['hash_scheme', 'match_hash_policy', 'plugins', 'rules', 'specific_queries', 'strict_acls']);
    expect(rods!.text).toContain('\n    "hash_scheme": "MD5",\n');
    expect(rods!.hints).toMatchObject({ hash_scheme: 'MD5', match_hash_policy: 'compatible', rules: [], strict_acls: 'on' });
    expect(rods!.hints.specific_queries).toEqual(expect.arrayContaining(['ls', 'lsl', 'ShowCollAcls']));
    const plugins = rods!.hints.plugins as Array<{ name: string; type: string; version: string; checksum_sha256: string }>;
    expect(plugins).toContainEqual({ name: 'unixfilesystem', type: 'resource', version: '', checksum_sha256: '' });
    expect(plugins).toContainEqual({ name: 'native_server', type: 'authentication', version: '', checksum_sha256: '' });
    // every API plugin served, by its library target, and no other
    expect(plugins.filter((p) => p.type === 'api' && p.name.endsWith('_server')).map((p) => p.name)).toEqual([
      'irods_atomic_apply_metadata_operations_server',
      'irods_get_file_descriptor_info_server',
      'irods_replica_close_server',
      'irods_touch_server',
    ]);
    expect(plugins.some((p) => p.type === 'database')).toBe(false);
    // any logged-in user may ask, and sees the same
    expect(alice!.hints).toEqual(rods!.hints);
  });

  it('lists a specific query once registered and lists none once `ls` is gone', async () => {
    w.store.addSpecificQuery('select user_name from R_USER_MAIN', 'userNames');
    let out = await clientScript(w, `${HINTS}print(json.dumps(hints('alice', 'alice-pw')['hints']))`);
    expect(out.specific_queries).toContain('userNames');
    w.store.removeSpecificQuery('ls');
    out = await clientScript(w, `${HINTS}print(json.dumps(hints('alice', 'alice-pw')['hints']))`);
    expect(out.specific_queries).toEqual([]);
  });
});
