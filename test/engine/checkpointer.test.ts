/**
 * The checkpoint worker is a real module started as a worker thread: it
 * opens its own connection to the journal's file and checkpoints the WAL
 * that another connection wrote.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpointer } from '../../src/engine/checkpointer.js';

let dir: string;
let db: Database.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'engine-checkpointer-'));
  db = new Database(join(dir, 'journal.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 0; i < 200; i++) insert.run('x'.repeat(500));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('background checkpointer', () => {
  it('checkpoints the WAL another connection wrote, from its worker thread', async () => {
    // an interval long enough that only the asked-for checkpoint runs
    const checkpointer = new BackgroundCheckpointer(join(dir, 'journal.sqlite'), 3_600_000);
    try {
      const outcome = await checkpointer.checkpoint();
      expect(outcome).toMatchObject({ busy: false });
      const { walFrames, checkpointedFrames } = outcome as { walFrames: number; checkpointedFrames: number };
      expect(walFrames).toBeGreaterThan(0);
      expect(checkpointedFrames).toBe(walFrames);
    } finally {
      checkpointer.stop();
    }
  });

  it('once stopped, says so instead of waiting for an answer', async () => {
    const checkpointer = new BackgroundCheckpointer(join(dir, 'journal.sqlite'));
    await checkpointer.checkpoint();
    checkpointer.stop();
    await expect(checkpointer.checkpoint()).rejects.toThrow('checkpoint worker exited');
    await expect(checkpointer.checkpoint()).rejects.toThrow('checkpoint worker exited');
  });
});
