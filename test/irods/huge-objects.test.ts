/**
 * Huge objects over the protocol, with python-irodsclient 0.8.1 against
 * `taskflow store serve`.
 *
 * Past TASKFLOW_IRODS_MAX_OBJECT_BYTES (default 1 TiB) a truncate or write
 * is refused with the exceptions a file system's EFBIG gives on iRODS.
 *
 * Below it, one client's huge object does not hold up another client's close. Alice
 * truncates an empty object to 16 GiB (sparse: no disk, but its close hashes
 * every byte, tens of seconds); while the store's only hash worker hashes
 * it, Bob closes a small object whose MD5 that worker must compute too (a
 * rewrite of part of it: its bytes were copied at the open, so the close
 * hashes the file). Bob's close must come back while Alice's hash still
 * runs.
 *
 * The order is read from the server itself, not from timings: the hash
 * worker holds the file it hashes open read-only (the connection's own
 * descriptors are read-write and closed before the hash starts), so such a
 * descriptor in /proc tells that the hash runs, and its end that it ended.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRODS_CLIENT_PYTHON } from '../../scripts/debian-packages.js';
import { IRODS_MAX_OBJECT_BYTES } from '../../src/config.js';
import { requireIrodsClient, type IrodsAccount } from '../support/irods-client.js';
import { startIrodsStore, type IrodsStoreServer } from '../support/irods-store-server.js';
import { watchOutput, type ProcessOutput } from '../support/service-harness.js';

/** Alice's object: hashing it takes tens of seconds, Bob's close well under one. */
const HUGE_BYTES = 16 * 1024 ** 3;
/** Bob's object: larger than the catalog keeps, so it has a vault file. */
const SMALL_BYTES = 3 * 1024 * 1024;
/** Where Bob's rewrite lands, and what it writes. */
const PATCH_AT = 1024;
const PATCH = 'rewritten by bob';

let server: IrodsStoreServer;

/** A session of `account`, doing what `body` says (Python, with `s` the session and `a` the JSON of the first input line). */
function client(account: IrodsAccount, body: string, args: Record<string, unknown>): { out: ProcessOutput; send(line: string): void; kill(): void } {
  const script = `
import json, sys
from irods.session import iRODSSession
a = json.loads(sys.stdin.readline())
s = iRODSSession(host=a['host'], port=a['port'], user=a['user'], password=a['password'], zone=a['zone'])
${body}
`;
  const proc = spawn(IRODS_CLIENT_PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  proc.stdin.on('error', () => {});
  proc.stdin.write(`${JSON.stringify({ ...account, ...args })}\n`);
  return { out: watchOutput(proc, 120_000), send: (line) => proc.stdin.write(`${line}\n`), kill: () => proc.kill('SIGKILL') };
}

/** The server's descriptors open read-only on vault temp files: the hash pool hashing them. Linux /proc. */
function hashReaders(): string[] {
  const pid = server.proc.pid!;
  const tmp = join(server.dataDir, 'vault', 'tmp');
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    let flags: number;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      flags = parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1], 8);
    } catch {
      continue; // closed meanwhile
    }
    if (target.startsWith(`${tmp}/`) && (flags & 3) === 0) out.push(target);
  }
  return out;
}

/** Resolves once `cond()` holds, looking every 20 ms; rejects with `what` after `ms`. */
async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(20)) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
  }
}

beforeAll(async () => {
  requireIrodsClient();
  // one hash worker: Alice's hash takes it, and Bob's close needs it
  server = await startIrodsStore({ users: [{ name: 'alice' }, { name: 'bob' }], env: { TASKFLOW_HASH_WORKERS: '1' } });
}, 120_000);

afterAll(async () => {
  // the server is stopped with Alice's hash still running: nothing waits for it
  await server?.stop(2000);
  await server?.dispose();
});

describe('an object past the largest size', () => {
  it('is refused as iRODS refuses a file its file system cannot hold: truncate, or a write after a seek', async () => {
    const alice = client(
      server.accounts.get('alice')!,
      `
import irods.exception as ex
s.data_objects.create(a['empty'])
try:
    s.data_objects.truncate(a['empty'], a['over'])
except ex.UNIX_FILE_TRUNCATE_ERR:
    print('truncate refused', flush=True)
print('size', s.data_objects.get(a['empty']).size, flush=True)
f = s.data_objects.open(a['path'], 'w')
f.seek(a['over'] - 1)
f.write(b'x')
try:
    f.close()
except ex.UNIX_FILE_WRITE_ERR:
    print('write refused', flush=True)
try:
    s.data_objects.get(a['path'])
except ex.DataObjectDoesNotExist:
    print('nothing stored', flush=True)
`,
      { empty: `/${server.zone}/home/alice/empty.bin`, path: `/${server.zone}/home/alice/past.bin`, over: IRODS_MAX_OBJECT_BYTES + 1 },
    );
    expect(await alice.out.exited).toBe(0);
    expect(alice.out.lines).toEqual(['truncate refused', 'size 0', 'write refused', 'nothing stored']);
  }, 60_000);
});

describe('a huge sparse object hashing at its close', () => {
  it("does not hold up another client's close that needs the hash workers", async () => {
    const bytes = Buffer.alloc(SMALL_BYTES);
    for (let i = 0; i < SMALL_BYTES; i++) bytes[i] = i & 0xff;
    const small = `/${server.zone}/home/bob/small.bin`;
    const bob = client(
      server.accounts.get('bob')!,
      `
with s.data_objects.open(a['path'], 'w') as f:
    f.write(bytes(range(256)) * (a['size'] // 256))
f = s.data_objects.open(a['path'], 'r+')
f.seek(a['at'])
f.write(a['patch'].encode())
print('ready', flush=True)
sys.stdin.readline()
f.close()
print('closed', flush=True)
print('checksum', s.data_objects.get(a['path']).checksum, flush=True)
`,
      { path: small, size: SMALL_BYTES, at: PATCH_AT, patch: PATCH },
    );
    const alice = client(
      server.accounts.get('alice')!,
      `
s.data_objects.create(a['path'])
print('truncating', flush=True)
s.data_objects.truncate(a['path'], a['size'])
print('truncated', flush=True)
`,
      { path: `/${server.zone}/home/alice/huge.bin`, size: HUGE_BYTES },
    );
    try {
      await bob.out.waitForLine(/^ready$/);
      await alice.out.waitForLine(/^truncating$/);
      await until(() => hashReaders().length > 0, "the server hashing Alice's object");
      const hashing = hashReaders();

      bob.send('go');
      // no bound of its own: held up, the close comes back only after Alice's hash, and the check below fails
      await bob.out.waitForLine(/^closed$/, 400_000);
      // Bob's close came back while the worker still hashes Alice's object
      expect(hashReaders()).toEqual(hashing);
      expect(alice.out.lines).not.toContain('truncated');

      bytes.write(PATCH, PATCH_AT);
      const checksum = (await bob.out.waitForLine(/^checksum /)).split(' ')[1];
      expect(checksum).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(await bob.out.exited).toBe(0);
    } finally {
      bob.kill();
      alice.kill();
    }
  }, 600_000);
});
