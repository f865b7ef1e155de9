/**
 * The data object and collection APIs through the reference client,
 * python-irodsclient 0.8.1, over a real socket: put and read back, seeks and
 * writes in place, unlink to the trash and for good, a forced recursive
 * removal answering the progress replies, refusals, and a client killed in
 * the middle of an upload. (Calls that look entries up with GenQuery come
 * with the GenQuery API; these use only the object and collection APIs.)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, PYTHON, runPython, startWireServer, type WireServer } from './support/wire-server.js';

const PRELUDE = `
from irods.session import iRODSSession
from irods.exception import iRODSException
a = ARGS
s = iRODSSession(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], zone='testZone')
def attempt(fn):
    try:
        fn()
        return 'ok'
    except iRODSException as e:
        return type(e).__name__
`;

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

let w: WireServer;
let local: string;
let HOME: string;
const clean = { missingFiles: [], orphanFiles: [], repaired: 0 };

beforeAll(async () => {
  w = await startWireServer();
  local = mkdtempSync(join(tmpdir(), 'taskflow-irods-objects-'));
  HOME = `/${w.zone}/home/alice`;
  for (const u of ['alice', 'bob']) {
    await w.store.createPrincipal(u, 'rodsuser');
    w.store.setPassword(u, `${u}-pw`);
    await w.store.createCollection(`/${w.zone}/home/${u}`, { owner: u });
  }
});
afterAll(async () => {
  await w?.stop();
  rmSync(local, { recursive: true, force: true });
});

async function py(user: string, script: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await runPython(PRELUDE + script + '\ns.cleanup()\n', { port: w.port, user, password: `${user}-pw`, ...args }, 120_000);
  expect(r.stderr).not.toMatch(/Traceback/);
  expect(r.code).toBe(0);
  return lastJson(r.stdout);
}

function tempFiles(): string[] {
  return readdirSync(join(w.dir, 'data', 'vault', 'tmp'));
}

describe('python-irodsclient 0.8.1 data objects', () => {
  it('puts a file (open w, 8 MiB writes, close) and reads it back; the catalog has its MD5', async () => {
    const bytes = randomBytes(20 * 1024 * 1024 + 12345);
    const file = join(local, 'up.bin');
    writeFileSync(file, bytes);
    const out = await py(
      'alice',
      `
import hashlib
s.data_objects.put(a['file'], a['path'])
h = hashlib.md5()
with s.data_objects.open(a['path'], 'r') as f:
    while True:
        b = f.read(8 * 1024 * 1024)
        if not b:
            break
        h.update(b)
print(json.dumps({'md5': h.hexdigest()}))
`,
      { file, path: `${HOME}/up.bin` },
    );
    expect(out.md5).toBe(md5(bytes));
    expect(await w.store.stat(`${HOME}/up.bin`)).toMatchObject({ owner: 'alice', size: bytes.length, checksum: md5(bytes) });
    expect(await w.store.fsck()).toEqual(clean);
  });

  it('writes, seeks and reads in place as file_test.py does', async () => {
    const out = await py(
      'alice',
      `
with s.data_objects.open(a['path'], 'w') as f:
    f.write(b'blah')
f = s.data_objects.open(a['path'], 'w+')
f.write(b'0123456789')
f.seek(-6, 2)
f.write(b'INTERRUPT')
f.seek(0, 0)
got = f.read(1024).decode()
f.close()
r = s.data_objects.open(a['path'], 'r+')
r.seek(0, 0)
tell = r.tell()
r.close()
print(json.dumps({'got': got, 'tell': tell}))
`,
      { path: `${HOME}/inplace` },
    );
    expect(out).toEqual({ got: '0123INTERRUPT', tell: 0 });
    expect((await w.store.stat(`${HOME}/inplace`))?.checksum).toBe(md5('0123INTERRUPT'));
  });

  it('unlinks into the trash, and for good with force', async () => {
    await w.store.putObject(`${HOME}/t1`, join(local, 'up.bin'), { owner: 'alice' });
    await w.store.putObject(`${HOME}/t2`, join(local, 'up.bin'), { owner: 'alice' });
    await py('alice', `s.data_objects.unlink(a['t1'])\ns.data_objects.unlink(a['t2'], force=True)\nprint('{}')`, { t1: `${HOME}/t1`, t2: `${HOME}/t2` });
    expect(await w.store.stat(`${HOME}/t1`)).toBeNull();
    expect(await w.store.stat(`/${w.zone}/trash/home/alice/t1`)).toMatchObject({ type: 'object' });
    expect(await w.store.stat(`${HOME}/t2`)).toBeNull();
    expect(await w.store.stat(`/${w.zone}/trash/home/alice/t2`)).toBeNull();
    expect(await w.store.fsck()).toEqual(clean);
  });

  it('removes a collection recursively for good, answering the progress replies, and to the trash without force', async () => {
    await w.store.createCollection(`${HOME}/many/sub`, { parents: true, owner: 'alice' });
    await w.store.createCollection(`${HOME}/keep`, { owner: 'alice' });
    for (let i = 0; i < 23; i++) await w.store.putObject(`${HOME}/many/${i % 2 ? 'sub/' : ''}o${i}`, join(local, 'up.bin'), { owner: 'alice' });
    await w.store.putObject(`${HOME}/keep/k`, join(local, 'up.bin'), { owner: 'alice' });
    const out = await py(
      'alice',
      `
s.collections.remove(a['many'], recurse=True, force=True)
s.collections.remove(a['keep'])
print(json.dumps({'after': attempt(lambda: s.data_objects.open(a['many'] + '/o0', 'r'))}))
`,
      { many: `${HOME}/many`, keep: `${HOME}/keep` },
    );
    expect(out.after).toBe('CAT_NO_ROWS_FOUND');
    expect(await w.store.stat(`${HOME}/many`)).toBeNull();
    expect(await w.store.stat(`/${w.zone}/trash/home/alice/keep/k`)).toMatchObject({ type: 'object' });
    expect(await w.store.fsck()).toEqual(clean);
  });

  it("refuses what the user may not do, with the codes the client knows", async () => {
    await w.store.putObject(`${HOME}/mine`, join(local, 'up.bin'), { owner: 'alice' });
    const out = await py(
      'bob',
      `
print(json.dumps({
  'read': attempt(lambda: s.data_objects.open(a['mine'], 'r').close()),
  'write': attempt(lambda: s.data_objects.open(a['mine'], 'w').close()),
  'create': attempt(lambda: s.data_objects.open(a['home'] + '/new', 'w').close()),
  'unlink': attempt(lambda: s.data_objects.unlink(a['mine'], force=True)),
  'rmcoll': attempt(lambda: s.collections.remove(a['home'], recurse=True, force=True)),
  'outside': attempt(lambda: s.data_objects.open('/otherZone/x', 'r')),
}))
`,
      { mine: `${HOME}/mine`, home: HOME },
    );
    expect(out).toEqual({
      read: 'CAT_NO_ACCESS_PERMISSION',
      write: 'CAT_NO_ACCESS_PERMISSION',
      create: 'CAT_NO_ACCESS_PERMISSION',
      unlink: 'CAT_NO_ACCESS_PERMISSION',
      rmcoll: 'CAT_NO_ACCESS_PERMISSION',
      outside: 'SYS_INVALID_ZONE_NAME',
    });
    expect(await w.store.stat(`${HOME}/mine`)).not.toBeNull();
    expect(tempFiles()).toEqual([]);
  });

  describe('an object open for writing (iRODS 4.2.9 and later lock it: INTERMEDIATE_REPLICA_ACCESS)', () => {
    // python-irodsclient 0.8.1 does not know -405000 and raises KeyError(-405000) for it
    const LOCKED = `
def locked(fn):
    try:
        fn()
        return 'ok'
    except iRODSException as e:
        return type(e).__name__
    except KeyError as e:
        return 'KeyError %s' % e.args[0]
s2 = iRODSSession(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], zone='testZone')
`;
    const REFUSED = 'KeyError -405000';

    it("refuses a second write open of it, on any connection, so neither writer's close undoes the other's", async () => {
      await w.store.putObject(`${HOME}/two`, join(local, 'up.bin'), { owner: 'alice' });
      const out = await py(
        'alice',
        `${LOCKED}
with s.data_objects.open(a['two'], 'w') as f:
    f.write(b'0123456789')
f1 = s.data_objects.open(a['two'], 'r+')
same = locked(lambda: s.data_objects.open(a['two'], 'r+'))
other = locked(lambda: s2.data_objects.open(a['two'], 'w'))
new1 = s.data_objects.open(a['new'], 'w')
new2 = locked(lambda: s2.data_objects.open(a['new'], 'w'))
f1.seek(0); f1.write(b'AA'); f1.close()
new1.write(b'first'); new1.close()
f2 = s2.data_objects.open(a['two'], 'r+'); f2.seek(5); f2.write(b'BB'); f2.close()
with s.data_objects.open(a['two'], 'r') as f:
    got = f.read().decode()
s2.cleanup()
print(json.dumps({'same': same, 'other': other, 'new': new2, 'got': got}))
`,
        { two: `${HOME}/two`, new: `${HOME}/new-once` },
      );
      expect(out).toEqual({ same: REFUSED, other: REFUSED, new: REFUSED, got: 'AA234BB789' });
      expect((await w.store.stat(`${HOME}/new-once`))?.checksum).toBe(md5('first'));
    });

    it('refuses to unlink it, to the trash or for good, until it is closed', async () => {
      const out = await py(
        'alice',
        `${LOCKED}
with s.data_objects.open(a['u'], 'w') as f:
    f.write(b'orig')
f = s.data_objects.open(a['u'], 'r+'); f.write(b'EDIT'); f.flush()
trash = locked(lambda: s2.data_objects.unlink(a['u']))
forced = locked(lambda: s2.data_objects.unlink(a['u'], force=True))
f.close()
after = locked(lambda: s2.data_objects.unlink(a['u'], force=True))
s2.cleanup()
print(json.dumps({'trash': trash, 'forced': forced, 'after': after}))
`,
        { u: `${HOME}/unlinked` },
      );
      expect(out).toEqual({ trash: REFUSED, forced: REFUSED, after: 'ok' });
      expect(await w.store.stat(`${HOME}/unlinked`)).toBeNull();
      expect(await w.store.stat(`/${w.zone}/trash/home/alice/unlinked`)).toBeNull();
    });

    it('follows it through a rename: the close writes the renamed object and nothing comes back at the old path', async () => {
      const out = await py(
        'alice',
        `${LOCKED}
with s.data_objects.open(a['m'], 'w') as f:
    f.write(b'orig')
f = s.data_objects.open(a['m'], 'r+'); f.write(b'EDIT'); f.flush()
s2.data_objects.move(a['m'], a['m2'])
f.close()
with s2.data_objects.open(a['m2'], 'r') as g:
    got = g.read().decode()
old = locked(lambda: s2.data_objects.open(a['m'], 'r'))
s2.cleanup()
print(json.dumps({'got': got, 'old': old}))
`,
        { m: `${HOME}/moving`, m2: `${HOME}/moved` },
      );
      expect(out).toEqual({ got: 'EDIT', old: 'CAT_NO_ROWS_FOUND' });
      expect((await w.store.stat(`${HOME}/moved`))?.checksum).toBe(md5('EDIT'));
    });

    it('fails the close of an object removed, or of a new one made, behind the protocol meanwhile', async () => {
      await w.store.putObject(`${HOME}/gone`, join(local, 'up.bin'), { owner: 'alice' });
      const script = `import json, os, sys
ARGS = json.loads(os.environ['ARGS'])
${PRELUDE}${LOCKED}
f = s.data_objects.open(a['gone'], 'r+'); f.write(b'EDIT'); f.flush()
n = s2.data_objects.open(a['fresh'], 'w'); n.write(b'MINE'); n.flush()
print('opened', flush=True)
sys.stdin.readline()
closed = locked(f.close)
made = locked(n.close)
s2.cleanup()
s.cleanup()
print(json.dumps({'close': closed, 'new': made}))
`;
      const child = spawn(PYTHON, ['-c', script], {
        env: { ...process.env, ARGS: JSON.stringify({ port: w.port, user: 'alice', password: 'alice-pw', gone: `${HOME}/gone`, fresh: `${HOME}/fresh` }) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('opened')) resolve();
        });
        void exited.then(() => reject(new Error(`client ended before its open: ${stderr}`)));
      });
      // what a flow does to a landing zone's file, through the store itself
      await w.store.removeObject(`${HOME}/gone`);
      await w.store.putObject(`${HOME}/fresh`, join(local, 'up.bin'), { owner: 'alice' });
      child.stdin.end('\n');
      expect(await exited).toBe(0);
      expect(lastJson(stdout)).toEqual({ close: 'CAT_NO_ROWS_FOUND', new: 'CAT_NAME_EXISTS_AS_DATAOBJ' });
      expect(await w.store.stat(`${HOME}/gone`)).toBeNull();
      expect((await w.store.stat(`${HOME}/fresh`))?.checksum).toBe(md5(readFileSync(join(local, 'up.bin'))));
      expect(tempFiles()).toEqual([]);
      expect(await w.store.fsck()).toEqual(clean);
    });
  });

  it('a client killed in the middle of an upload leaves no object and fsck clean', async () => {
    const script = `import json, os, sys, time
from irods.session import iRODSSession
a = json.loads(os.environ['ARGS'])
s = iRODSSession(host='127.0.0.1', port=a['port'], user='alice', password='alice-pw', zone='testZone')
f = s.data_objects.open(a['path'], 'w')
for i in range(3):
    f.write(b'x' * (4 * 1024 * 1024))
f.flush()
print('writing', flush=True)
time.sleep(600)
`;
    const child = spawn(PYTHON, ['-c', script], { env: { ...process.env, ARGS: JSON.stringify({ port: w.port, path: `${HOME}/half` }) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
      child.on('close', () => reject(new Error(`client ended before writing: ${stderr}`)));
    });
    expect(tempFiles()).toHaveLength(1);
    expect(await w.store.fsck()).toEqual(clean);
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await exited;
    // the server notices the dropped socket and runs the connection's cleanups
    const deadline = Date.now() + 20_000;
    while (tempFiles().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(tempFiles()).toEqual([]);
    expect(await w.store.stat(`${HOME}/half`)).toBeNull();
    expect(await w.store.fsck()).toEqual(clean);
    // the dropped connection's write open no longer holds the path
    await py('alice', `with s.data_objects.open(a['path'], 'w') as f:\n    f.write(b'again')\nprint('{}')`, { path: `${HOME}/half` });
    expect((await w.store.stat(`${HOME}/half`))?.checksum).toBe(md5('again'));
  });
});
