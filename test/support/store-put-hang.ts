/**
 * Child process for the store crash tests. `single DATA ZONE PATH`: puts one
 * object from a stream that delivers 192 KiB, prints `STREAMING`, then
 * stalls forever. `tree DATA ZONE LOCAL PATH STOP`: puts a folder in small
 * batches with several files in flight; when STOP files are staged it prints
 * `STALLED` and freezes its thread mid-put. The test kills it with SIGKILL.
 */
import { Readable } from 'node:stream';
import { EmbeddedStore } from '../../src/store/embedded/store.js';

const [mode, dataDir, zone, ...rest] = process.argv.slice(2);
const store = EmbeddedStore.open({ dataDir, zone });
// Keeps the process alive while the put waits for bytes that never come.
setInterval(() => {}, 1000);

if (mode === 'single') {
  const [path] = rest;
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent < 3) this.push(Buffer.alloc(64 * 1024, ++sent));
      // then never push again: the put is stuck mid-stream
    },
  });
  let announced = false;
  void store.putObject(path, source, {
    onProgress(bytes) {
      if (bytes >= 3 * 64 * 1024 && !announced) {
        announced = true;
        process.stdout.write('STREAMING\n');
      }
    },
  });
} else if (mode === 'tree') {
  const [local, path, stop] = rest;
  void store.putTree(local, path, {
    batchSize: 7,
    stageBatch: 4,
    onProgress: ({ files }) => {
      if (files < Number(stop)) return;
      // Pipe writes are synchronous on Linux, so the line is out before the freeze.
      process.stdout.write('STALLED\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  });
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
