/**
 * Atomic metadata operations (ATOMIC_APPLY_METADATA_OPERATIONS_APN 20002),
 * as python-irodsclient 1.1 and later send them for
 * `metadata.apply_atomic_operations` (JSON in BinBytesBuf_PI; 0.8.1 has no
 * such call, so parallel_transfer.py sends the request). The server's facts
 * are in src/irods/api/atomic-metadata.ts. Every refusal is checked to
 * leave the whole store as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { labelledOps, rawCalls, requireIrodsClient, type IrodsAccount, type RawCallResult } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { storeState } from '../support/store-helpers.js';

const Z = TEST_ZONE;
const HOME = `/${Z}/home/alice`;
const API = 20002;

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
let inspect: EmbeddedStore;

/** One batch as `who` sends it; `raw` replaces the JSON text. */
async function batch(who: IrodsAccount, input: unknown, raw?: string): Promise<RawCallResult> {
  return (await rawCalls(who, [{ call: 'json_api', api: API, json: input, raw }]))[0]!;
}

const ops = (...list: Array<[string, string, string, string?]>) =>
  list.map(([operation, attribute, value, units]) => ({ operation, attribute, value, ...(units === undefined ? {} : { units }) }));

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, bob, inspect } = await startAliceAndBob());
  const setup = await labelledOps(alice, {
    obj: { op: 'write', path: `${HOME}/a.txt`, content: 'a' },
    meta: { op: 'meta_add', kind: 'd', path: `${HOME}/a.txt`, attribute: 'kept', value: '1' },
  });
  expect(Object.values(setup).every((r) => r.ok)).toBe(true);
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
});

describe('atomic metadata operations (20002)', { timeout: 120_000 }, () => {
  it('adds and removes in order, in one transaction, answering {}; adding what is there or removing what is not changes nothing', async () => {
    const r = await batch(alice, {
      entity_name: `${HOME}/a.txt`,
      entity_type: 'data_object',
      operations: ops(['add', 'x', '1'], ['add', 'y', '2', 'cm'], ['add', 'x', '1'], ['remove', 'kept', '1'], ['remove', 'never', 'there']),
    });
    expect(r).toEqual({ ok: true, value: {} });
    expect(await inspect.getMetadata(`${HOME}/a.txt`)).toEqual([
      { attribute: 'x', value: '1', unit: '' },
      { attribute: 'y', value: '2', unit: 'cm' },
    ]);
    const coll = await batch(alice, { entity_name: HOME, entity_type: 'collection', operations: ops(['add', 'project', 'p1']) });
    expect(coll).toEqual({ ok: true, value: {} });
    expect(await inspect.getMetadata(HOME)).toEqual([{ attribute: 'project', value: 'p1', unit: '' }]);
  });

  it('refuses a bad batch whole, with the codes of the real plugin, and changes nothing', async () => {
    const before = await storeState(inspect);
    const item = { entity_name: `${HOME}/a.txt`, entity_type: 'data_object' };
    const cases: Array<[unknown, number, string?]> = [
      [undefined, IRODS_ERRORS.INPUT_ARG_NOT_WELL_FORMED_ERR, '{"entity_name": '],
      [{ entity_type: 'data_object', operations: [] }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ ...item, entity_type: 'zone', operations: [] }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ ...item, entity_name: `${HOME}/missing`, operations: [] }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ ...item, entity_type: 'collection', operations: [] }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ ...item }, IRODS_ERRORS.JSON_VALIDATION_ERROR],
      // the bad operation comes after good ones: none of them is applied
      [{ ...item, operations: [...ops(['add', 'new', '1']), { operation: 'add', attribute: 'v' }] }, IRODS_ERRORS.JSON_VALIDATION_ERROR],
      [{ ...item, operations: ops(['add', 'new', '1'], ['add', '', '1']) }, IRODS_ERRORS.SYS_INVALID_INPUT_PARAM],
      [{ ...item, operations: ops(['add', 'new', '1'], ['set', 'new', '2']) }, IRODS_ERRORS.INVALID_OPERATION],
      [{ ...item, operations: [{ attribute: 'a', value: 'b' }] }, IRODS_ERRORS.JSON_VALIDATION_ERROR],
      [{ ...item, operations: [{ operation: 'add', attribute: 'a', value: 7 }] }, IRODS_ERRORS.JSON_VALIDATION_ERROR],
      [{ entity_name: 'rods', entity_type: 'user', operations: ops(['add', 'a', 'b']) }, IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION],
      [{ ...item, admin_mode: true, operations: ops(['add', 'a', 'b']) }, IRODS_ERRORS.CAT_INSUFFICIENT_PRIVILEGE_LEVEL],
    ];
    for (const [input, code, raw] of cases) {
      const r = await batch(alice, input, raw);
      expect(r, JSON.stringify(input ?? raw)).toMatchObject({ ok: false, code });
      // beside the code, the error object the real plugin answers, which newer clients read
      expect((r as { body?: unknown }).body, JSON.stringify(input ?? raw)).toMatchObject({ operation_index: expect.any(Number), error_message: expect.any(String) });
    }
    expect(await storeState(inspect)).toEqual(before);
  });

  it('names the failing operation and its index in the error object, and a missing item as the real plugin does', async () => {
    const bad = { operation: 'add', attribute: '', value: 'v' };
    const r = await batch(alice, { entity_name: `${HOME}/a.txt`, entity_type: 'data_object', operations: [...ops(['add', 'ok', '1']), bad] });
    expect(r).toMatchObject({ ok: false, code: IRODS_ERRORS.SYS_INVALID_INPUT_PARAM, body: { operation: bad, operation_index: 1 } });
    // python-irodsclient 3.3.0 meta_test.py test_atomic_metadata_json_error__issue_606 looks for this text
    const missing = await batch(alice, { entity_name: `${HOME}/gone`, entity_type: 'data_object', operations: ops(['add', 'a', 'b', 'c']) });
    expect(missing).toMatchObject({ ok: false, body: { operation: {}, operation_index: 0 } });
    expect((missing as { body: { error_message: string } }).body.error_message).toContain(`Entity does not exist [entity_name=${HOME}/gone]`);
  });

  it('needs write on the item: bob cannot see alice\'s object, and read is not enough; a rodsadmin may use admin_mode', async () => {
    const before = await storeState(inspect);
    const input = { entity_name: `${HOME}/a.txt`, entity_type: 'data_object', operations: ops(['add', 'by', 'bob']) };
    expect(await batch(bob, input)).toMatchObject({ ok: false, code: IRODS_ERRORS.SYS_INVALID_INPUT_PARAM });
    const granted = await labelledOps(alice, { read: { op: 'chmod', path: `${HOME}/a.txt`, level: 'read', user: 'bob' } });
    expect(granted.read).toMatchObject({ ok: true });
    const afterGrant = await storeState(inspect);
    expect(await batch(bob, input)).toMatchObject({ ok: false, code: IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION });
    expect(await storeState(inspect)).toEqual(afterGrant);
    expect(afterGrant).not.toEqual(before);
    expect(await batch(server!.admin, { ...input, admin_mode: true, operations: ops(['add', 'by', 'rods']) })).toEqual({ ok: true, value: {} });
    expect(await inspect.getMetadata(`${HOME}/a.txt`)).toContainEqual({ attribute: 'by', value: 'rods', unit: '' });
  });
});
