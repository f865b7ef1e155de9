/**
 * Parallel transfers as python-irodsclient 0.9 and later make them for
 * objects over 32 MiB against a server of 4.2.9 or later (this one reports
 * 4.2.12): several connections on one object, joined by the replica token
 * of the descriptor info (API 20000), closed with replica close (20004).
 * Debian's 0.8.1 has no parallel transfer, so `parallel_transfer.py` makes
 * its requests from 0.8.1's message classes, with the facts of 1.1.9 and
 * 3.3.0 written in it; src/irods/objects/replica-access.ts has the server's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { parallelTransferScript, rawCalls, requireIrodsClient, type IrodsAccount } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { readAll, storeState } from '../support/store-helpers.js';
import { waitFor } from '../support/service-wait.js';

const readObject = async (path: string): Promise<Buffer> => readAll(await inspect.getObject(path));

const Z = TEST_ZONE;
const HOME = `/${Z}/home/alice`;
const O = { RDONLY: 0, WRONLY: 1, CREAT: 64, TRUNC: 512 } as const;
/** Over python-irodsclient's 32 MiB threshold, and not a multiple of the part size. */
const BIG = 33 * 1024 * 1024 + 12345;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
let inspect: EmbeddedStore;
let dir: string;
let bigFile: string;
let bigBytes: Buffer;

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, bob, inspect } = await startAliceAndBob());
  dir = mkdtempSync(join(tmpdir(), 'parallel-transfer-'));
  bigFile = join(dir, 'big.bin');
  bigBytes = randomBytes(BIG);
  writeFileSync(bigFile, bigBytes);
  await inspect.putObject(`${HOME}/big.bin`, bigFile, { owner: 'alice' });
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('parallel get (descriptor info 20000, replica close 20004)', { timeout: 180_000 }, () => {
  it('moves an object over 32 MiB in four ranges on four connections, byte for byte', async () => {
    const local = join(dir, 'got.bin');
    const out = await parallelTransferScript(alice, { action: 'get', path: `${HOME}/big.bin`, local, threads: 4 });
    expect(out).toMatchObject({ ok: true, token: '', hier: 'demoResc', bytes: BIG });
    expect(md5(readFileSync(local))).toBe(md5(bigBytes));
    const row = inspect.protocolCore().row(`${HOME}/big.bin`)!;
    expect((out.info as Record<string, unknown>).data_object_info).toMatchObject({
      object_path: `${HOME}/big.bin`,
      data_id: row.id,
      collection_id: row.parent_id,
      data_size: BIG,
      checksum: md5(bigBytes),
      data_owner_name: 'alice',
      resource_hierarchy: 'demoResc',
      replica_status: 1,
    });
    expect(out.info).toMatchObject({ in_use: true, open_type: 2, replica_token: '', data_object_input: { object_path: `${HOME}/big.bin`, open_flags: O.RDONLY } });
  });

  it('answers a write open its own replica token, an intermediate replica, and commits it at a replica close', async () => {
    const path = `${HOME}/closed-by-20004`;
    const r = await rawCalls(alice, [
      { call: 'open', path, flags: O.WRONLY | O.CREAT | O.TRUNC },
      { call: 'write', fd: 3, data: 'written, then closed by 20004' },
      { call: 'info', json: { fd: 3 } },
      { call: 'replica_close', json: { fd: 3 } },
      { call: 'info', json: { fd: 3 } },
    ]);
    expect(r[0]).toEqual({ ok: true, value: 3 });
    const info = (r[2] as { value: Record<string, unknown> }).value;
    expect(info.replica_token).toMatch(/^[0-9a-f-]{36}$/);
    expect(info).toMatchObject({ open_type: 1, data_object_info: { replica_status: 2, object_path: path } });
    expect(r[3]).toEqual({ ok: true, value: null });
    // closed: the descriptor is gone
    expect(r[4]).toEqual({ ok: false, code: IRODS_ERRORS.SYS_INVALID_INPUT_PARAM });
    expect((await inspect.stat(path))?.checksum).toBe(md5(Buffer.from('written, then closed by 20004')));
  });

  it('refuses bad input with the codes of the real plugins, and every connection sees only its own descriptors', async () => {
    const r = await rawCalls(alice, [
      { call: 'info', json: {} },
      { call: 'info', raw: 'not json' },
      { call: 'info', json: { fd: 3 } },
      { call: 'info', json: { fd: 'three' } },
      { call: 'replica_close', raw: '{"fd": ' },
      { call: 'replica_close', json: { fd: 2 } },
      { call: 'replica_close', json: { fd: 5 } },
      { call: 'open', path: `${HOME}/big.bin`, flags: O.RDONLY },
      { call: 'replica_close', json: { fd: 3, compute_checksum: true, update_status: false } },
      { call: 'replica_close', json: { fd: 3, update_size: 'no' } },
      { call: 'replica_close', json: { fd: 3 } },
    ]);
    expect(r.map((x) => (x.ok ? 'ok' : x.code))).toEqual([
      IRODS_ERRORS.SYS_INVALID_INPUT_PARAM,
      IRODS_ERRORS.SYS_INVALID_INPUT_PARAM,
      IRODS_ERRORS.SYS_INVALID_INPUT_PARAM,
      IRODS_ERRORS.SYS_INVALID_INPUT_PARAM,
      IRODS_ERRORS.SYS_INTERNAL_ERR,
      IRODS_ERRORS.BAD_INPUT_DESC_INDEX,
      IRODS_ERRORS.BAD_INPUT_DESC_INDEX,
      'ok',
      IRODS_ERRORS.USER_INCOMPATIBLE_PARAMS,
      IRODS_ERRORS.SYS_INTERNAL_ERR,
      'ok',
    ]);
    // bob cannot open alice's object, and descriptor 3 of alice's connections is not his
    const b = await rawCalls(bob, [
      { call: 'open', path: `${HOME}/big.bin`, flags: O.RDONLY },
      { call: 'info', json: { fd: 3 } },
    ]);
    expect(b).toEqual([
      { ok: false, code: IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION },
      { ok: false, code: IRODS_ERRORS.SYS_INVALID_INPUT_PARAM },
    ]);
  });
});

