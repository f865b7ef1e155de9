/**
 * {@link BurstLog}: the first event of a burst is logged at once, the rest
 * as one count per interval while the burst lasts, and what is counted when
 * it closes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BurstLog } from '../../src/irods/server/burst-log.js';

describe('a burst log', () => {
  let lines: number[];
  let burst: BurstLog;
  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    burst = new BurstLog((count) => lines.push(count), 1000);
  });
  afterEach(() => {
    burst.close();
    vi.useRealTimers();
  });

  it('logs the first event at once and counts the others of the interval into one line', () => {
    for (let i = 0; i < 500; i++) burst.note();
    expect(lines).toEqual([1]);
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([1, 499]);
  });

  it('goes on logging one count per interval while the burst lasts, and ends it after a quiet interval', () => {
    burst.note();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) burst.note();
      vi.advanceTimersByTime(1000);
    }
    expect(lines).toEqual([1, 10, 10, 10]);
    vi.advanceTimersByTime(1000); // nothing came: the burst is over
    expect(vi.getTimerCount()).toBe(0);
    burst.note(); // a new burst's first
    expect(lines).toEqual([1, 10, 10, 10, 1]);
  });

  it('logs what it counted when it closes, and nothing when it counted nothing', () => {
    burst.note();
    burst.note();
    burst.note();
    burst.close();
    expect(lines).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
    burst.close();
    expect(lines).toEqual([1, 2]);
    burst.note();
    expect(lines).toEqual([1, 2, 1]);
  });
});
