/**
 * Property: read-modify-write under the project lock never loses an update,
 * with many acquirers at once spread over two processes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren, REDIS_URL, startChild, tempDir, uniqueProject } from './helpers.js';

const PROCESSES = 2;
const WORKERS = 4;
const INCREMENTS = 25;

const backends: [string, (dataDir: string) => Record<string, string>][] = [
  ['embedded', (dataDir) => ({ TASKFLOW_DATA_DIR: dataDir })],
  ['Redis', (dataDir) => ({ TASKFLOW_DATA_DIR: dataDir, TASKFLOW_REDIS_URL: REDIS_URL })],
];

describe.each(backends)('%s lock around a shared counter', (_name, env) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    killChildren();
    cleanups.splice(0).forEach((c) => c());
  });

  it(`keeps every one of ${PROCESSES}×${WORKERS}×${INCREMENTS} increments`, async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    const project = uniqueProject();
    const children = Array.from({ length: PROCESSES }, () =>
      startChild('locks-counter', [project, counter, String(WORKERS), String(INCREMENTS)], {
        ...env(dir),
        TASKFLOW_LOCK_LEASE: '30',
      }),
    );
    for (const c of children) {
      await c.line(/^done$/);
      expect(await c.exited).toBe(0);
    }
    expect(Number(readFileSync(counter, 'utf8'))).toBe(PROCESSES * WORKERS * INCREMENTS);
  });
});