describe('parallel put (a write shared through its replica token)', { timeout: 180_000 }, () => {
  it('puts a new object in four ranges on four connections: in the catalog from the open, empty and without checksum, whole at the close', async () => {
    const path = `${HOME}/put.bin`;
    const out = await parallelTransferScript(alice, { action: 'put', local: bigFile, path, threads: 4 });
    expect(out).toMatchObject({ ok: true, hier: 'demoResc', bytes: BIG, registered: { size: 0 } });
    expect(out.token).toMatch(/^[0-9a-f-]{36}$/);
    expect((out.registered as { checksum: string | null }).checksum ?? '').toBe('');
    expect(out.info).toMatchObject({ open_type: 1, data_object_info: { object_path: path, replica_status: 2 } });
    const stat = await inspect.stat(path);
    expect(stat).toMatchObject({ size: BIG, checksum: md5(bigBytes), owner: 'alice' });
    expect(md5(await readObject(path))).toBe(md5(bigBytes));
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('overwrites an object the same way, keeping its id', async () => {
    const path = `${HOME}/overwritten.bin`;
    writeFileSync(join(dir, 'old.txt'), 'old bytes');
    await inspect.putObject(path, join(dir, 'old.txt'), { owner: 'alice' });
    const id = inspect.protocolCore().row(path)!.id;
    const out = await parallelTransferScript(alice, { action: 'put', local: bigFile, path, threads: 3 });
    expect(out).toMatchObject({ ok: true, registered: { size: 9 } });
    expect(inspect.protocolCore().row(path)).toMatchObject({ id, size: BIG, checksum: md5(bigBytes) });
  });

  it('stores nothing when the first descriptor is dropped unclosed: the object registered at the open goes again, whatever the parts wrote', async () => {
    const path = `${HOME}/dropped.bin`;
    const before = await storeState(inspect);
    const r = await rawCalls(
      alice,
      [
        { call: 'open', path, flags: O.WRONLY | O.CREAT | O.TRUNC, keywords: { numThreads: '2', dataSize: '10' } },
        { call: 'stat', path },
        { call: 'info', json: { fd: 3 } },
        { call: 'open', conn: 'part', path, flags: O.WRONLY, keywords: { numThreads: '2', replicaToken: '$token', resc_hier: 'demoResc' } },
        { call: 'write', conn: 'part', fd: 3, offset: 5, data: 'world' },
        { call: 'drop' },
      ],
      { part: alice },
    );
    expect(r.map((x) => x.ok)).toEqual([true, true, true, true, true, true]);
    expect(r[1]).toEqual({ ok: true, value: { size: 0, checksum: null } });
    await waitFor('the dropped put\'s registered object to go', async () => (await inspect.stat(path)) === null);
    expect(await storeState(inspect)).toEqual(before);
  });

  it('lets only the token in while the object is open, only for users who may write it; the first close commits every part written before it', async () => {
    const path = `${HOME}/joined.bin`;
    const r = await rawCalls(
      alice,
      [
        { call: 'open', path, flags: O.WRONLY | O.CREAT | O.TRUNC, keywords: { numThreads: '2' } },
        { call: 'info', json: { fd: 3 } },
        // no token, and a wrong one: the object is locked
        { call: 'open', conn: 'other', path, flags: O.WRONLY, keywords: {} },
        { call: 'open', conn: 'other', path, flags: O.WRONLY, keywords: { replicaToken: 'not-the-token' } },
        // bob has the token but no write on alice's object
        { call: 'open', conn: 'bob', path, flags: O.WRONLY, keywords: { replicaToken: '$token' } },
        { call: 'open', conn: 'part', path, flags: O.WRONLY, keywords: { replicaToken: '$token' } },
        { call: 'write', conn: 'part', fd: 3, offset: 6, data: 'world' },
        { call: 'info', conn: 'part', json: { fd: 3 } },
        { call: 'write', fd: 3, data: 'hello ' },
        { call: 'replica_close', conn: 'part', json: { fd: 3, update_size: false, update_status: false } },
        { call: 'close', fd: 3 },
      ],
      { other: alice, bob, part: alice },
    );
    expect(r.map((x) => (x.ok ? 'ok' : x.code))).toEqual([
      'ok',
      'ok',
      IRODS_ERRORS.INTERMEDIATE_REPLICA_ACCESS,
      IRODS_ERRORS.INTERMEDIATE_REPLICA_ACCESS,
      IRODS_ERRORS.CAT_NO_ACCESS_PERMISSION,
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    const token = ((r[1] as { value: Record<string, unknown> }).value).replica_token;
    expect(((r[7] as { value: Record<string, unknown> }).value).replica_token).toBe(token);
    expect((await readObject(path)).toString()).toBe('hello world');
    expect((await inspect.stat(path))?.checksum).toBe(md5(Buffer.from('hello world')));
  });
});
