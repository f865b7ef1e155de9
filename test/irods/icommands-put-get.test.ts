/**
 * iCommands' `iput` and `iget` (DATA_OBJ_PUT_AN 606, DATA_OBJ_GET_AN 608,
 * OPR_COMPLETE_AN 626) with XML packing. No iCommands binary is at hand:
 * `icommands.py` sends what iCommands 4.2.12 sends, built from
 * python-irodsclient 0.8.1's message classes, with the client's facts
 * written in it; the server's are in src/irods/objects/put.ts, get.ts,
 * portal-operations.ts and operation-complete.ts. Each case checks the
 * requests the client made and what they were answered (`trace`), the bytes
 * byte for byte, the catalog's MD5, and for every refusal the whole store
 * before and after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { IRODS_ERRORS } from '../../src/irods/wire/error-codes.js';
import { clientOp, icommands, requireIrodsClient, type IrodsAccount } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { readAll, storeState } from '../support/store-helpers.js';
import { waitFor } from '../support/service-wait.js';

const Z = TEST_ZONE;
const HOME = `/${Z}/home/alice`;
const E = IRODS_ERRORS;
const API = { stat: 633, put: 606, get: 608, complete: 626, read: 675, write: 676 } as const;
const MIB = 1024 * 1024;
/** Over the 32 MiB single-buffer bound, and not a multiple of the client's 4 MiB pieces: 8 of them and a shorter ninth. */
const BIG = 33 * MIB + 12345;
/** The pieces the client moves a BIG object in. */
const PIECES = [...Array<number>(8).fill(4 * MIB), BIG - 32 * MIB];
/** The zero-thread answer of a put or get through descriptor `fd`. */
const portal = (l1descInx: number, chksum = '') => ({ status: 0, l1descInx, numThreads: 0, chksum });

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha2 = (b: Buffer) => `sha2:${createHash('sha256').update(b).digest('base64')}`;

let server: IrodsStoreServer | undefined;
let alice: IrodsAccount;
let bob: IrodsAccount;
let inspect: EmbeddedStore;
let dir: string;
let smallFile: string;
let bigFile: string;
let emptyFile: string;
const small = Buffer.from('a small file for iput\n');
let big: Buffer;

const readObject = async (path: string): Promise<Buffer> => readAll(await inspect.getObject(path));
const local = (name: string): string => join(dir, name);
const vaultTemps = (): string[] => readdirSync(join(server!.dataDir, 'vault', 'tmp'));

beforeAll(async () => {
  requireIrodsClient();
  ({ server, alice, bob, inspect } = await startAliceAndBob());
  dir = mkdtempSync(join(tmpdir(), 'icommands-'));
  smallFile = local('small.txt');
  bigFile = local('big.bin');
  emptyFile = local('empty');
  big = randomBytes(BIG);
  writeFileSync(smallFile, small);
  writeFileSync(bigFile, big);
  writeFileSync(emptyFile, '');
  await inspect.putObject(`${HOME}/got-big.bin`, bigFile, { owner: 'alice' });
  await inspect.putObject(`${HOME}/got-small.txt`, smallFile, { owner: 'alice' });
  await inspect.putObject(`${HOME}/got-empty`, emptyFile, { owner: 'alice' });
  expect(await clientOp(alice, { op: 'mkdir', path: `${HOME}/sub` })).toMatchObject({ ok: true });
}, 120_000);

