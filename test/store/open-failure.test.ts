/**
 * A store that cannot open leaves nothing open behind it: the catalog it
 * had opened before the failing step is closed again, so a process that
 * retries (a service waiting for its data folder to be fixed) holds no
 * handle per attempt, and the error names the folder and what was wrong.
 */
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { EmbeddedStore } from '../../src/store/embedded/store.js';

/** The files under `dir` this process has open (its /proc/self/fd links that point there). */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) out.push(target);
    } catch {
      // the descriptor closed between the listing and the read (readdirSync's own, say)
    }
  }
  return out;
}

/** What opening a store in `dataDir` throws (undefined when it opens, which it must not here). */
function openError(dataDir: string): unknown {
  try {
    EmbeddedStore.open({ dataDir, zone: 'testZone', hashWorkers: 1 });
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('a store that cannot open', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('closes its catalog again when its holder lock cannot be taken, and says why', () => {
    dir = mkdtempSync(join(tmpdir(), 'taskflow-open-failure-'));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    // the lock's folder (holder-locks.ts) is taken by a file: the last step of an open fails
    writeFileSync(join(dataDir, 'holders'), 'not a folder\n');
    for (let attempt = 0; attempt < 3; attempt++) {
      const err = openError(dataDir);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toContain(`store unavailable at ${dataDir}:`);
      expect((err as Error).message).toContain(join(dataDir, 'holders'));
      expect(openFilesUnder(dir)).toEqual([]);
    }
  });

  it('closes its catalog again when its vault folder cannot be made', () => {
    dir = mkdtempSync(join(tmpdir(), 'taskflow-open-failure-'));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'vault'), 'not a folder\n');
    const err = openError(dataDir);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toContain(join(dataDir, 'vault'));
    expect(openFilesUnder(dir)).toEqual([]);
  });
});
