/**
 * Real processes against one store: two writers at once, and puts killed
 * with SIGKILL mid-stream. Runs the compiled child scripts of
 * test/support (build first: npx tsc -p tsconfig.build.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { ROOT, requireStoreBuild } from '../support/store-dist.js';

const WRITER = join(ROOT, 'dist/test/support/store-writer.js');
const HANG = join(ROOT, 'dist/test/support/store-put-hang.js');
const ZONE = 'procZone';

let dir: string;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(() => requireStoreBuild('dist/test/support/store-writer.js', 'dist/test/support/store-put-hang.js'));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taskflow-store-proc-'));
  dataDir = join(dir, 'data');
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(script: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`child ${script} exited ${code}: ${stderr}\n`);
  });
  return child;
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before printing ${pattern}`));
    child.once('exit', onExit);
    rl.on('line', (line) => {
      if (pattern.test(line)) {
        child.off('exit', onExit);
        rl.close();
        resolve(line);
      }
    });
  });
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('two processes writing one store at once', () => {
  it('both succeed and the catalog is whole', async () => {
    const count = 40;
    const a = start(WRITER, [dataDir, ZONE, 'alpha', String(count)]);
    const b = start(WRITER, [dataDir, ZONE, 'beta', String(count)]);
    await Promise.all([waitForLine(a, /^READY$/), waitForLine(b, /^READY$/)]);
    const doneA = waitForLine(a, /^DONE$/);
    const doneB = waitForLine(b, /^DONE$/);
    a.stdin!.write('go\n');
    b.stdin!.write('go\n');
    await Promise.all([doneA, doneB]);

    const store = EmbeddedStore.open({ dataDir, zone: ZONE });
    try {
      for (const name of ['alpha', 'beta']) {
        const moved = await store.listObjectPaths(`/${ZONE}/${name}-moved`);
        expect(moved).toHaveLength(count);
        expect(await store.listObjectPaths(`/${ZONE}/${name}`)).toEqual([]);
        expect(await store.getMetadata(moved[0])).toEqual([{ attribute: 'writer', value: name, unit: '' }]);
        expect((await store.getAccessMany([moved[0]], 'public'))[0]).toBe('read');
        expect(await store.groupMembers(`${name}-group`)).toHaveLength(count);
        const sums = await store.computeChecksums(moved);
        const catalog = (await store.list(`/${ZONE}/${name}-moved`)).map((e) => e.checksum);
        expect(sums).toEqual(catalog);
      }
      expect(await store.listObjectPaths(`/${ZONE}/shared`)).toHaveLength(2 * count);
      expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
    } finally {
      await store.close();
    }
    const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('a store locked by another process', () => {
  it('waits, then fails with StoreUnavailable naming the store; reads still work', async () => {
    const store = EmbeddedStore.open({ dataDir, zone: ZONE, busyTimeoutMs: 200 });
    const other = new Database(join(dataDir, 'catalog.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      await expect(store.createCollection(`/${ZONE}/x`)).rejects.toMatchObject({
        name: 'StoreUnavailableError',
        code: 'STORE_UNAVAILABLE',
        path: dataDir,
      });
      expect((await store.stat(`/${ZONE}/home`))?.type === 'collection').toBe(true);
      other.exec('ROLLBACK');
      expect(await store.createCollection(`/${ZONE}/x`)).toEqual([`/${ZONE}/x`]);
    } finally {
      other.close();
      await store.close();
    }
  });
});

describe('a put killed with SIGKILL', () => {
  it('mid-stream leaves no visible object, only a temp file that repair removes', async () => {
    const path = `/${ZONE}/half.bin`;
    const child = start(HANG, ['single', dataDir, ZONE, path]);
    await waitForLine(child, /^STREAMING$/);
    await killHard(child);

    const store = EmbeddedStore.open({ dataDir, zone: ZONE });
    try {
      expect(await store.stat(path)).toBeNull();
      expect(await store.listObjectPaths(`/${ZONE}`)).toEqual([]);
      const report = await store.fsck();
      expect(report.missingFiles).toEqual([]);
      expect(report.orphanFiles).toHaveLength(1);
      expect(report.orphanFiles[0]).toMatch(new RegExp(`/vault/tmp/${child.pid}\\.\\d+\\.[0-9a-f]{12}-[0-9a-f]+\\.part$`));
      expect((await store.fsck({ repair: true })).repaired).toBe(1);
      expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
      // The store works normally afterwards.
      await store.createCollection(`/${ZONE}/after`);
    } finally {
      await store.close();
    }
  });

  it('during a folder put leaves only whole, verifiable objects', async () => {
    const local = join(dir, 'tree');
    mkdirSync(join(local, 'sub'), { recursive: true });
    const files = 300;
    for (let i = 0; i < files; i++) {
      writeFileSync(join(local, i % 2 ? 'sub' : '', `f${String(i).padStart(3, '0')}`), Buffer.alloc(20_000 + i, i % 251));
    }
    const child = start(HANG, ['tree', dataDir, ZONE, local, `/${ZONE}/tree`, '150']);
    await waitForLine(child, /^STALLED$/);
    await killHard(child);

    const store = EmbeddedStore.open({ dataDir, zone: ZONE });
    try {
      const first = await store.fsck();
      expect(first.missingFiles).toEqual([]);
      // Files staged but not committed when it died are temp leftovers.
      expect(first.orphanFiles.length).toBeGreaterThan(0);
      await store.fsck({ repair: true });
      expect(await store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
      const objects = await store.listObjectPaths(`/${ZONE}/tree`);
      expect(objects.length).toBeGreaterThan(0);
      expect(objects.length).toBeLessThan(150);
      const catalog = (await store.list(`/${ZONE}/tree`, { recursive: true }))
        .filter((e) => e.type === 'object')
        .map((e) => e.checksum);
      expect(await store.computeChecksums(objects)).toEqual(catalog);
      for (const e of await store.list(`/${ZONE}/tree`, { recursive: true })) {
        if (e.type === 'object') expect(e.size).toBe(20_000 + Number(e.path.slice(-3)));
      }
    } finally {
      await store.close();
    }
  });
});