afterAll(async () => {
  await inspect?.close();
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('iput (606, and 676 and 626 past 32 MiB)', { timeout: 180_000 }, () => {
  it('puts a small file inside its request: a stat, then one 606 with the bytes; the object has them, with their MD5 in the catalog', async () => {
    const out = await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/small.txt` });
    expect(out).toMatchObject({ status: 0, portal: null, target: `${HOME}/small.txt` });
    expect(out.trace).toEqual([
      [API.stat, E.USER_FILE_DOES_NOT_EXIST],
      [API.put, 0],
    ]);
    expect(await readObject(`${HOME}/small.txt`)).toEqual(small);
    expect(await inspect.stat(`${HOME}/small.txt`)).toMatchObject({ size: small.length, checksum: md5(small), owner: 'alice' });

    // onto a collection: the file's name in it (the client stats the collection twice)
    const into = await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/sub` });
    expect(into).toMatchObject({ status: 0, target: `${HOME}/sub/small.txt` });
    expect(into.trace).toEqual([
      [API.stat, 2],
      [API.stat, 2],
      [API.put, 0],
    ]);
    expect(await readObject(`${HOME}/sub/small.txt`)).toEqual(small);

    const empty = await icommands(alice, { action: 'iput', local: emptyFile, path: `${HOME}/empty` });
    expect(empty).toMatchObject({ status: 0 });
    expect(await inspect.stat(`${HOME}/empty`)).toMatchObject({ size: 0, checksum: md5(Buffer.alloc(0)) });
  });

  it("puts a new object on the client's default resource (defRescName) when it exists, else on the store vault", async () => {
    inspect.addResource('ufs1', 'localhost', '/tmp/ufs1');
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/on-ufs1.txt`, default_resource: 'ufs1' })).toMatchObject({ status: 0 });
    expect(inspect.protocolCore().row(`${HOME}/on-ufs1.txt`)?.vault_id).toMatch(/^ufs1\//);
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/on-default.txt`, default_resource: 'noSuchResc' })).toMatchObject({ status: 0 });
    expect(inspect.protocolCore().row(`${HOME}/on-default.txt`)?.vault_id).not.toMatch(/\//);
    expect(await readObject(`${HOME}/on-ufs1.txt`)).toEqual(small);
  });

  it('puts a file over 32 MiB through the descriptor a zero-thread 606 answers: 4 MiB writes, then 626 commits', async () => {
    const path = `${HOME}/big.bin`;
    const out = await icommands(alice, { action: 'iput', local: bigFile, path, checksum: 'K' });
    expect(out).toMatchObject({ status: 0, portal: portal(3) });
    expect(out.trace).toEqual([[API.stat, E.USER_FILE_DOES_NOT_EXIST], [API.put, 0], ...PIECES.map((n) => [API.write, n]), [API.complete, 0]]);
    expect(md5(await readObject(path))).toBe(md5(big));
    expect(await inspect.stat(path)).toMatchObject({ size: BIG, checksum: md5(big), owner: 'alice' });
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('refuses a put onto an existing object without forceFlag, store unchanged; with it, replaces the bytes of the same object', async () => {
    const path = `${HOME}/twice.txt`;
    expect(await icommands(alice, { action: 'iput', local: smallFile, path })).toMatchObject({ status: 0 });
    const id = inspect.protocolCore().row(path)!.id;
    const before = await storeState(inspect);
    const refused = await icommands(alice, { action: 'iput', local: bigFile, path });
    expect(refused.trace).toEqual([
      [API.stat, 1],
      [API.put, E.OVERWRITE_WITHOUT_FORCE_FLAG],
    ]);
    // the same for a collection at the path, and with forceFlag a collection is no data object
    const raw = await icommands(alice, {
      action: 'steps',
      steps: [
        { call: 'put', path: `${HOME}/sub`, data: 'x' },
        { call: 'put', path: `${HOME}/sub`, data: 'x', keywords: { forceFlag: '' } },
        // forced onto a resource the object has no replica on
        { call: 'put', path, data: 'x', keywords: { forceFlag: '', destRescName: 'otherResc' } },
      ],
    });
    expect((raw.results as Array<{ value: number }>).map((r) => r.value)).toEqual([E.OVERWRITE_WITHOUT_FORCE_FLAG, E.CAT_NAME_EXISTS_AS_COLLECTION, E.HIERARCHY_ERROR]);
    expect(await storeState(inspect)).toEqual(before);

    expect(await icommands(alice, { action: 'iput', local: bigFile, path, force: true })).toMatchObject({ status: 0, portal: portal(3) });
    expect(inspect.protocolCore().row(path)).toMatchObject({ id, size: BIG, checksum: md5(big) });
    expect(await icommands(alice, { action: 'iput', local: smallFile, path, force: true, resource: 'demoResc' })).toMatchObject({ status: 0, portal: null });
    expect(await readObject(path)).toEqual(small);
  });

  it('registers the MD5 with regChksum (-k), checks the client checksum of verifyChksum (-K, SHA-256 or MD5); a mismatch or a wrong size stores nothing', async () => {
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/k.txt`, checksum: 'k' })).toMatchObject({ status: 0 });
    expect((await inspect.stat(`${HOME}/k.txt`))?.checksum).toBe(md5(small));
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/K-sha.txt`, checksum: 'K' })).toMatchObject({ status: 0 });
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/K-md5.txt`, checksum: 'K', hash_scheme: 'MD5' })).toMatchObject({ status: 0 });
    expect((await inspect.stat(`${HOME}/K-sha.txt`))?.checksum).toBe(md5(small));
    // regChksum verifies nothing, whatever it carries
    const reg = await icommands(alice, { action: 'steps', steps: [{ call: 'put', path: `${HOME}/reg.txt`, data: 'reg', keywords: { regChksum: md5(Buffer.from('other')) } }] });
    expect(reg.results).toMatchObject([{ value: 0 }]);

    const before = await storeState(inspect);
    const wrong = sha2(Buffer.from('not the file'));
    const single = await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/bad.txt`, checksum: 'K', verify_value: wrong });
    expect(single.trace.at(-1)).toEqual([API.put, E.USER_CHKSUM_MISMATCH]);
    const onto = await icommands(alice, { action: 'iput', local: bigFile, path: `${HOME}/k.txt`, force: true, checksum: 'K', verify_value: md5(small) });
    expect(onto.trace.at(-1)).toEqual([API.complete, E.USER_CHKSUM_MISMATCH]);
    // a byte stream shorter than dataSize, and an empty verifyChksum, which matches nothing
    const sized = await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/bad.txt`, data_size: small.length + 5 });
    expect(sized.trace.at(-1)).toEqual([API.put, E.SYS_COPY_LEN_ERR]);
    const empty = await icommands(alice, { action: 'steps', steps: [{ call: 'put', path: `${HOME}/bad.txt`, data: 'x', keywords: { verifyChksum: '' } }] });
    expect(empty.results).toMatchObject([{ value: E.USER_CHKSUM_MISMATCH }]);
    // the client finds it wrote fewer bytes than it announced: 626 with its error, the server drops the put
    const short = await icommands(alice, { action: 'iput', local: bigFile, path: `${HOME}/bad.bin`, data_size: BIG + 1 });
    expect(short).toMatchObject({ status: E.SYS_COPY_LEN_ERR });
    expect(short.trace.at(-1)).toEqual([API.complete, E.SYS_COPY_LEN_ERR]);
    expect(await storeState(inspect)).toEqual(before);
  });

  it('stores nothing, and leaves no temp file, when the client drops the connection in the middle of a large put', async () => {
    const before = await storeState(inspect);
    const out = await icommands(alice, { action: 'iput', local: bigFile, path: `${HOME}/dropped.bin`, drop_after: 12 * MIB });
    expect(out).toMatchObject({ dropped: true, written: 12 * MIB });
    expect(out.trace.slice(2)).toEqual([
      [API.write, 4 * MIB],
      [API.write, 4 * MIB],
      [API.write, 4 * MIB],
    ]);
    // an overwrite dropped so keeps the object's bytes
    const over = await icommands(alice, { action: 'iput', local: bigFile, path: `${HOME}/got-small.txt`, force: true, drop_after: 4 * MIB });
    expect(over).toMatchObject({ dropped: true });
    await waitFor('the dropped put\'s temp file to go', () => vaultTemps().length === 0);
    expect(await storeState(inspect)).toEqual(before);
    // and the object is not left locked
    expect(await icommands(alice, { action: 'iput', local: smallFile, path: `${HOME}/dropped.bin` })).toMatchObject({ status: 0 });
  });
});

describe('iget (608, and 675 and 626 past 32 MiB)', { timeout: 180_000 }, () => {
  it('gets a small object inside the reply and a large one through its descriptor, byte for byte; with verifyChksum the catalog MD5 comes along', async () => {
    const got = local('got-small.txt');
    const out = await icommands(alice, { action: 'iget', path: `${HOME}/got-small.txt`, local: got, verify: true });
    expect(out).toMatchObject({ status: 0, portal: portal(0, md5(small)) });
    expect(out.trace).toEqual([
      [API.stat, 1],
      [API.get, 0],
    ]);
    expect(readFileSync(got)).toEqual(small);
    // without -K no checksum; a file that is there needs -f
    expect(await icommands(alice, { action: 'iget', path: `${HOME}/got-small.txt`, local: got })).toMatchObject({ status: E.OVERWRITE_WITHOUT_FORCE_FLAG });
    expect(await icommands(alice, { action: 'iget', path: `${HOME}/got-small.txt`, local: got, force: true })).toMatchObject({ status: 0, portal: portal(0) });

    const gotBig = local('got-big.bin');
    const large = await icommands(alice, { action: 'iget', path: `${HOME}/got-big.bin`, local: gotBig, verify: true });
    expect(large).toMatchObject({ status: 0, portal: portal(3, md5(big)) });
    expect(large.trace).toEqual([[API.stat, 1], [API.get, 3], ...PIECES.map((n) => [API.read, n]), [API.read, 0], [API.complete, 0]]);
    expect(md5(readFileSync(gotBig))).toBe(md5(big));

    const gotEmpty = local('got-empty');
    expect(await icommands(alice, { action: 'iget', path: `${HOME}/got-empty`, local: gotEmpty })).toMatchObject({ status: 0, trace: [[API.stat, 1], [API.get, 0]] });
    expect(readFileSync(gotEmpty).length).toBe(0);
  });

  it('answers a get of nothing, or of a collection, CAT_NO_ROWS_FOUND (iget itself stops at its stat)', async () => {
    const missing = await icommands(alice, { action: 'iget', path: `${HOME}/nothing`, local: local('nothing') });
    expect(missing).toMatchObject({ status: E.USER_INPUT_PATH_ERR, trace: [[API.stat, E.USER_FILE_DOES_NOT_EXIST]] });
    const coll = await icommands(alice, { action: 'iget', path: `${HOME}/sub`, local: local('sub') });
    // USER_INPUT_OPTION_ERR, the client's own answer (a collection needs -r)
    expect(coll).toMatchObject({ status: -318000, trace: [[API.stat, 2]] });
    const raw = await icommands(alice, { action: 'steps', steps: [{ call: 'get', path: `${HOME}/nothing` }, { call: 'get', path: `${HOME}/sub` }] });
    expect(raw.results).toMatchObject([{ value: E.CAT_NO_ROWS_FOUND, portal: null }, { value: E.CAT_NO_ROWS_FOUND, portal: null }]);
    expect(existsSync(local('nothing'))).toBe(false);
  });
});

describe('access and completion', { timeout: 180_000 }, () => {
  it('refuses a get without read and a put without write, the store unchanged', async () => {
    const path = `${HOME}/got-small.txt`;
    expect(await clientOp(alice, { op: 'chmod', path, level: 'read', user: 'bob' })).toMatchObject({ ok: true });
    const before = await storeState(inspect);
    // no access at all: the stat hides the object from iget; a get itself is refused
    const hidden = await icommands(bob, { action: 'iget', path: `${HOME}/got-big.bin`, local: local('bob-big') });
    expect(hidden).toMatchObject({ status: E.USER_INPUT_PATH_ERR });
    const raw = await icommands(bob, { action: 'steps', steps: [{ call: 'get', path: `${HOME}/got-big.bin` }] });
    expect(raw.results).toMatchObject([{ value: E.CAT_NO_ACCESS_PERMISSION }]);
    // read only: gets, but neither overwrites (refused without -f first) nor creates beside it
    expect(await icommands(bob, { action: 'iget', path, local: local('bob-small') })).toMatchObject({ status: 0 });
    expect(readFileSync(local('bob-small'))).toEqual(small);
    const unforced = await icommands(bob, { action: 'iput', local: bigFile, path });
    expect(unforced.trace.at(-1)).toEqual([API.put, E.OVERWRITE_WITHOUT_FORCE_FLAG]);
    const forced = await icommands(bob, { action: 'iput', local: bigFile, path, force: true });
    expect(forced.trace.at(-1)).toEqual([API.put, E.CAT_NO_ACCESS_PERMISSION]);
    const created = await icommands(bob, { action: 'iput', local: smallFile, path: `${HOME}/by-bob.txt` });
    expect(created.trace).toEqual([
      [API.stat, E.USER_FILE_DOES_NOT_EXIST],
      [API.put, E.CAT_NO_ACCESS_PERMISSION],
    ]);
    expect(await storeState(inspect)).toEqual(before);
  });

  it('answers 626 with a descriptor no one opened as iRODS 4.2.12 does, and a negative 626 ends the put it completes', async () => {
    const path = `${HOME}/completed.txt`;
    const before = await storeState(inspect);
    const out = await icommands(alice, {
      action: 'steps',
      steps: [
        { call: 'complete', value: 5 },
        { call: 'complete', value: 2 },
        { call: 'complete', value: 1026 },
        { call: 'complete', value: 0 },
        { call: 'complete', value: -27000 },
        // a put through the descriptor, written in part, then failed by the client
        { call: 'put', path, data: '', included: false, data_size: 10 },
        { call: 'write', fd: 3, data: 'hello' },
        { call: 'complete', value: -27000 },
        { call: 'complete', value: 3 },
      ],
    });
    expect((out.results as Array<{ value: number }>).map((r) => r.value)).toEqual([
      E.SYS_INVALID_INPUT_PARAM,
      E.SYS_FILE_DESC_OUT_OF_RANGE,
      E.SYS_FILE_DESC_OUT_OF_RANGE,
      0,
      -27000,
      0,
      5,
      -27000,
      E.SYS_INVALID_INPUT_PARAM,
    ]);
    expect(await storeState(inspect)).toEqual(before);
    // the dropped put holds no lock: the same connection puts the object next
    const again = await icommands(alice, {
      action: 'steps',
      steps: [
        { call: 'put', path, data: '', included: false, data_size: 5 },
        { call: 'write', fd: 3, data: 'hel' },
        { call: 'complete', value: -1 },
        { call: 'put', path, data: 'again' },
        { call: 'get', path },
      ],
    });
    expect(again.results).toMatchObject([{ value: 0, portal: portal(3) }, { value: 3 }, { value: -1 }, { value: 0 }, { value: 0, data: 'again' }]);
  });
});
