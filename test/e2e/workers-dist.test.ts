/**
 * The worker threads start from the built package too: a plain `node`
 * process (no TypeScript loader, unlike the test processes) runs the compiled
 * hash pool and checkpointer, whose workers are the compiled modules beside
 * them. Runs dist/test/support/workers-dist-child.js: build first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../support/store-dist.js';

const CHILD = join(ROOT, 'dist/test/support/workers-dist-child.js');
const SOURCES = [
  'test/support/workers-dist-child.ts',
  'src/worker-module.ts',
  'src/store/embedded/hash-pool.ts',
  'src/store/embedded/hash-worker.ts',
  'src/store/embedded/md5-lanes.ts',
  'src/engine/checkpointer.ts',
  'src/engine/checkpoint-worker.ts',
];

let dir: string;
beforeAll(() => {
  for (const source of SOURCES) {
    const built = join(ROOT, 'dist', source.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs + 1 < statSync(join(ROOT, source)).mtimeMs) {
      throw new Error(`${built} is missing or older than ${source}: build first (npx tsc -p tsconfig.build.json)`);
    }
  }
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taskflow-workers-dist-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('worker threads from dist/', () => {
  it('hash workers (SIMD kernel and scalar fallback) and the checkpoint worker run the compiled modules', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, dir], { env: { ...process.env, NODE_OPTIONS: '' } });
    const md5 = createHash('md5').update('hello workers\n'.repeat(10_000)).digest('hex');
    const result = JSON.parse(stdout) as { md5: Record<string, string>; checkpoint: Record<string, unknown> };
    expect(result.md5).toEqual({ simd: md5, scalar: md5 });
    expect(result.checkpoint).toMatchObject({ busy: false });
    expect(result.checkpoint.walFrames).toBeGreaterThan(0);
    expect(result.checkpoint.checkpointedFrames).toBe(result.checkpoint.walFrames);
  });
});
