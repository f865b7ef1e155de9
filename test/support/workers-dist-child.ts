/**
 * Child script (run compiled, from dist/, by test/e2e/workers-dist.test.ts):
 * starts each worker thread of the package as built code does, with no
 * TypeScript loader, and prints one JSON line of what they did.
 * Args: a scratch folder.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackgroundCheckpointer } from '../../src/engine/checkpointer.js';
import { HashPool } from '../../src/store/embedded/hash-pool.js';

const dir = process.argv[2];
const file = join(dir, 'data');
writeFileSync(file, 'hello workers\n'.repeat(10_000));
const md5: Record<string, string> = {};
for (const simd of [true, false]) {
  const pool = new HashPool(1, { simd });
  try {
    [md5[simd ? 'simd' : 'scalar']] = await pool.hashFiles([file]);
  } finally {
    await pool.close();
  }
}

const dbPath = join(dir, 'journal.sqlite');
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('wal_autocheckpoint = 0');
db.exec('CREATE TABLE t (v TEXT)');
db.prepare('INSERT INTO t VALUES (?)').run('row');
const checkpointer = new BackgroundCheckpointer(dbPath, 3_600_000);
const checkpoint = await checkpointer.checkpoint();
checkpointer.stop();
db.close();

console.log(JSON.stringify({ md5, checkpoint }));
