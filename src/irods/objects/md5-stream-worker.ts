/**
 * The MD5 worker thread of md5-streams.ts: hashes ranges of the shared
 * transfer memory into running hashes, one per stream, in the order the
 * requests come; answers each update once the range is hashed (its slot may
 * then be reused) and each digest with the hex of everything hashed.
 *
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { Md5Reply, Md5Request, Md5WorkerData } from './md5-stream-messages.js';

if (!parentPort) throw new Error('md5-stream-worker.ts runs as a worker thread of Md5Streams');
const port = parentPort;
const memory = Buffer.from((workerData as Md5WorkerData).memory.buffer);
const streams = new Map<number, Hash>();

function hashOf(stream: number): Hash {
  let hash = streams.get(stream);
  if (!hash) streams.set(stream, (hash = createHash('md5')));
  return hash;
}

port.on('message', (req: Md5Request) => {
  switch (req.op) {
    case 'update': {
      hashOf(req.stream).update(memory.subarray(req.offset, req.offset + req.length));
      port.postMessage({ seq: req.seq } satisfies Md5Reply);
      return;
    }
    case 'digest': {
      const md5 = hashOf(req.stream).digest('hex');
      streams.delete(req.stream);
      port.postMessage({ seq: req.seq, md5 } satisfies Md5Reply);
      return;
    }
    case 'drop':
      streams.delete(req.stream);
  }
});
