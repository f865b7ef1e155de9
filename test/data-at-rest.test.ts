/**
 * Data at rest is readable by its owner only: after the whole system started
 * on a new data folder, took a lock and stored objects (a streamed put and a
 * folder put through the worker threads), nothing in the folder grants the
 * group or other users any access, whatever the umask.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startSystem } from '../src/cli/system.js';
import type { EmbeddedStore } from '../src/store/embedded/store.js';

let parent: string;
let umask: number;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), 'at-rest-'));
  // the usual login umask: files would be 0644 and folders 0755 without explicit modes
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(parent, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) whose mode has group or other bits, with its mode. */
function shared(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p);
    if ((st.mode & 0o077) !== 0) out.push(`${p.slice(dir.length) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(dir);
  return out;
}

async function useEverything(dataDir: string): Promise<string[]> {
  const config = loadConfig({ TASKFLOW_DATA_DIR: dataDir, TASKFLOW_TEST_MODE: 'true', TASKFLOW_LOG_LEVEL: 'silent' });
  const system = await startSystem(config, { servicePort: 0, sitePort: 0, print: () => undefined });
  try {
    const lock = await system.service.locks.acquire('0a0a0a0a-0000-4000-8000-000000000001', { retryCount: 0, retryIntervalMs: 0 });
    await lock.release();
    const store = (await system.service.store()) as EmbeddedStore;
    await store.createCollection('/omicsZone/projects/p', { parents: true });
    await store.putObject('/omicsZone/projects/p/streamed.txt', Readable.from([Buffer.from('streamed bytes')]));
    const local = join(parent, 'upload');
    mkdirSync(local);
    for (let i = 0; i < 5; i++) writeFileSync(join(local, `f${i}.txt`), `file ${i}`);
    await store.putTree(local, '/omicsZone/projects/p/tree');
    rmSync(local, { recursive: true });
    const names = readdirSync(dataDir);
    return names;
  } finally {
    await system.close();
  }
}

describe('data at rest', () => {
  it('a new data folder is 0700 and every database, vault file, secret and token in it 0600', async () => {
    const dataDir = join(parent, 'data');
    const names = await useEverything(dataDir);
    // the walk covered every kind of file the issue names
    expect(names).toEqual(expect.arrayContaining(['catalog.sqlite', 'journal.sqlite', 'locks.sqlite', 'site.sqlite', 'vault', 'secret', 'admin-token']));
    expect(names.some((n) => n.endsWith('-wal'))).toBe(true);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(shared(dataDir)).toEqual([]);
  });

  it('an existing data folder open to others is made owner-only when the system opens it', async () => {
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    await useEverything(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(shared(dataDir)).toEqual([]);
  });
});
