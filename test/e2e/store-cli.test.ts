/**
 * `taskflow store ...` end to end: the compiled CLI in real processes on a
 * store in a temp folder (build first: npx tsc -p tsconfig.build.json).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireStoreBuild } from '../support/store-dist.js';

const md5 = (b: string) => createHash('md5').update(b).digest('hex');
const Z = '/cliZone';
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  requireStoreBuild('dist/src/cli/index.js', 'dist/src/cli/store.js');
  dir = mkdtempSync(join(tmpdir(), 'taskflow-store-cli-'));
  env = { ...process.env, TASKFLOW_DATA_DIR: join(dir, 'data'), TASKFLOW_IRODS_ZONE: 'cliZone' };
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

function run(...args: string[]): Result {
  const r = spawnSync(process.execPath, [CLI, 'store', ...args], { env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

/** Runs a command that must succeed; returns its stdout lines. */
function ok(...args: string[]): string[] {
  const r = run(...args);
  if (r.code !== 0) throw new Error(`store ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  expect(r.stderr).toBe('');
  return r.lines;
}

/** Runs a command that must fail with one `taskflow store:` line matching `pattern`. */
function fails(pattern: RegExp, ...args: string[]): void {
  const r = run(...args);
  expect(r.code).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^taskflow store: /);
  expect(lines[0]).toMatch(pattern);
}

describe('taskflow store', { timeout: 240_000 }, () => {
  it('creates, puts, lists, gets, moves and removes', () => {
    const local = join(dir, 'local');
    mkdirSync(join(local, 'folder', 'sub'), { recursive: true });
    writeFileSync(join(local, 'one.txt'), 'one');
    writeFileSync(join(local, 'folder', 'a.txt'), 'aaa');
    writeFileSync(join(local, 'folder', 'sub', 'b.txt'), 'bb');

    ok('mkdir', '-p', `${Z}/projects/ab`);
    ok('mkdir', `${Z}/projects/ab/p1`);
    fails(/already exists/, 'mkdir', `${Z}/projects/ab/p1`);
    fails(/collection not found: \/cliZone\/nope/, 'mkdir', `${Z}/nope/x`);

    ok('put', join(local, 'one.txt'), `${Z}/projects/ab/p1`);
    ok('put', join(local, 'one.txt'), `${Z}/projects/ab/p1/renamed.txt`);
    ok('put', join(local, 'folder'), `${Z}/projects/ab/p1`);
    fails(/already exists: \/cliZone\/projects\/ab\/p1\/one.txt/, 'put', join(local, 'one.txt'), `${Z}/projects/ab/p1`);
    fails(/no such local file/, 'put', join(local, 'missing'), `${Z}/projects`);

    expect(ok('ls', `${Z}/projects/ab/p1`)).toEqual(['folder/', 'one.txt', 'renamed.txt']);
    expect(ok('ls', '-r', `${Z}/projects/ab/p1`)).toEqual([
      `${Z}/projects/ab/p1/folder/`,
      `${Z}/projects/ab/p1/folder/a.txt`,
      `${Z}/projects/ab/p1/folder/sub/`,
      `${Z}/projects/ab/p1/folder/sub/b.txt`,
      `${Z}/projects/ab/p1/one.txt`,
      `${Z}/projects/ab/p1/renamed.txt`,
    ]);
    expect(ok('ls', '-l', `${Z}/projects/ab/p1/one.txt`)).toEqual([
      ['O', 'rods', '3', md5('one'), '-', 'rods:own', `${Z}/projects/ab/p1/one.txt`].join('\t'),
    ]);

    const got = join(dir, 'got.txt');
    ok('get', `${Z}/projects/ab/p1/folder/a.txt`, got);
    expect(readFileSync(got, 'utf8')).toBe('aaa');
    fails(/EEXIST|exists/, 'get', `${Z}/projects/ab/p1/folder/a.txt`, got);
    ok('get', `${Z}/projects/ab/p1/folder`, join(dir, 'gotdir'));
    expect(readFileSync(join(dir, 'gotdir', 'sub', 'b.txt'), 'utf8')).toBe('bb');

    ok('mv', `${Z}/projects/ab/p1/renamed.txt`, `${Z}/projects/ab/p1/folder`);
    ok('mv', `${Z}/projects/ab/p1/folder`, `${Z}/projects/ab/p1/moved`);
    expect(ok('ls', `${Z}/projects/ab/p1/moved`)).toEqual(['a.txt', 'renamed.txt', 'sub/']);
    fails(/already exists/, 'mv', `${Z}/projects/ab/p1/one.txt`, `${Z}/projects/ab/p1/moved/renamed.txt`);

    fails(/is a collection: use rm -r/, 'rm', `${Z}/projects/ab/p1/moved`);
    ok('rm', `${Z}/projects/ab/p1/moved/renamed.txt`);
    ok('rm', '-r', `${Z}/projects/ab/p1/moved`);
    expect(ok('ls', `${Z}/projects/ab/p1`)).toEqual(['one.txt']);
    fails(/not found: \/cliZone\/projects\/ab\/p1\/moved/, 'rm', `${Z}/projects/ab/p1/moved`);
  });

  it('manages metadata, users, groups, access and inheritance', () => {
    ok('mkdir', '-p', `${Z}/meta/c`);
    ok('meta', 'add', `${Z}/meta/c`, 'title', 'First');
    ok('meta', 'add', `${Z}/meta/c`, 'size', '10', 'GB');
    expect(ok('meta', 'ls', `${Z}/meta/c`)).toEqual(['size\t10\tGB', 'title\tFirst\t']);
    ok('meta', 'set', `${Z}/meta/c`, 'title', 'Second');
    ok('meta', 'rm', `${Z}/meta/c`, 'size', '10', 'GB');
    expect(ok('meta', 'ls', `${Z}/meta/c`)).toEqual(['title\tSecond\t']);
    fails(/metadata not found/, 'meta', 'rm', `${Z}/meta/c`, 'size', '10', 'GB');

    ok('user', 'add', 'alice');
    ok('user', 'add', '--admin', 'boss');
    expect(ok('user', 'ls')).toEqual(['alice\trodsuser', 'boss\trodsadmin', 'rods\trodsadmin']);
    fails(/user already exists: alice/, 'user', 'add', 'alice');
    ok('user', 'rm', 'boss');
    fails(/not allowed on rods/, 'user', 'rm', 'rods');

    ok('group', 'add', 'omics_project_1');
    expect(ok('group', 'ls')).toEqual(['omics_project_1', 'public']);
    ok('group', 'addmember', 'omics_project_1', 'alice');
    expect(ok('group', 'members', 'omics_project_1')).toEqual(['alice']);
    ok('group', 'rmmember', 'omics_project_1', 'alice');
    expect(ok('group', 'members', 'omics_project_1')).toEqual([]);
    fails(/user not found: carol/, 'group', 'addmember', 'omics_project_1', 'carol');

    ok('inherit', 'on', `${Z}/meta/c`);
    ok('chmod', 'read', 'omics_project_1', `${Z}/meta/c`);
    ok('mkdir', `${Z}/meta/c/child`);
    expect(ok('ls', '-l', `${Z}/meta/c`)).toEqual([
      ['C', 'rods', '0', '-', 'inherit', 'omics_project_1:read,rods:own', `${Z}/meta/c/child`].join('\t'),
    ]);
    ok('chmod', '-r', 'write', 'alice', `${Z}/meta`);
    expect(ok('ls', '-l', `${Z}/meta`)[0]).toContain('alice:write,omics_project_1:read,rods:own');
    ok('chmod', '-r', 'null', 'alice', `${Z}/meta`);
    expect(ok('ls', '-l', `${Z}/meta`)[0]).not.toContain('alice');
    ok('inherit', 'off', `${Z}/meta/c`);
    expect(ok('ls', '-l', `${Z}/meta`)[0]).toContain('\tnoinherit\t');
    fails(/unknown access level "all"/, 'chmod', 'all', 'alice', `${Z}/meta`);
    fails(/expected on or off/, 'inherit', 'maybe', `${Z}/meta`);
    ok('group', 'rm', 'omics_project_1');
  });

  it('checksums, verifies, checks the vault and dumps', () => {
    ok('mkdir', `${Z}/sums`);
    const f = join(dir, 'sum.txt');
    writeFileSync(f, 'checksum me');
    ok('put', f, `${Z}/sums/x.txt`);
    expect(ok('checksum', `${Z}/sums/x.txt`)).toEqual([`${md5('checksum me')}  ${Z}/sums/x.txt`]);
    expect(ok('checksum', '--verify', `${Z}/sums`)).toEqual([`${md5('checksum me')}  ${Z}/sums/x.txt`]);
    expect(ok('fsck')).toEqual(['ok']);
    const dump = ok('dump');
    expect(dump).toEqual([...dump].sort());
    expect(dump).toContain(`{"t":"object","path":"${Z}/sums/x.txt","owner":"rods","size":11,"checksum":"${md5('checksum me')}"}`);
    for (const line of dump) expect(() => JSON.parse(line)).not.toThrow();

    // An orphan in the vault: fsck fails until repaired.
    mkdirSync(join(dir, 'data', 'vault', 'zz'), { recursive: true });
    writeFileSync(join(dir, 'data', 'vault', 'zz', 'zzorphan'), 'x');
    const r = run('fsck');
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`orphan ${join(dir, 'data', 'vault', 'zz', 'zzorphan')}`]);
    expect(r.stderr).toMatch(/^taskflow store: fsck found 1 crash leftover\(s\) \(use --repair\)\n$/);
    expect(ok('fsck', '--repair').at(-1)).toBe('ok (removed 1 crash leftover(s))');
    expect(ok('fsck')).toEqual(['ok']);
  });

  it('keeps a small object in the catalog: get, mv, overwrite either way, verify, rm and fsck as for a file', () => {
    ok('mkdir', `${Z}/small`);
    const small = join(dir, 'small.txt');
    const big = join(dir, 'big.bin');
    writeFileSync(small, 'a small object');
    writeFileSync(big, Buffer.alloc(100 * 1024, 9));
    const catalog = () => new Database(join(dir, 'data', 'catalog.sqlite'));
    const byteRows = () => {
      const db = catalog();
      try {
        return db.prepare('SELECT count(*) FROM object_bytes').pluck().get();
      } finally {
        db.close();
      }
    };
    const before = byteRows() as number;
    ok('put', small, `${Z}/small/s.txt`);
    expect(byteRows()).toBe(before + 1);
    ok('mv', `${Z}/small/s.txt`, `${Z}/small/t.txt`);
    ok('get', `${Z}/small/t.txt`, join(dir, 'small-got.txt'));
    expect(readFileSync(join(dir, 'small-got.txt'), 'utf8')).toBe('a small object');
    expect(ok('checksum', '--verify', `${Z}/small/t.txt`)).toEqual([`${md5('a small object')}  ${Z}/small/t.txt`]);

    // to a vault file and back
    ok('put', '-f', big, `${Z}/small/t.txt`);
    expect(byteRows()).toBe(before);
    ok('put', '-f', small, `${Z}/small/t.txt`);
    expect(byteRows()).toBe(before + 1);
    expect(ok('fsck')).toEqual(['ok']);

    // bytes changed behind the catalog are found by verification, not by fsck (which finds nothing missing)
    const db = catalog();
    db.prepare('UPDATE object_bytes SET bytes = ? WHERE entry_id = (SELECT id FROM entries WHERE path = ?)').run(Buffer.from('rotten'), `${Z}/small/t.txt`);
    db.close();
    const r = run('checksum', '--verify', `${Z}/small`);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`MISMATCH  ${Z}/small/t.txt  catalog ${md5('a small object')} bytes ${md5('rotten')}`]);
    expect(ok('fsck')).toEqual(['ok']);

    ok('rm', `${Z}/small/t.txt`);
    expect(byteRows()).toBe(before);
    expect(ok('fsck')).toEqual(['ok']);
  });

  it('refuses every path trick with one line and exit 1', () => {
    for (const bad of ['/cliZone/../etc', '/cliZone//x', 'relative/x', '/otherZone/x', '/cliZone/a\tb', `/cliZone/${'x'.repeat(256)}`]) {
      fails(/invalid path/, 'ls', bad);
      fails(/invalid path/, 'mkdir', '-p', bad);
    }
    fails(/missing required argument/, 'mkdir');
    fails(/unknown command|unknown/, 'frobnicate');
  });

  it('refuses to move or remove the layout roots (zone, projects, home, trash) and what holds them', () => {
    ok('mkdir', '-p', `${Z}/projects/ro/keep`);
    const before = ok('dump');
    for (const root of [Z, `${Z}/projects`, `${Z}/home`, `${Z}/trash`]) {
      fails(/not allowed on .*a layout root/, 'rm', '-r', root);
      fails(/not allowed on .*a layout root/, 'mv', root, `${Z}/elsewhere`);
    }
    // with a root path, the folder holding the project root is held in place too
    const rooted = { ...env, TASKFLOW_IRODS_ROOT_PATH: 'site' };
    const r = spawnSync(process.execPath, [CLI, 'store', 'mkdir', '-p', `${Z}/site/projects`], { env: rooted, encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const args of [['rm', '-r', `${Z}/site`], ['mv', `${Z}/site`, `${Z}/moved`]]) {
      const x = spawnSync(process.execPath, [CLI, 'store', ...args], { env: rooted, encoding: 'utf8' });
      expect(x.status).toBe(1);
      expect(x.stderr).toMatch(/^taskflow store: not allowed on \/cliZone\/site: .*holding the layout root \/cliZone\/site\/projects/);
    }
    ok('rm', '-r', `${Z}/site`); // without the root path setting it is an ordinary folder
    expect(ok('dump')).toEqual(before);
  });

  it('ends quietly with exit 0 when its reader stops early (| head)', () => {
    const local = join(dir, 'many');
    mkdirSync(local);
    // far more than a pipe holds, so writes go on after head has left
    for (let i = 0; i < 3000; i++) writeFileSync(join(local, `file_${String(i).padStart(5, '0')}.txt`), '');
    ok('put', local, `${Z}/many`);
    const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" store ls -l -r /cliZone/many | head -n 1', process.execPath, CLI], {
      env,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});
