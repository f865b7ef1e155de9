import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MD5_KERNEL, md5KernelWasm } from '../../src/store/embedded/md5-kernel.js';
import { Md5Lanes, md5LanesRuntime, scalarMd5, type Md5LanesOptions } from '../../src/store/embedded/md5-lanes.js';
import { mulberry32 as rng } from '../support/prng.js';

const MiB = 1 << 20;

function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = next();
  for (let i = words.length * 4; i < n; i++) out[i] = next() & 0xff;
  return out;
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

/** The class as it runs where WebAssembly SIMD does not compile: each lane alone. */
const ScalarLanes = md5LanesRuntime(MD5_KERNEL, () => undefined, scalarMd5).Md5Lanes;
// Every test below runs on both; `Lanes` is the one under test.
let Lanes: typeof Md5Lanes = Md5Lanes;

function create(opts: Md5LanesOptions): { h: Md5Lanes; mem: Uint8Array } {
  const h = new Lanes(Lanes.memoryFor(opts), opts);
  return { h, mem: new Uint8Array(h.memory.buffer) };
}

/**
 * Feeds each lane its queue of messages, all lanes together, one update per
 * round: `chunk(lane)` says how many bytes a lane offers this round (rounded
 * down to 64; 0 leaves it idle unless its message is empty or done). A lane
 * whose message ends is checked against createHash, reset, and given its next
 * message. Returns the number of messages checked.
 */
function run(h: Md5Lanes, mem: Uint8Array, queues: Uint8Array[][], chunk: (lane: number) => number): number {
  const pos = queues.map(() => 0);
  const current = queues.map((q) => q.shift());
  let checked = 0;
  while (current.some((m) => m !== undefined)) {
    const bytes: number[] = [];
    const final: boolean[] = [];
    current.forEach((msg, l) => {
      bytes[l] = 0;
      final[l] = false;
      if (!msg) return;
      const want = Math.min(chunk(l), h.regionBytes) & ~63;
      const left = msg.length - pos[l];
      const n = left <= want ? left : want;
      mem.set(msg.subarray(pos[l], pos[l] + n), h.regionOffset(l));
      bytes[l] = n;
      final[l] = left <= want;
      pos[l] += n;
    });
    h.update(bytes, final);
    current.forEach((msg, l) => {
      if (!msg || !final[l]) return;
      expect(h.digest(l), `lane ${l}, ${msg.length} bytes`).toBe(md5(msg));
      checked++;
      h.reset(l);
      current[l] = queues[l].shift();
      pos[l] = 0;
    });
  }
  return checked;
}

