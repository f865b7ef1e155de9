/**
 * MD5 of an object's bytes, computed on a worker thread while they arrive:
 * a stream per object, fed ranges of the shared transfer memory
 * (transfer-slots.ts) in file order. The connection's thread only copies
 * bytes and posts a message per slot, so hashing overlaps with receiving
 * the next write and with the disk. One worker serves every stream (a
 * stream's state lives in one thread); it starts on first use and does not
 * keep the process alive while idle. A worker that dies takes its streams'
 * state with it: their digests then fail, and the caller hashes the file
 * instead.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { workerModule } from '../../worker-module.js';
import type { Md5Reply, Md5Request, Md5WorkerData } from './md5-stream-messages.js';
import type { SharedWasmMemory } from './transfer-slots.js';

/** The worker's code (see src/worker-module.ts for how tests run it). */
const WORKER = workerModule(new URL('./md5-stream-worker.js', import.meta.url), import.meta.url);

interface Pending {
  resolve(md5: string | undefined): void;
  reject(err: Error): void;
}

/** The worker and the streams it hashes. */
export class Md5Streams {
  private worker: Worker | undefined;
  /** Counts the workers started: a stream fed to an earlier one lost its state with it. */
  private generation = 0;
  private seq = 0;
  private nextStream = 1;
  private readonly pending = new Map<number, Pending>();

  /** @param memory - the shared memory whose ranges streams hash */
  constructor(private readonly memory: SharedWasmMemory) {}

  /** A new, empty stream. */
  open(): Md5Stream {
    return new Md5Stream(this, this.nextStream++);
  }

  /** Posts a request; `generation` names the worker it went to. */
  send(req: Md5Request): { generation: number; reply: Promise<string | undefined> } {
    const worker = this.worker ?? this.spawn();
    if (req.op === 'drop') {
      worker.postMessage(req);
      return { generation: this.generation, reply: Promise.resolve(undefined) };
    }
    const reply = new Promise<string | undefined>((resolve, reject) => this.pending.set(req.seq, { resolve, reject }));
    worker.ref();
    worker.postMessage(req);
    return { generation: this.generation, reply };
  }

  /** The generation of the worker running now; undefined when none runs. */
  get running(): number | undefined {
    return this.worker ? this.generation : undefined;
  }

  /** The number of the next request. */
  nextSeq(): number {
    return ++this.seq;
  }

  /** Forgets a stream in the worker, if the worker that has it still runs. */
  drop(stream: number, generation: number | undefined): void {
    if (this.worker && generation === this.generation) this.worker.postMessage({ op: 'drop', stream } satisfies Md5Request);
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER, { workerData: { memory: this.memory } satisfies Md5WorkerData });
    this.generation++;
    this.worker = worker;
    worker.on('message', (msg: Md5Reply) => {
      const p = this.pending.get(msg.seq);
      this.pending.delete(msg.seq);
      if (this.pending.size === 0) worker.unref();
      p?.resolve(msg.md5);
    });
    const died = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) p.reject(err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the MD5 worker exited with code ${code}`)));
    return worker;
  }
}

/** The running MD5 of one object's bytes. */
export class Md5Stream {
  /** The worker generation holding this stream's state; undefined before the first update. */
  private generation: number | undefined;
  private lost = false;

  constructor(
    private readonly streams: Md5Streams,
    private readonly id: number,
  ) {}

  /** Hashes `length` bytes at `offset` of the shared memory next; resolves once they are hashed (their memory is free again). */
  async update(offset: number, length: number): Promise<void> {
    const { generation, reply } = this.streams.send({ op: 'update', seq: this.streams.nextSeq(), stream: this.id, offset, length });
    this.track(generation);
    try {
      await reply;
    } catch (err) {
      this.lost = true;
      throw err;
    }
  }

  /** The MD5 hex of everything hashed; rejects when the worker holding the state ended meanwhile. */
  async digest(): Promise<string> {
    if (this.lost || (this.generation !== undefined && this.streams.running !== this.generation)) {
      throw new Error('the MD5 worker ended while hashing this stream');
    }
    const { generation, reply } = this.streams.send({ op: 'digest', seq: this.streams.nextSeq(), stream: this.id });
    this.track(generation);
    this.lost = true;
    return (await reply)!;
  }

  /** Forgets the stream (its bytes were dropped or will be hashed otherwise). */
  drop(): void {
    this.streams.drop(this.id, this.generation);
    this.lost = true;
  }

  private track(generation: number): void {
    if (this.generation === undefined) this.generation = generation;
    else if (this.generation !== generation) this.lost = true;
  }
}
