/**
 * MD5 of several independent messages at once ({@link Md5Lanes}), on the
 * SIMD kernel of `md5-kernel.ts`. The vault's worker threads hash files
 * with it, reading each file straight into its lane's region.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { MD5_KERNEL, md5KernelWasm, type Md5KernelLayout } from './md5-kernel.js';

// Node's type definitions (v20) do not declare the WebAssembly global; these
// module-local declarations cover what this file uses.
declare const WebAssembly: {
  Memory: new (desc: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
};

/** A compiled `WebAssembly.Module`. */
export type WasmModule = object;

/** The part of a `WebAssembly.Memory` that {@link Md5Lanes} uses. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** One lane's message in progress, as `Md5Lanes.save` takes it; opaque to callers. */
export interface LaneSnapshot {
  readonly state: readonly number[];
  readonly total: number;
  readonly done: boolean;
  readonly scalar: { md5: ScalarMd5; hex?: string } | undefined;
}

/** Options for {@link Md5Lanes}. */
export interface Md5LanesOptions {
  /** Number of independent messages, 1 to 16. Multiples of 4 waste nothing; 8 or more run fastest. */
  lanes: number;
  /** Capacity of each lane's region in bytes: a positive multiple of 64 (4096 suits O_DIRECT). */
  regionBytes: number;
  /** Where in the memory the layout starts: a multiple of 4096 (default 0). */
  offset?: number;
}

