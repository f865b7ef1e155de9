import { describe, expect, it } from 'vitest';
import { newRunId } from '../../src/engine/index.js';

describe('newRunId', () => {
  it('is a version 7 UUID that begins with the time in milliseconds', () => {
    const before = Date.now();
    const id = newRunId();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    // a counter past 4096 ids in one millisecond moves the time on by one
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 1);
  });

  it('ids made one after another sort in the order they were made, and none repeats', () => {
    const ids = Array.from({ length: 20_000 }, () => newRunId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
