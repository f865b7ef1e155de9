/**
 * Memory for object bytes on their way between a connection and the vault:
 * a fixed number of slots in one WebAssembly memory. Such memory is
 * page-aligned (V8 maps it whole), so a slot can be written or read with
 * O_DIRECT; shared, the MD5 worker thread hashes a slot where it lies; and
 * it is reused, so a transfer faults in no new pages. The slots are a bound
 * on bytes in flight: a write that finds all of them busy waits for one,
 * which frees itself once its disk write and its hashing are done.
 *
 * @module
 */

/** Bytes of one slot: python-irodsclient 0.8.1 writes 8 MiB at a time (`WRITE_BUFFER_SIZE`). */
export const SLOT_BYTES = 8 * 1024 * 1024;
/** Slots in the process: a few writes in flight per transfer, a few transfers at once. */
export const SLOT_COUNT = 6;
/** The alignment O_DIRECT needs of offsets, lengths and memory (the logical block size of any disk here). */
export const BLOCK_BYTES = 4096;
const WASM_PAGE = 64 * 1024;

// Node's type definitions (v20) do not declare the WebAssembly global; this
// module-local declaration covers what this file uses.
declare const WebAssembly: {
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
};

/** A shared `WebAssembly.Memory` (it can be posted to a worker thread, which then sees the same bytes). */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
}

/** Options of {@link TransferSlots}. */
export interface TransferSlotsOptions {
  /** Number of slots (default {@link SLOT_COUNT}). */
  count?: number;
  /** The memory is shared, for a worker thread to read (default true). */
  shared?: boolean;
}

/** One slot: its place in the shared memory and a view of all of it. */
export interface Slot {
  /** Byte offset of the slot in {@link TransferSlots.memory}. */
  readonly offset: number;
  /** The slot's {@link SLOT_BYTES} bytes. */
  readonly bytes: Buffer;
}

/** The slots, handed out first come, first served. */
export class TransferSlots {
  /** The shared memory every slot lies in (handed to the MD5 worker). */
  readonly memory: SharedWasmMemory;
  private readonly free: Slot[] = [];
  private readonly waiting: Array<(slot: Slot) => void> = [];

  constructor(opts: TransferSlotsOptions = {}) {
    const count = opts.count ?? SLOT_COUNT;
    const pages = (count * SLOT_BYTES) / WASM_PAGE;
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: opts.shared ?? true });
    for (let i = 0; i < count; i++) {
      this.free.push({ offset: i * SLOT_BYTES, bytes: Buffer.from(this.memory.buffer, i * SLOT_BYTES, SLOT_BYTES) });
    }
  }

  /** A free slot, at once or when one is released. */
  acquire(): Promise<Slot> {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A free slot now, or undefined when all are taken. */
  tryAcquire(): Slot | undefined {
    return this.free.pop();
  }

  /** Gives a slot back; its bytes may be overwritten from now on. */
  release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

/** `n` rounded up to whole O_DIRECT blocks. */
export function roundUpToBlock(n: number): number {
  return Math.ceil(n / BLOCK_BYTES) * BLOCK_BYTES;
}
