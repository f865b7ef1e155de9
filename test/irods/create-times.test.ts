/**
 * Create times of data objects and collections, as iRODS 4.2.12 keeps
 * `create_ts` (schema.ts addEntryCreateTimes): set when the entry is made,
 * then left alone by an overwrite, a rename, a touch. Read back through
 * GenQuery (DATA_CREATE_TIME 419, COLL_CREATE_TIME 508) and a stat (633,
 * createTime) by python-irodsclient 0.8.1 (client_ops.py `times`). Entry
 * times come from the wall clock, so the test sets a made entry's create
 * time back through the catalog and then checks that what the client does
 * keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { clientOp, labelledOps, rawCalls, requireIrodsClient, type IrodsAccount } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';

const HOME = `/${TEST_ZONE}/home/alice`;
/** 1990-01-01 00:00:00 UTC: a create time no step of the test could give. */
const T1990 = 631152000;
const iso = (sec: number) => new Date(sec * 1000).toISOString();
const now = () => Math.floor(Date.now() / 1000);

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let inspect: EmbeddedStore;

/** Create and modify time of `path` (kind d or c) as GenQuery and a stat answer them. */
async function timesOf(path: string, kind: 'd' | 'c'): Promise<{ query: number[][]; stat: number[] }> {
  const r = await clientOp(alice, { op: 'times', path, kind });
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  return (r as { value: { query: number[][]; stat: number[] } }).value;
}

/** Sets the catalog's create time of `path` (null: a row from before the store kept them). */
function setCreated(path: string, created: string | null): void {
  const changed = inspect.protocolCore().db.prepare('UPDATE entries SET created = ? WHERE path = ?').run(created, path).changes;
  expect(changed, path).toBe(1);
}

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, inspect } = await startAliceAndBob());
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
});

describe('create times', { timeout: 120_000 }, () => {
  it('a new object and collection are made when they are modified', async () => {
    const before = now();
    const made = await labelledOps(alice, { obj: { op: 'write', path: `${HOME}/new.txt`, content: 'n' }, coll: { op: 'mkdir', path: `${HOME}/newcoll` } });
    expect(Object.values(made).every((r) => r.ok)).toBe(true);
    for (const [path, kind] of [[`${HOME}/new.txt`, 'd'], [`${HOME}/newcoll`, 'c']] as const) {
      const t = await timesOf(path, kind);
      const [create, modify] = t.stat;
      expect(create).toBe(modify);
      expect(create).toBeGreaterThanOrEqual(before);
      expect(t.query).toEqual([t.stat]);
    }
  });

  it('an overwrite, a rename and a touch change the modify time only', async () => {
    const obj = `${HOME}/kept.txt`;
    const coll = `${HOME}/keptcoll`;
    const made = await labelledOps(alice, { obj: { op: 'write', path: obj, content: 'first' }, coll: { op: 'mkdir', path: coll } });
    expect(Object.values(made).every((r) => r.ok)).toBe(true);
    setCreated(obj, iso(T1990));
    setCreated(coll, iso(T1990));

    const before = now();
    expect(await clientOp(alice, { op: 'write', path: obj, content: 'second, longer' })).toMatchObject({ ok: true });
    const overwritten = await timesOf(obj, 'd');
    expect(overwritten.stat[0]).toBe(T1990);
    expect(overwritten.stat[1]).toBeGreaterThanOrEqual(before);
    expect(overwritten.query).toEqual([overwritten.stat]);

    const moved = `${coll}/moved.txt`;
    expect(await clientOp(alice, { op: 'rename', path: obj, dest: moved })).toMatchObject({ ok: true });
    expect((await timesOf(moved, 'd')).stat[0]).toBe(T1990);

    const touched = await rawCalls(alice, [
      { call: 'json_api', api: 20007, json: { logical_path: moved, options: { seconds_since_epoch: 1_000_000_000 } } },
      { call: 'json_api', api: 20007, json: { logical_path: coll, options: { seconds_since_epoch: 1_000_000_000 } } },
    ]);
    expect(touched).toEqual([
      { ok: true, value: null },
      { ok: true, value: null },
    ]);
    expect(await timesOf(moved, 'd')).toEqual({ query: [[T1990, 1_000_000_000]], stat: [T1990, 1_000_000_000] });
    expect(await timesOf(coll, 'c')).toEqual({ query: [[T1990, 1_000_000_000]], stat: [T1990, 1_000_000_000] });
  });

  it('an entry from a catalog older than create times reads its modify time as made', async () => {
    const path = `${HOME}/old.txt`;
    expect(await clientOp(alice, { op: 'write', path, content: 'old' })).toMatchObject({ ok: true });
    setCreated(path, null);
    expect(await rawCalls(alice, [{ call: 'json_api', api: 20007, json: { logical_path: path, options: { seconds_since_epoch: 1234 } } }])).toEqual([
      { ok: true, value: null },
    ]);
    expect(await timesOf(path, 'd')).toEqual({ query: [[1234, 1234]], stat: [1234, 1234] });
  });
});
