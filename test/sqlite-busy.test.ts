import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, openWhileBusy, sqliteBusy } from '../src/sqlite-busy.js';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('openWhileBusy', () => {
  it('tries again while the database answers busy, then returns what opened', () => {
    let tries = 0;
    const db = openWhileBusy(() => {
      if (++tries < 3) throw busy();
      return 'db';
    }, 5_000);
    expect(db).toBe('db');
    expect(tries).toBe(3);
  });

  it('throws any other error at once', () => {
    let tries = 0;
    const broken = Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' });
    expect(() =>
      openWhileBusy(() => {
        tries++;
        throw broken;
      }, 5_000),
    ).toThrow(broken);
    expect(tries).toBe(1);
  });

  it('gives up with the busy error once the time is over', () => {
    let tries = 0;
    expect(() =>
      openWhileBusy(() => {
        tries++;
        throw busy();
      }, 30),
    ).toThrow('database is locked');
    expect(tries).toBeGreaterThan(1);
  });

  it('counts only lock conflicts as busy', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY']) expect(sqliteBusy({ code })).toBe(true);
    for (const err of [{ code: 'SQLITE_CORRUPT' }, new Error('x'), null, undefined]) expect(sqliteBusy(err)).toBe(false);
  });
});

describe('openSqlite', () => {
  it('sets a file up, trying again while busy; a setup that fails for good closes and throws', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-sqlite-busy-'));
    try {
      const file = join(dir, 'x.sqlite');
      let tries = 0;
      const db = openSqlite(file, 5_000, (conn) => {
        if (++tries < 3) throw busy();
        conn.exec('CREATE TABLE t (v)');
      });
      expect(tries).toBe(3);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5_000);
      db.close();
      let handle: { open: boolean } | undefined;
      expect(() =>
        openSqlite(file, 5_000, (conn) => {
          handle = conn;
          conn.exec('CREATE TABLE t (v)');
        }),
      ).toThrow(/already exists/);
      expect(handle?.open).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
