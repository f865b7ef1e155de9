/**
 * Child process for the lock property test: `workers` concurrent loops each
 * add 1 to the number in `counterFile` `increments` times, every
 * read-modify-write under the project lock. Settings from the environment as
 * for locks-holder. Prints `done` when finished.
 *
 * Usage: node locks-counter.js <projectId> <counterFile> <workers> <increments>
 */
import { readFile, writeFile } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { createLockManager } from '../../src/locks/index.js';

const [projectId, counterFile, workers, increments] = process.argv.slice(2);
if (!projectId || !counterFile || !workers || !increments) {
  process.stderr.write('usage: locks-counter <projectId> <counterFile> <workers> <increments>\n');
  process.exit(2);
}

const locks = createLockManager(loadConfig());

async function worker(): Promise<void> {
  for (let i = 0; i < Number(increments); i++) {
    const handle = await locks.acquire(projectId!, { retryCount: 1_000_000, retryIntervalMs: 1 });
    try {
      const value = Number(await readFile(counterFile!, 'utf8'));
      // Give every other worker, here and in the other process, a chance to
      // interleave between the read and the write.
      await yieldToLoop();
      await writeFile(counterFile!, String(value + 1));
    } finally {
      await handle.release();
    }
  }
}

await Promise.all(Array.from({ length: Number(workers) }, () => worker()));
await locks.close();
process.stdout.write('done\n');
