/**
 * Data at rest is its owner's alone: research data, the run journal, the
 * site's database, the shared secret and the admin token. Every folder we
 * create for them is owner-only and every file is created owner-only, by
 * the open that creates it (no chmod per file: that would cost a put a
 * system call per object).
 *
 * @module
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Mode of the data folder and of every folder created under it. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode every file under the data folder is created with. */
export const PRIVATE_FILE_MODE = 0o600;

/** Bits that would give the group or other users access. */
const SHARED_BITS = 0o077;

/**
 * Creates `dir` (and missing parents) owner-only. With `tighten`, an existing
 * folder open to the group or others (an older version created them 0755) is
 * made owner-only too; a folder we may not change (not ours) is left as it is.
 * Only the data folder itself is tightened: a folder the user named for one
 * file (a `sqlite:` DATABASE_URL) may be shared on purpose.
 */
export function ensurePrivateDir(dir: string, opts: { tighten?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!opts.tighten) return;
  const mode = statSync(dir).mode & 0o777;
  if ((mode & SHARED_BITS) === 0) return;
  try {
    chmodSync(dir, mode & ~SHARED_BITS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/**
 * Creates `file` empty and owner-only when it does not exist yet; an existing
 * file is left untouched. Before SQLite opens a new database: SQLite creates
 * its own files world-readable (0644 less the umask), but gives the `-wal`
 * and `-shm` files the mode of the main file, so all three end owner-only.
 * Names SQLite treats specially (`:memory:`, empty, `file:` URIs) are skipped.
 */
export function createPrivateFile(file: string): void {
  if (file === '' || file === ':memory:' || file.startsWith('file:')) return;
  // 'a' creates without truncating, so two processes creating it at once both succeed
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}
