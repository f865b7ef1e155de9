/**
 * AVU times as iRODS 4.2.12 keeps them (schema.ts addAvuTimes), read through
 * GenQuery (META_DATA_CREATE_TIME 604 / MODIFY 605, META_COLL_* 614/615) by
 * python-irodsclient 0.8.1 over a real socket: add, set, rm, cp (706) and
 * the atomic API (20002), the meta row shared by equal AVUs, and a catalog
 * from before the times. The store's clock is the test's.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { rawCalls } from '../support/irods-client.js';
import { tempStore } from '../support/store-helpers.js';
import { lastJson, runPython, startWireServer, type WireServer } from './support/wire-server.js';

const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const T0 = 1_700_000_000;

let w: WireServer;
let clock = T0;
const ts = (sec: number) => String(sec).padStart(11, '0');

/** Runs `body` as alice with the store's clock at `sec`; `out(...)` prints its JSON result. */
async function py<T = unknown>(sec: number, body: string): Promise<T> {
  clock = sec;
  const script = `
from irods.session import iRODSSession
from irods.models import Collection, DataObject, DataObjectMeta, CollectionMeta, ModelBase
from irods.meta import iRODSMeta
from irods.column import Column, String
a = ARGS
def out(x):
    print(json.dumps(x, default=str))
DC, DM = Column(String, 'META_DATA_CREATE_TIME', 604), Column(String, 'META_DATA_MODIFY_TIME', 605)
CC, CM = Column(String, 'META_COLL_CREATE_TIME', 614), Column(String, 'META_COLL_MODIFY_TIME', 615)
# 0.8.1's models lack the metadata time columns: known to its result decoding as its models' columns are
for c in (DC, DM, CC, CM):
    ModelBase.columns[c.icat_id] = c
def times(name):
    q = s.query(DataObjectMeta.name, DataObjectMeta.value, DataObjectMeta.units, DC, DM).filter(Collection.name == '${HOME}').filter(DataObject.name == name)
    return sorted([r[DataObjectMeta.name], r[DataObjectMeta.value], r[DataObjectMeta.units] or '', r[DC], r[DM]] for r in q)
s = iRODSSession(host='127.0.0.1', port=a['port'], user='alice', password='alice-pw', zone='testZone')
try:
${body
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
finally:
    s.cleanup()
`;
  const r = await runPython(script, { port: w.port }, 120_000);
  if (r.code !== 0) throw new Error(`python failed (${r.code}):\n${r.stderr}`);
  return lastJson<T>(r.stdout);
}

const times = (sec: number, name: string) => py<string[][]>(sec, `out(times('${name}'))`);
const meta = (sec: number, call: string) => py(sec, `${call}\nout(0)`);
const avu = (a: string, v: string, u = '') => `iRODSMeta('${a}', '${v}'${u ? `, '${u}'` : ''})`;

beforeAll(async () => {
  w = await startWireServer({}, { clock: () => clock * 1000 });
  await w.store.createPrincipal('alice', 'rodsuser');
  w.store.setPassword('alice', 'alice-pw');
  await w.store.createCollection(HOME, { parents: true, owner: 'alice' });
  await w.store.setAccess(HOME, 'alice', 'own');
  for (const n of ['a', 'b', 'c', 'd', 'e']) await w.store.putObject(`${HOME}/${n}`, Readable.from([n]), { owner: 'alice' });
}, 120_000);

afterAll(async () => w?.stop());