/** One message's scalar MD5, as `createHash('md5')` gives it. */
export interface ScalarMd5 {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/** The kernel's contract, as {@link MD5_KERNEL} states it. */
export interface Md5KernelSpec {
  layout: Md5KernelLayout;
  table: readonly number[];
}

/**
 * Builds the {@link Md5Lanes} class on a given kernel. This module's own
 * {@link Md5Lanes} compiles the kernel on first use; the vault's worker
 * threads (hash-worker.ts) build theirs on the kernel their pool compiled once
 * and posted to them (emitting the kernel costs tens of milliseconds, a
 * thread's start-up), and tests build one without it.
 *
 * @param spec - the kernel's control-area layout and round-constant table
 * @param kernelFor - the compiled kernel for a lane count, or undefined where
 *   this machine has no WebAssembly SIMD: each lane then hashes alone
 * @param scalarMd5 - a new scalar MD5, for lanes without the kernel
 */
export function md5LanesRuntime(spec: Md5KernelSpec, kernelFor: (lanes: number) => WasmModule | undefined, scalarMd5: () => ScalarMd5) {
  const { layout } = spec;
  const PAGE = 4096;
  const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const stride = (regionBytes: number) => Math.ceil(regionBytes / PAGE) * PAGE;
  type Kernel = (ctl: number, rounds: number) => void;

  /**
   * MD5 of several independent messages at once, in caller-owned WebAssembly
   * memory. The layout, from `offset`: a 4096-byte control area, then one
   * region per lane, each starting at a multiple of 4096 bytes and
   * `regionBytes` long (rounded up to 4096 apart). The caller writes message
   * bytes straight into the regions (for example with `fs.readSync`) and calls
   * {@link Md5Lanes.update}; the regions are only read, and the control area
   * must be left alone.
   *
   * One call costs as many block rounds as its longest lane needs, so lanes of
   * similar lengths per call use it best.
   *
   * @example
   * const opts = { lanes: 8, regionBytes: 1 << 20 };
   * const md5 = new Md5Lanes(Md5Lanes.memoryFor(opts), opts);
   * const mem = new Uint8Array(md5.memory.buffer);
   * const n = fs.readSync(fd, mem, md5.regionOffset(0), opts.regionBytes, null);
   * md5.update([n], [n < opts.regionBytes]);
   */
  class Md5Lanes {
    /** Number of lanes. */
    readonly lanes: number;
    /** Capacity of each lane's region in bytes. */
    readonly regionBytes: number;
    /** The memory holding the control area and the regions. */
    readonly memory: WasmMemory;
    readonly #blocks: Kernel | undefined;
    /** Without the kernel: each lane's scalar MD5, and its digest once finished. */
    readonly #scalar: Array<{ md5: ScalarMd5; hex?: string }> | undefined;
    readonly #ctl: number;
    readonly #stride: number;
    readonly #totals: number[];
    readonly #done: boolean[];
    readonly #view: DataView;
    readonly #bytes: Uint8Array;

    /** Bytes of memory, from address 0, that the layout for these options needs. */
    static bytesNeeded(opts: Md5LanesOptions): number {
      return (opts.offset ?? 0) + layout.bytes + opts.lanes * stride(opts.regionBytes);
    }

    /** A new `WebAssembly.Memory` just big enough for these options. */
    static memoryFor(opts: Md5LanesOptions): WasmMemory {
      return new WebAssembly.Memory({ initial: Math.ceil(Md5Lanes.bytesNeeded(opts) / 65536) });
    }

    /** @param memory - a `WebAssembly.Memory` of at least {@link Md5Lanes.bytesNeeded} bytes, never grown */
    constructor(memory: WasmMemory, opts: Md5LanesOptions) {
      const { lanes, regionBytes, offset = 0 } = opts;
      if (!Number.isInteger(lanes) || lanes < 1 || lanes > layout.maxLanes) throw new RangeError(`lanes must be 1..${layout.maxLanes}`);
      if (!Number.isInteger(regionBytes) || regionBytes < 64 || regionBytes % 64 !== 0) {
        throw new RangeError('regionBytes must be a positive multiple of 64');
      }
      if (!Number.isInteger(offset) || offset < 0 || offset % PAGE !== 0) throw new RangeError('offset must be a multiple of 4096');
      const needed = Md5Lanes.bytesNeeded(opts);
      if (memory.buffer.byteLength < needed) throw new RangeError(`memory too small: ${needed} bytes needed`);
      this.lanes = lanes;
      this.regionBytes = regionBytes;
      this.memory = memory;
      this.#ctl = offset;
      this.#stride = stride(regionBytes);
      const kernel = kernelFor(lanes);
      this.#blocks = kernel && (new WebAssembly.Instance(kernel, { env: { memory } }).exports.blocks as Kernel);
      this.#scalar = kernel ? undefined : [];
      this.#view = new DataView(memory.buffer);
      this.#bytes = new Uint8Array(memory.buffer);
      this.#totals = new Array<number>(lanes).fill(0);
      this.#done = new Array<boolean>(lanes).fill(false);
      spec.table.forEach((k, i) => this.#view.setUint32(offset + layout.table + i * 4, k, true));
      for (let l = 0; l < lanes; l++) this.reset(l);
    }

    /** Byte offset (into `memory.buffer`) of lane `lane`'s region: a multiple of 4096. */
    regionOffset(lane: number): number {
      this.#check(lane);
      return this.#ctl + layout.bytes + lane * this.#stride;
    }

    /** Starts a new, empty message in lane `lane`, whatever state it was in. */
    reset(lane: number): void {
      this.#check(lane);
      for (let w = 0; w < 4; w++) this.#view.setUint32(this.#stateAt(lane, w), INIT[w], true);
      if (this.#scalar) this.#scalar[lane] = { md5: scalarMd5() };
      this.#totals[lane] = 0;
      this.#done[lane] = false;
    }

    /**
     * Hashes the first `bytes[i]` bytes of each lane's region as the next part
     * of that lane's message. With `final[i]`, lane i's message ends there and
     * its {@link Md5Lanes.digest} becomes available; without, `bytes[i]` must
     * be a multiple of 64. Lanes beyond the arrays' ends, and lanes with 0
     * bytes and not final, are left as they are. Throws, changing nothing, if
     * any lane's count is invalid or a finished lane (not reset) is given bytes
     * or `final`.
     */
    update(bytes: readonly number[], final: readonly boolean[] = []): void {
      const { lanes } = this;
      for (let l = 0; l < lanes; l++) {
        const n = bytes[l] ?? 0;
        const fin = final[l] ?? false;
        if (!Number.isInteger(n) || n < 0 || n > this.regionBytes) throw new RangeError(`lane ${l}: bad byte count ${n}`);
        if (!fin && n % 64 !== 0) throw new RangeError(`lane ${l}: a non-final update needs a multiple of 64 bytes, not ${n}`);
        if (this.#done[l] && (n > 0 || fin)) throw new Error(`lane ${l}: message already finished; reset the lane first`);
      }
      if (this.#scalar) return this.#updateScalar(bytes, final);
      const view = this.#view;
      const ctl = this.#ctl;
      let rounds = 0;
      let anyFinal = false;
      for (let l = 0; l < layout.maxLanes; l++) {
        const n = l < lanes ? (bytes[l] ?? 0) : 0;
        view.setUint32(ctl + layout.counts + l * 4, n >>> 6, true);
        // Lanes the kernel runs but nobody uses read from the tail area on.
        view.setUint32(ctl + layout.ptrs + l * 4, l < lanes ? this.regionOffset(l) : ctl + layout.tail + l * 128, true);
        rounds = Math.max(rounds, n >>> 6);
        if (l < lanes) {
          this.#totals[l] += n;
          anyFinal ||= final[l] ?? false;
        }
      }
      const blocks = this.#blocks!;
      if (rounds > 0) blocks(ctl, rounds);
      if (!anyFinal) return;

      // Final lanes: the partial block, 0x80, zeros and the length in bits go
      // through the lane's tail area, so the caller's region is never written.
      const mem = this.#bytes;
      rounds = 0;
      for (let l = 0; l < layout.maxLanes; l++) {
        const tail = ctl + layout.tail + l * 128;
        let count = 0;
        if (l < lanes && final[l]) {
          const n = bytes[l] ?? 0;
          const rest = n & 63;
          const from = this.regionOffset(l) + n - rest;
          count = rest < 56 ? 1 : 2;
          const end = tail + count * 64;
          mem.copyWithin(tail, from, from + rest);
          mem.fill(0, tail + rest, end);
          mem[tail + rest] = 0x80;
          const total = this.#totals[l];
          view.setUint32(end - 8, (total % 0x20000000) * 8, true);
          view.setUint32(end - 4, Math.floor(total / 0x20000000), true);
          this.#done[l] = true;
        }
        view.setUint32(ctl + layout.counts + l * 4, count, true);
        view.setUint32(ctl + layout.ptrs + l * 4, tail, true);
        rounds = Math.max(rounds, count);
      }
      blocks(ctl, rounds);
    }

    #updateScalar(bytes: readonly number[], final: readonly boolean[]): void {
      for (let l = 0; l < this.lanes; l++) {
        const n = bytes[l] ?? 0;
        const lane = this.#scalar![l];
        const at = this.regionOffset(l);
        if (n > 0) lane.md5.update(this.#bytes.subarray(at, at + n));
        if (!final[l]) continue;
        lane.hex = lane.md5.digest('hex');
        this.#done[l] = true;
      }
    }

    /**
     * Lane `lane`'s message so far, for {@link Md5Lanes.restore} on this
     * instance: lets the lane hash other messages meanwhile (a worker thread
     * sets a long message aside to serve others, and picks it up again). The
     * value belongs to this thread (without the kernel it holds the lane's
     * scalar MD5 object) and is spent by its restore.
     */
    save(lane: number): LaneSnapshot {
      this.#check(lane);
      const state = [0, 1, 2, 3].map((w) => this.#view.getUint32(this.#stateAt(lane, w), true));
      return { state, total: this.#totals[lane], done: this.#done[lane], scalar: this.#scalar && { ...this.#scalar[lane] } };
    }

    /** Puts a message {@link Md5Lanes.save} took from this instance back into lane `lane`, as it was. */
    restore(lane: number, saved: LaneSnapshot): void {
      this.#check(lane);
      saved.state.forEach((word, w) => this.#view.setUint32(this.#stateAt(lane, w), word, true));
      this.#totals[lane] = saved.total;
      this.#done[lane] = saved.done;
      if (this.#scalar) this.#scalar[lane] = { ...saved.scalar! };
    }

    /** Whether lane `lane`'s message has ended (its digest is available). */
    finished(lane: number): boolean {
      this.#check(lane);
      return this.#done[lane];
    }

    /** Hex MD5 of lane `lane`'s message, once a final update has ended it. */
    digest(lane: number): string {
      if (!this.finished(lane)) throw new Error(`lane ${lane}: message not finished`);
      if (this.#scalar) return this.#scalar[lane].hex!;
      let hex = '';
      for (let w = 0; w < 4; w++) hex += this.#view.getUint32(this.#stateAt(lane, w)).toString(16).padStart(8, '0');
      return hex;
    }

    #stateAt(lane: number, word: number): number {
      return this.#ctl + layout.state + (lane >> 2) * 64 + word * 16 + (lane & 3) * 4;
    }

    #check(lane: number): void {
      if (!Number.isInteger(lane) || lane < 0 || lane >= this.lanes) throw new RangeError(`no lane ${lane}`);
    }
  }
  return { Md5Lanes };
}

// Compiled once per thread for each group count; undefined where it does not compile.
const kernels = new Map<number, WasmModule | undefined>();

/**
 * The kernel compiled for `lanes` lanes, one compile per group count for this
 * thread; undefined where this machine has no WebAssembly SIMD (x86 without
 * SSE4.1), and {@link Md5Lanes} then hashes each lane alone.
 */
export function md5Kernel(lanes: number): WasmModule | undefined {
  const groups = Math.ceil(lanes / 4);
  if (!kernels.has(groups)) {
    let kernel: WasmModule | undefined;
    try {
      kernel = new WebAssembly.Module(md5KernelWasm(lanes));
    } catch {
      kernel = undefined;
    }
    kernels.set(groups, kernel);
  }
  return kernels.get(groups);
}

/** A new scalar MD5 (Node's own, OpenSSL's). */
export const scalarMd5 = (): ScalarMd5 => createHash('md5');

/** {@link md5LanesRuntime}'s class on this thread. */
export const Md5Lanes = md5LanesRuntime(MD5_KERNEL, md5Kernel, scalarMd5).Md5Lanes;
/** An instance of {@link Md5Lanes}. */
export type Md5Lanes = InstanceType<typeof Md5Lanes>;
