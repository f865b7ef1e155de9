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
import { BackgroundCheckpointer, BusyCheckpoints, WAL_BACKSTOP_PAGES } from '../../src/engine/checkpointer.js';

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

describe('busy checkpoints', () => {
  it('start a worker at the commit that makes the connection busy, and raise its own checkpoint to the backstop', async () => {
    const busy = new BusyCheckpoints(db, { afterCommits: 3 });
    try {
      busy.committed();
      busy.committed();
      expect(await busy.checkpointNow()).toBeUndefined();
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      busy.committed();
      expect(busy.count).toBe(3);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_BACKSTOP_PAGES);
      expect(await busy.checkpointNow()).toMatchObject({ busy: false });
      // later commits are counted, and start no second worker
      busy.committed();
      expect(busy.count).toBe(4);
    } finally {
      await busy.stop();
    }
    expect(await busy.checkpointNow()).toBeUndefined();
  });

  it('never start a worker when told so', async () => {
    const busy = new BusyCheckpoints(db, { afterCommits: -1, backstopPages: 77 });
    for (let i = 0; i < 10; i++) busy.committed();
    expect(await busy.checkpointNow()).toBeUndefined();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await busy.stop();
  });

  it('use the backstop they are given', async () => {
    const busy = new BusyCheckpoints(db, { afterCommits: 1, backstopPages: 77 });
    busy.committed();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(77);
    await busy.stop();
  });
});