describe('AVU times through GenQuery', { timeout: 120_000 }, () => {
  it('gives a new AVU the time it was added; the same AVU added to another item keeps its meta row: the first time', async () => {
    await meta(T0 + 10, `s.metadata.add(DataObject, '${HOME}/a', ${avu('shared', '1', 'u')})`);
    await meta(T0 + 20, `s.metadata.add(DataObject, '${HOME}/b', ${avu('shared', '1', 'u')})\ns.metadata.add(DataObject, '${HOME}/b', ${avu('own', '2')})`);
    expect(await times(T0 + 30, 'a')).toEqual([['shared', '1', 'u', ts(T0 + 10), ts(T0 + 10)]]);
    expect(await times(T0 + 30, 'b')).toEqual([
      ['own', '2', '', ts(T0 + 20), ts(T0 + 20)],
      ['shared', '1', 'u', ts(T0 + 10), ts(T0 + 10)],
    ]);
    // R_OBJT_METAMAP's own times are when each item got it
    const linked = w.store.protocolCore().db.prepare<[], { path: string; linked: string }>(
      `SELECT e.path, a.linked FROM avus a JOIN entries e ON e.id = a.entry_id WHERE a.attribute = 'shared' ORDER BY e.path`,
    ).all();
    expect(linked).toEqual([{ path: `${HOME}/a`, linked: ts(T0 + 10) }, { path: `${HOME}/b`, linked: ts(T0 + 20) }]);
  });

  it('set changes the only, unshared AVU of the attribute in place: create time kept, modify time now (python-irodsclient 3.3.0 test_timestamp_access_386)', async () => {
    await meta(T0 + 100, `s.metadata.set(DataObject, '${HOME}/c', ${avu('use_ts', 'val', 'u1')})`);
    await meta(T0 + 103, `s.metadata.set(DataObject, '${HOME}/c', ${avu('use_ts', 'val', 'u2')})`);
    expect(await times(T0 + 110, 'c')).toEqual([['use_ts', 'val', 'u2', ts(T0 + 100), ts(T0 + 103)]]);
    // shared with another item: the link goes, the new AVU is a meta row of its own (or an existing one)
    await meta(T0 + 120, `s.metadata.add(DataObject, '${HOME}/d', ${avu('use_ts', 'val', 'u2')})`);
    await meta(T0 + 130, `s.metadata.set(DataObject, '${HOME}/c', ${avu('use_ts', 'new')})`);
    expect(await times(T0 + 140, 'c')).toEqual([['use_ts', 'new', '', ts(T0 + 130), ts(T0 + 130)]]);
    expect(await times(T0 + 140, 'd')).toEqual([['use_ts', 'val', 'u2', ts(T0 + 100), ts(T0 + 103)]]);
  });

  it('rm leaves the meta row: adding the AVU again brings its times back, until rm unusedAVUs', async () => {
    await meta(T0 + 200, `s.metadata.add(DataObject, '${HOME}/e', ${avu('gone', '1')})`);
    await meta(T0 + 210, `s.metadata.remove(DataObject, '${HOME}/e', ${avu('gone', '1')})`);
    await meta(T0 + 220, `s.metadata.add(DataObject, '${HOME}/e', ${avu('gone', '1')})`);
    expect(await times(T0 + 230, 'e')).toEqual([['gone', '1', '', ts(T0 + 200), ts(T0 + 200)]]);
    await meta(T0 + 240, `s.metadata.remove(DataObject, '${HOME}/e', ${avu('gone', '1')})`);
    await w.store.removeUnusedAvus();
    await meta(T0 + 250, `s.metadata.add(DataObject, '${HOME}/e', ${avu('gone', '1')})`);
    expect(await times(T0 + 260, 'e')).toEqual([['gone', '1', '', ts(T0 + 250), ts(T0 + 250)]]);
  });

  it('cp links the target to the source meta rows: their times; collection AVUs answer 614/615', async () => {
    await meta(T0 + 300, `s.metadata.add(Collection, '${HOME}', ${avu('coll', 'x')})`);
    await meta(T0 + 310, `s.metadata.copy(Collection, DataObject, '${HOME}', '${HOME}/e')`);
    expect((await times(T0 + 320, 'e')).find((r) => r[0] === 'coll')).toEqual(['coll', 'x', '', ts(T0 + 300), ts(T0 + 300)]);
    const coll = await py<string[][]>(
      T0 + 320,
      `out([[r[CollectionMeta.name], r[CC], r[CM]] for r in s.query(CollectionMeta.name, CC, CM).filter(Collection.name == '${HOME}')])`,
    );
    expect(coll).toEqual([['coll', ts(T0 + 300), ts(T0 + 300)]]);
  });

  it('the atomic API (20002) adds with the shared meta row times and removes leaving the row', async () => {
    const account = { host: '127.0.0.1', port: w.port, zone: 'testZone', user: 'alice', password: 'alice-pw' };
    const batch = async (sec: number, operations: unknown[]) => {
      clock = sec;
      const [r] = await rawCalls(account, [{ call: 'json_api', api: 20002, json: { entity_name: `${HOME}/d`, entity_type: 'data_object', operations } }]);
      expect(r).toEqual({ ok: true, value: {} });
    };
    await batch(T0 + 400, [
      { operation: 'add', attribute: 'shared', value: '1', units: 'u' },
      { operation: 'add', attribute: 'fresh', value: 'f' },
    ]);
    const d = await times(T0 + 410, 'd');
    expect(d.find((r) => r[0] === 'shared')).toEqual(['shared', '1', 'u', ts(T0 + 10), ts(T0 + 10)]);
    expect(d.find((r) => r[0] === 'fresh')).toEqual(['fresh', 'f', '', ts(T0 + 400), ts(T0 + 400)]);
    await batch(T0 + 420, [{ operation: 'remove', attribute: 'fresh', value: 'f' }]);
    await batch(T0 + 430, [{ operation: 'add', attribute: 'fresh', value: 'f' }]);
    expect((await times(T0 + 440, 'd')).find((r) => r[0] === 'fresh')).toEqual(['fresh', 'f', '', ts(T0 + 400), ts(T0 + 400)]);
  });
});

