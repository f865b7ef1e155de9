/**
 * SQLite files that several processes open at once (the store catalog, the
 * embedded lock leases): telling a busy database from a broken one, and
 * opening one while another process is still setting it up.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { createPrivateFile } from './private-files.js';

/** Whether a better-sqlite3 error means another connection holds a lock (worth waiting for). */
export function sqliteBusy(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_BUSY_RECOVERY';
}

const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `open` until it does not fail busy, for at most `timeoutMs`, pausing
 * a little longer after each try (synchronous: opening is). The busy timeout
 * of a connection covers waiting for locks once a database is set up, but
 * not every step of two processes creating the same new file, switching it
 * to WAL or building its shared-memory index at the same moment: those
 * answer busy at once. Any other error, or busy past the deadline, is thrown.
 */
export function openWhileBusy<T>(open: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let pauseMs = 2; ; pauseMs = Math.min(pauseMs * 2, 100)) {
    try {
      return open();
    } catch (err) {
      if (!sqliteBusy(err) || Date.now() + pauseMs > deadline) throw err;
      Atomics.wait(pauseCell, 0, 0, pauseMs);
    }
  }
}

/**
 * Opens the SQLite file `file` (created when missing) and runs `setup` on the
 * connection (pragmas, tables), as {@link openWhileBusy} does: again while
 * another process holds it busy, for at most `timeoutMs`, which is also the
 * connection's busy timeout. A failing setup closes the connection. A new
 * file is created owner-only, and so are its `-wal` and `-shm` files.
 */
export function openSqlite(file: string, timeoutMs: number, setup: (db: Database.Database) => void): Database.Database {
  createPrivateFile(file);
  return openWhileBusy(() => {
    const db = new Database(file, { timeout: timeoutMs });
    try {
      setup(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }, timeoutMs);
}
