/**
 * Puts must not make Node print warnings. Node counts raw file descriptors
 * per thread; a descriptor opened in one thread and closed in another used
 * to print one warning per file (150,000 lines for a 100,000-file upload).
 * Checked in this process and inside a worker thread that tracks its
 * descriptors, where a cross-thread descriptor shows up (runs the compiled
 * test/support/store-put-worker.js: build first).
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/store.js';
import { ROOT, requireStoreBuild } from '../support/store-dist.js';

const WORKER = join(ROOT, 'dist/test/support/store-put-worker.js');
const ZONE = 'warnZone';
const FILES = 300;

let dir: string;
let localDir: string;

beforeAll(() => requireStoreBuild('dist/test/support/store-put-worker.js'));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taskflow-store-warn-'));
  localDir = join(dir, 'local');
  mkdirSync(join(localDir, 'sub'), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(localDir, i % 2 ? `sub/f${i}` : `f${i}`), `file ${i}\n`.repeat(50));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('puts emit no process warnings', () => {
  it('in the main thread: folder put, file put and stream put', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const store = EmbeddedStore.open({ dataDir: join(dir, 'data'), zone: ZONE });
    try {
      const tree = await store.putTree(localDir, `/${ZONE}/tree`);
      expect(tree.files).toBe(FILES);
      await store.putObject(`/${ZONE}/from-file`, join(localDir, 'f0'));
      await store.putObject(`/${ZONE}/from-stream`, Readable.from(['abc']));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await store.close();
    }
  });

  it('in a worker thread that tracks its file descriptors', async () => {
    const worker = new Worker(WORKER, {
      workerData: { dataDir: join(dir, 'data'), zone: ZONE, localDir },
      trackUnmanagedFds: true,
      stderr: true,
    });
    let stderr = '';
    worker.stderr.on('data', (d) => (stderr += d));
    // Listen for the exit first: a worker that ends while its last message is
    // still queued gets that message and its exit emitted in one go.
    const exited = once(worker, 'exit');
    const [result] = (await once(worker, 'message')) as [{ files: number; verified: number; warnings: string[] }];
    const [code] = await exited;
    expect(code).toBe(0);
    expect(result).toEqual({ files: FILES, verified: FILES, warnings: [] });
    expect(stderr).toBe('');
  });
});