describe('a catalog from before AVU times', () => {
  it('gains the columns at its next open: each AVU the earliest modify time of the items holding it; the dump leaves times out', async () => {
    const core = w.store.protocolCore();
    const before = await w.store.dump();
    core.db.exec(`UPDATE entries SET modified = '2020-01-02T03:04:05.000Z' WHERE path = '${HOME}/a'`);
    core.db.exec(`UPDATE entries SET modified = '2021-01-02T03:04:05.000Z' WHERE path = '${HOME}/b'`);
    core.db.exec(
      'DROP TRIGGER avus_unlinked; DROP TRIGGER avus_relinked; DROP TABLE avu_unused; DROP INDEX avus_avu; ' +
        'ALTER TABLE avus DROP COLUMN created; ALTER TABLE avus DROP COLUMN modified; ALTER TABLE avus DROP COLUMN linked',
    );
    const reopened = EmbeddedStore.open({ dataDir: w.store.dataDir, zone: 'testZone', hashWorkers: 1 });
    try {
      const rows = reopened.protocolCore().db.prepare<[], { path: string; created: string; modified: string; linked: string }>(
        `SELECT e.path, a.created, a.modified, a.linked FROM avus a JOIN entries e ON e.id = a.entry_id WHERE a.attribute = 'shared' ORDER BY e.path`,
      ).all();
      const y2020 = ts(Date.parse('2020-01-02T03:04:05Z') / 1000);
      const y2021 = ts(Date.parse('2021-01-02T03:04:05Z') / 1000);
      expect(rows.slice(0, 2)).toEqual([
        { path: `${HOME}/a`, created: y2020, modified: y2020, linked: y2020 },
        { path: `${HOME}/b`, created: y2020, modified: y2020, linked: y2021 },
      ]);
      expect(await reopened.dump()).toEqual(before);
    } finally {
      await reopened.close();
    }
  });
});

describe('the cost of an add', () => {
  it("takes the times of one row of the AVU's triple, not of all its rows in order: an add does not grow with the items that hold the AVU", async () => {
    const t = tempStore();
    try {
      const core = t.store.protocolCore();
      const params = { id: 1, attribute: 'kind', value: 'even', unit: '', now: ts(T0) };
      const plan = (core.db.prepare(`EXPLAIN QUERY PLAN ${core.q.insertAvu.source}`).all(params) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
      expect(plan).toMatch(/SEARCH avus USING (COVERING )?INDEX avus_avu \(attribute=\? AND value=\? AND unit=\?\)/);
      // a sort would read every row of the triple
      expect(plan).not.toMatch(/TEMP B-TREE/);
    } finally {
      await t.cleanup();
    }
  });
});