describe.each([
  ['the SIMD kernel', Md5Lanes],
  ['the scalar fallback', ScalarLanes],
])('Md5Lanes on %s', (_name, variant) => {
  beforeEach(() => {
    Lanes = variant;
  });

  it('matches createHash at the padding and region boundaries', () => {
    const next = rng(1);
    const lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 4095, 4096, 4097, MiB, MiB + 1];
    const { h, mem } = create({ lanes: 8, regionBytes: 64 * 1024 });
    // Lane i takes lengths i, i + 8, ...: every length in each lane position.
    const queues: Uint8Array[][] = Array.from({ length: 8 }, () => []);
    for (let round = 0; round < 8; round++) {
      lengths.forEach((n, i) => queues[(i + round) % 8].push(randomBytes(n, next)));
    }
    expect(run(h, mem, queues, () => h.regionBytes)).toBe(lengths.length * 8);
  });

  it('hashes 3 MiB + 123 bytes over many uneven updates', () => {
    const next = rng(2);
    const { h, mem } = create({ lanes: 4, regionBytes: 256 * 1024 });
    const queues = [0, 1, 2, 3].map(() => [randomBytes(3 * MiB + 123, next)]);
    expect(run(h, mem, queues, () => (next() % (h.regionBytes + 64)) & ~63)).toBe(4);
  });

  it('hashes lanes of different lengths in one call', () => {
    const next = rng(3);
    const { h, mem } = create({ lanes: 8, regionBytes: 16 * 1024 });
    const data = [0, 70, 9000, 16 * 1024, 1, 640, 12345, 63].map((n) => randomBytes(n, next));
    data.forEach((d, l) => mem.set(d, h.regionOffset(l)));
    h.update(
      data.map((d) => d.length),
      data.map(() => true),
    );
    expect(data.map((_, l) => h.digest(l))).toEqual(data.map(md5));
  });

  it('leaves lanes that are not updated as they are', () => {
    const next = rng(4);
    const { h, mem } = create({ lanes: 4, regionBytes: 4096 });
    const a = randomBytes(8192, next);
    const b = randomBytes(100, next);
    mem.set(a.subarray(0, 4096), h.regionOffset(0));
    h.update([4096]);
    // Lane 0 sits out two calls (0 bytes, and beyond the arrays' end).
    mem.set(b, h.regionOffset(1));
    h.update([0, 100], [false, true]);
    h.update([], []);
    mem.set(a.subarray(4096), h.regionOffset(0));
    h.update([4096], [true]);
    expect([h.digest(0), h.digest(1)]).toEqual([md5(a), md5(b)]);
    expect(() => h.digest(2)).toThrow(/not finished/);
  });

  it('sets a message aside while its lane hashes others, and finishes it later in any lane', () => {
    const next = rng(9);
    const { h, mem } = create({ lanes: 4, regionBytes: 4096 });
    const [a, b, c] = [10_000, 5000, 300].map((n) => randomBytes(n, next));
    mem.set(a.subarray(0, 4096), h.regionOffset(0));
    mem.set(c, h.regionOffset(2));
    h.update([4096, 0, 300], [false, false, true]);
    const aside = h.save(0);
    // lane 0 hashes b meanwhile; lane 2 is done with c
    h.reset(0);
    mem.set(b.subarray(0, 4096), h.regionOffset(0));
    h.update([4096]);
    mem.set(b.subarray(4096), h.regionOffset(0));
    h.update([b.length - 4096], [true]);
    expect(h.digest(0)).toBe(md5(b));
    const done = h.save(2);
    // a goes on in lane 3
    h.restore(3, aside);
    for (let at = 4096; at < a.length; at += 4096) {
      const n = Math.min(4096, a.length - at);
      mem.set(a.subarray(at, at + n), h.regionOffset(3));
      h.update([0, 0, 0, n], [false, false, false, at + n === a.length]);
    }
    expect(h.digest(3)).toBe(md5(a));
    // a finished message comes back finished
    h.reset(1);
    h.restore(1, done);
    expect(h.digest(1)).toBe(md5(c));
    expect(() => h.update([0, 1], [false, true])).toThrow(/already finished/);
  });

  it('resets and reuses lanes while others continue', () => {
    const next = rng(5);
    const { h, mem } = create({ lanes: 8, regionBytes: 8192 });
    const long = [0, 1, 2, 3].map(() => randomBytes(200_000 + (next() % 1000), next));
    const pos = [0, 0, 0, 0];
    let shortChecked = 0;
    let abandoned = 0;
    while (pos.some((p, l) => p < long[l].length)) {
      const bytes: number[] = [];
      const final: boolean[] = [];
      for (let l = 0; l < 4; l++) {
        const left = long[l].length - pos[l];
        const n = Math.min(left, 8192);
        mem.set(long[l].subarray(pos[l], pos[l] + n), h.regionOffset(l));
        bytes[l] = left > 0 ? n : 0;
        final[l] = left > 0 && left <= 8192;
        pos[l] += n;
      }
      // Lanes 4..7: short messages, each started, often abandoned mid-way by
      // a reset, otherwise finished, checked and replaced.
      const shorts: Uint8Array[] = [];
      for (let l = 4; l < 8; l++) {
        const msg = randomBytes(next() % 300, next);
        shorts[l] = msg;
        if (next() % 3 === 0 && msg.length >= 64) {
          mem.set(msg.subarray(0, 64), h.regionOffset(l));
          bytes[l] = 64;
          final[l] = false;
        } else {
          mem.set(msg, h.regionOffset(l));
          bytes[l] = msg.length;
          final[l] = true;
        }
      }
      h.update(bytes, final);
      for (let l = 4; l < 8; l++) {
        if (final[l]) {
          expect(h.digest(l)).toBe(md5(shorts[l]));
          shortChecked++;
        } else abandoned++;
        h.reset(l);
      }
    }
    expect(long.map((_, l) => h.digest(l))).toEqual(long.map(md5));
    expect(shortChecked).toBeGreaterThan(50);
    expect(abandoned).toBeGreaterThan(10);
  });

  it.each([1, 3, 4, 5, 8, 12, 16])('matches createHash for random lengths and chunks with %i lanes', (lanes) => {
    const next = rng(100 + lanes);
    const { h, mem } = create({ lanes, regionBytes: 4096 });
    const queues: Uint8Array[][] = Array.from({ length: lanes }, () => []);
    const count = 64;
    for (let i = 0; i < count; i++) {
      // Half near a block boundary, half anywhere up to 20 kB.
      const n = next() % 2 ? (next() % 300) * 64 + (next() % 11) - 5 : next() % 20_000;
      queues[i % lanes].push(randomBytes(Math.max(0, n), next));
    }
    expect(run(h, mem, queues, () => (next() % 5 === 0 ? 0 : next() % 5000))).toBe(count);
  });

  it('counts lengths of 2^32 bits and more', () => {
    const next = rng(6);
    const { h, mem } = create({ lanes: 1, regionBytes: MiB });
    const chunk = randomBytes(MiB, next);
    mem.set(chunk, h.regionOffset(0));
    const ref = createHash('md5');
    for (let i = 0; i < 513; i++) {
      h.update([MiB]);
      ref.update(chunk);
    }
    h.update([5], [true]);
    ref.update(chunk.subarray(0, 5));
    expect(h.digest(0)).toBe(ref.digest('hex'));
  });

  it('never writes the regions', () => {
    const next = rng(7);
    const { h, mem } = create({ lanes: 4, regionBytes: 4096 });
    const before = randomBytes(4 * 4096, next);
    for (let l = 0; l < 4; l++) mem.set(before.subarray(l * 4096, (l + 1) * 4096), h.regionOffset(l));
    h.update([4096, 4000, 57, 0], [false, true, true, true]);
    const after = new Uint8Array(4 * 4096);
    for (let l = 0; l < 4; l++) after.set(mem.subarray(h.regionOffset(l), h.regionOffset(l) + 4096), l * 4096);
    expect(after).toEqual(before);
    expect(h.digest(1)).toBe(md5(before.subarray(4096, 8096)));
  });

  it('hashes a lane that ends where memory ends, next to a longer one', () => {
    // 15 regions of 4 KiB after the control page fill 64 KiB exactly.
    const opts = { lanes: 15, regionBytes: 4096 };
    expect(Lanes.bytesNeeded(opts)).toBe(65536);
    const { h, mem } = create(opts);
    expect(h.memory.buffer.byteLength).toBe(65536);
    const next = rng(8);
    const a = randomBytes(4096, next);
    const z = randomBytes(64, next);
    mem.set(a, h.regionOffset(0));
    mem.set(z, h.regionOffset(14));
    const bytes = new Array<number>(15).fill(0);
    bytes[0] = 4096;
    bytes[14] = 64;
    h.update(bytes, bytes.map(() => true));
    expect([h.digest(0), h.digest(14), h.digest(7)]).toEqual([md5(a), md5(z), md5(new Uint8Array(0))]);
  });

  it('lays out page-aligned regions after the control page', () => {
    const opts = { lanes: 5, regionBytes: 1000 * 64, offset: 3 * 4096 };
    const h = new Lanes(Lanes.memoryFor(opts), opts);
    const offsets = [0, 1, 2, 3, 4].map((l) => h.regionOffset(l));
    expect(offsets.every((o) => o % 4096 === 0)).toBe(true);
    expect(offsets[0]).toBe(4 * 4096);
    for (let l = 1; l < 5; l++) expect(offsets[l] - offsets[l - 1]).toBeGreaterThanOrEqual(opts.regionBytes);
    expect(offsets[4] + opts.regionBytes).toBeLessThanOrEqual(Lanes.bytesNeeded(opts));
    expect(() => h.regionOffset(5)).toThrow(RangeError);
  });

  it('rejects bad options and bad updates, changing nothing', () => {
    const opts = { lanes: 4, regionBytes: 4096 };
    const mem = Lanes.memoryFor(opts);
    expect(() => new Lanes(mem, { lanes: 17, regionBytes: 4096 })).toThrow(RangeError);
    expect(() => new Lanes(mem, { lanes: 4, regionBytes: 100 })).toThrow(RangeError);
    expect(() => new Lanes(mem, { lanes: 4, regionBytes: 4096, offset: 100 })).toThrow(RangeError);
    expect(() => new Lanes(mem, { lanes: 4, regionBytes: 1 << 20 })).toThrow(/too small/);

    const h = new Lanes(mem, opts);
    const view = new Uint8Array(mem.buffer);
    view.fill(7, h.regionOffset(0), h.regionOffset(0) + 128);
    h.update([64]);
    expect(() => h.update([64, 65])).toThrow(/multiple of 64/);
    expect(() => h.update([4160])).toThrow(/bad byte count/);
    expect(() => h.update([-64])).toThrow(/bad byte count/);
    h.update([64], [true]);
    expect(h.digest(0)).toBe(md5(new Uint8Array(128).fill(7)));
    expect(() => h.update([0], [true])).toThrow(/already finished/);
    expect(() => h.update([64])).toThrow(/already finished/);
    expect(h.finished(0)).toBe(true);
    h.reset(0);
    expect(h.finished(0)).toBe(false);
    expect(() => h.digest(0)).toThrow(/not finished/);
  });

});

describe('the MD5 kernel', () => {
  it('generates a valid module for each lane count', () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    for (const lanes of [4, 8, 12, 16]) {
      expect(wasm.validate(md5KernelWasm(lanes))).toBe(true);
    }
    expect(md5KernelWasm(5)).toEqual(md5KernelWasm(8));
    expect(md5KernelWasm(12).length).toBeGreaterThan(md5KernelWasm(8).length);
  });
});
