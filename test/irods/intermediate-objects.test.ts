/**
 * Objects a parallel put registered at its open (intermediate, as iRODS
 * calls a replica open for writing) when the server holding them open ends
 * before their close: killed, so nothing of it closes or cleans up. The next
 * server start on the store removes them, leaving the store as it was before
 * the open; until then fsck reports them, and never those of a server that
 * still runs, under whatever host name it runs. A start with none to remove
 * takes no write lock.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startIrodsServer } from '../../src/irods/index.js';
import { thisProcess } from '../../src/store/embedded/process-holders.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { requireIrodsClient } from '../support/irods-client.js';
import { startAliceAndBob, TEST_ZONE, type IrodsStoreServer } from '../support/irods-store-server.js';
import { storeState, tempStore } from '../support/store-helpers.js';
import { API, dataObjInp, O, openedInp } from './support/objects-context.js';
import { loggedIn, type RawClient } from './support/raw-client.js';

const HOME = `/${TEST_ZONE}/home/alice`;

let server: IrodsStoreServer | undefined;
let inspect: EmbeddedStore | undefined;
let client: RawClient | undefined;

afterEach(async () => {
  client?.close();
  await inspect?.close();
  await server?.dispose();
  client = inspect = server = undefined;
});

async function started(opts: { hostName?: string } = {}): Promise<{ server: IrodsStoreServer; inspect: EmbeddedStore }> {
  requireIrodsClient();
  ({ server, inspect } = await startAliceAndBob(opts));
  return { server, inspect };
}

/** Alice's open of a new object as the first thread of a parallel put (python-irodsclient 1.1.9 and later, see parallel_transfer.py): it registers the object. */
async function parallelPutOpen(s: IrodsStoreServer, path: string): Promise<{ c: RawClient; fd: number }> {
  const c = (client = await loggedIn(s.port, 'alice', s.accounts.get('alice')!.password, s.zone));
  c.send('RODS_API_REQ', { intInfo: API.open, body: { name: 'DataObjInp_PI', fields: dataObjInp(path, { flags: O.WRONLY | O.CREAT | O.TRUNC, kv: { numThreads: '2', dataSize: '10' } }) } });
  const r = await c.reply();
  expect(r.error).toBeNull();
  return { c, fd: r.intInfo };
}

const intermediateMarks = (store: EmbeddedStore) => store.protocolCore().db.prepare('SELECT count(*) FROM intermediate_objects').pluck().get();

describe('an object a parallel put registered, when its server ends before the close', { timeout: 120_000 }, () => {
  it('is reported by fsck, and gone once a server starts again: the store is as before the open', async () => {
    const { server: first, inspect } = await started();
    const path = `${HOME}/unfinished.bin`;
    const before = await storeState(inspect);
    await parallelPutOpen(first, path);
    expect(await inspect.stat(path)).toMatchObject({ size: 0, owner: 'alice' });

    first.proc.kill('SIGKILL');
    await first.exited;
    const catalog = inspect.protocolCore().db.name;
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [`${catalog}#intermediate${path}`], repaired: 0 });

    server = await first.restart();
    expect(server.lines.join('\n')).toContain('removed objects a parallel put registered whose server ended before their close');
    expect(await inspect.stat(path)).toBeNull();
    expect(await storeState(inspect)).toEqual(before);
    expect(intermediateMarks(inspect)).toBe(0);
  });

  it('is removed also when its server ran under another host name (a container recreated since), and left alone while that server runs', async () => {
    // the server in a namespace of its own, named as no host here is: a pid or a host name tells this process nothing of it
    const { server: first, inspect } = await started({ hostName: 'recreated-container' });
    const path = `${HOME}/other-host.bin`;
    const before = await storeState(inspect);
    await parallelPutOpen(first, path);
    expect(inspect.removeAbandonedIntermediates()).toEqual([]);
    expect(first.storeCli('fsck')).toEqual(['ok']);

    first.proc.kill('SIGKILL');
    await first.exited;
    const catalog = inspect.protocolCore().db.name;
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [`${catalog}#intermediate${path}`], repaired: 0 });
    // what a server start on this host does before it serves
    expect(inspect.removeAbandonedIntermediates()).toEqual([path]);
    expect(await storeState(inspect)).toEqual(before);
    // the killed server's lock file went with what it held; the inspecting handle's own stays
    expect(readdirSync(join(first.dataDir, 'holders'))).toEqual([thisProcess()]);
  });

  it('fsck --repair removes it too, when no server starts', async () => {
    const { server: first, inspect } = await started();
    const path = `${HOME}/repaired.bin`;
    const before = await storeState(inspect);
    await parallelPutOpen(first, path);
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(first.storeCli('fsck', '--repair').at(-1)).toBe('ok (removed 1 crash leftover(s))');
    expect(await storeState(inspect)).toEqual(before);
  });

  it('is left alone while its server runs, whoever opens the store or checks it; its close gives it its bytes and ends the mark', async () => {
    const { server, inspect } = await started();
    const path = `${HOME}/finished.bin`;
    const { c, fd } = await parallelPutOpen(server, path);

    expect(inspect.removeAbandonedIntermediates()).toEqual([]);
    expect(await inspect.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    expect(server.storeCli('fsck')).toEqual(['ok']);
    expect(await inspect.stat(path)).toMatchObject({ size: 0 });
    expect(intermediateMarks(inspect)).toBe(1);

    const bytes = Buffer.from('0123456789');
    c.send('RODS_API_REQ', { intInfo: API.write, body: { name: 'OpenedDataObjInp_PI', fields: openedInp(fd, { len: bytes.length }) }, bs: bytes });
    expect((await c.reply()).intInfo).toBe(bytes.length);
    c.send('RODS_API_REQ', { intInfo: API.close, body: { name: 'OpenedDataObjInp_PI', fields: openedInp(fd) } });
    expect((await c.reply()).intInfo).toBe(0);
    expect(await inspect.stat(path)).toMatchObject({ size: 10, checksum: '781e5e245d69b566979b86e28d23f2c7' });
    expect(intermediateMarks(inspect)).toBe(0);
  });

  it('a server with none to remove starts while another process holds the catalog\'s write lock', async () => {
    // a short wait for the lock: the start would fail after it, were it to take the lock
    const t = tempStore(TEST_ZONE, { busyTimeoutMs: 200 });
    const other = new Database(join(t.dataDir, 'catalog.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const running = await startIrodsServer({ store: t.store, host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }) });
      await running.close();
    } finally {
      other.close();
      await t.cleanup();
    }
  });
});
