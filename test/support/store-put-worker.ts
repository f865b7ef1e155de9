/**
 * Worker-thread script for the store warning test: puts a folder and single
 * objects from inside a worker that tracks raw file descriptors (as test
 * runners' thread pools and any embedding host do), and posts back every
 * process warning it saw. workerData: `{ dataDir, zone, localDir }`.
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedStore } from '../../src/store/embedded/store.js';

const { dataDir, zone, localDir } = workerData as { dataDir: string; zone: string; localDir: string };
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

const store = EmbeddedStore.open({ dataDir, zone });
try {
  const tree = await store.putTree(localDir, `/${zone}/tree`);
  await store.putObject(`/${zone}/from-file`, join(localDir, 'f0'));
  await store.putObject(`/${zone}/from-stream`, Readable.from(['some bytes']));
  const verified = await store.computeChecksums(await store.listObjectPaths(`/${zone}/tree`));
  await store.close();
  // Warnings are emitted on a later tick than the call that caused them.
  await new Promise((resolve) => setImmediate(resolve));
  parentPort!.postMessage({ files: tree.files, verified: verified.length, warnings });
} catch (err) {
  await store.close();
  throw err;
}
