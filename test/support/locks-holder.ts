/**
 * Child process for the lock tests: takes one project lock with the settings
 * from its environment (TASKFLOW_DATA_DIR, TASKFLOW_REDIS_URL,
 * TASKFLOW_LOCK_LEASE) and holds it.
 *
 * Usage: node locks-holder.js <projectId> [retryCount] [retryIntervalMs]
 * Prints `locked`, `busy` or `error <reason>` on stdout. While holding, a
 * SIGTERM or the end of stdin releases the lock, prints `released` and exits.
 */
import { loadConfig } from '../../src/config.js';
import { createLockManager, LockBusyError } from '../../src/locks/index.js';

const [projectId, retryCount = '0', retryIntervalMs = '50'] = process.argv.slice(2);
if (!projectId) {
  process.stderr.write('usage: locks-holder <projectId> [retryCount] [retryIntervalMs]\n');
  process.exit(2);
}

const locks = createLockManager(loadConfig());
try {
  const handle = await locks.acquire(projectId, {
    retryCount: Number(retryCount),
    retryIntervalMs: Number(retryIntervalMs),
  });
  handle.onLost((reason) => process.stdout.write(`lost ${reason}\n`));
  process.stdout.write('locked\n');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await handle.release();
    await locks.close();
    process.stdout.write('released\n');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  // The renewal timer is unref'd, so keep the process alive while holding.
  setInterval(() => undefined, 60_000);
} catch (err) {
  process.stdout.write(err instanceof LockBusyError ? 'busy\n' : `error ${(err as Error).message}\n`);
  await locks.close();
  process.exit(0);
}
