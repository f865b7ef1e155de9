/**
 * SQLite journals for engine and service tests, each test's in a fresh temp
 * folder: every journal a test opens is closed after it and the folder
 * removed, so no test sees another's files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { SqliteJournal, type SqliteJournalOptions } from '../../src/engine/index.js';

/** What {@link journalsPerTest} gives each test; call it inside a test or a hook of it. */
export interface JournalsOfTest {
  /** The path of a new journal file in the test's temp folder (nothing is created there). */
  newFile(): string;
  /**
   * A journal on `file` (default: a {@link JournalsOfTest.newFile}), closed
   * after the test. Two journals on one file stand for two processes.
   */
  open(opts?: SqliteJournalOptions & { file?: string }): SqliteJournal;
}

/**
 * Gives each test of the calling file its own temp folder for journals:
 * the returned accessors open journals in it during the test, and after the
 * test every journal they opened is closed and the folder removed.
 */
export function journalsPerTest(): JournalsOfTest {
  let dir: string | undefined;
  let files = 0;
  const opened: SqliteJournal[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskflow-journal-'));
  });
  afterEach(async () => {
    // closing twice is fine: a test may close a journal itself to reopen its file
    const closing = opened.splice(0);
    for (const j of closing) j.close();
    // a checkpoint worker may still be closing its connection, which touches the folder's files
    await Promise.all(closing.map((j) => j.whenClosed()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    files = 0;
  });
  const newFile = (): string => {
    if (!dir) throw new Error('journalsPerTest: journals are for tests, not for the file or describe level');
    return join(dir, `journal-${++files}.sqlite`);
  };
  return {
    newFile,
    open({ file = newFile(), ...opts } = {}) {
      const j = new SqliteJournal(file, opts);
      opened.push(j);
      return j;
    },
  };
}
