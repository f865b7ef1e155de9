import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../src/bounded-cache.js';

describe('bounded cache', () => {
  it('keeps values under their keys and returns the value it keeps', () => {
    const c = new BoundedCache<string, number>(3);
    expect(c.set('a', 1)).toBe(1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    expect(c.get('b')).toBe(2);
    expect(c.get('c')).toBeUndefined();
  });

  it('starts afresh when full, so it never holds more than its bound', () => {
    const c = new BoundedCache<number, number>(2);
    c.set(1, 1);
    c.set(2, 2);
    c.set(3, 3);
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)).toBeUndefined();
    expect(c.get(3)).toBe(3);
  });
});
