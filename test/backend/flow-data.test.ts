import { describe, expect, it } from 'vitest';
import { toFlowDataJson, UnserialisableValue, uuidString } from '../../src/backend/flow-data.js';
import { sodarUrlFromRequest } from '../../src/backend/request.js';

function refusal(value: unknown): UnserialisableValue {
  try {
    toFlowDataJson(value);
  } catch (err) {
    if (err instanceof UnserialisableValue) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('toFlowDataJson', () => {
  it('keeps plain JSON as it is', () => {
    const data = { s: 'x', n: -1.5, b: false, z: null, list: [1, 'a', [], {}], nested: { deep: { er: [null] } } };
    expect(toFlowDataJson(data)).toEqual(data);
    expect(toFlowDataJson(Object.assign(Object.create(null) as object, { a: 1 }))).toEqual({ a: 1 });
  });

  it('uses toJSON and UUID-like toString, but not an arbitrary toString', () => {
    class Uuid {
      toString(): string {
        return 'AA8B1D4E-2A3C-4B5D-8E9F-0A1B2C3D4E5F';
      }
    }
    class Money {
      toJSON(): string {
        return '1.50';
      }
    }
    class Named {
      toString(): string {
        return 'not a uuid';
      }
    }
    expect(toFlowDataJson({ u: new Uuid(), m: new Money() })).toEqual({ u: 'AA8B1D4E-2A3C-4B5D-8E9F-0A1B2C3D4E5F', m: '1.50' });
    expect(refusal({ n: new Named() })).toMatchObject({ path: 'flow_data.n', reason: expect.stringMatching(/Named instance/) });
    expect(uuidString({})).toBeUndefined();
  });

  it('names the offending path, deep inside arrays and odd keys', () => {
    expect(refusal({ a: [{ b: [0, { 'c-d': new Set() }] }] }).path).toBe('flow_data.a[0].b[1]["c-d"]');
    expect(refusal({ holes: [1, , 3] }).path).toBe('flow_data.holes[1]');
    expect(refusal('text').path).toBe('flow_data');
    expect(refusal(new Map()).reason).toMatch(/plain object/);
  });

  it('reports a cycle through arrays and a toJSON that throws', () => {
    const list: unknown[] = [];
    list.push({ back: list });
    expect(refusal({ list })).toMatchObject({ path: 'flow_data.list[0].back', reason: 'refers back to flow_data.list (a cycle)' });
    const bad = { toJSON() { throw new Error('boom'); } };
    expect(refusal({ bad }).reason).toMatch(/toJSON\(\) that failed: boom/);
  });

  it('refuses a value whose reading throws, and an own __proto__ key, instead of sending something else', () => {
    const getter = { paths: [], get broken(): unknown { throw new Error('boom'); } };
    expect(refusal(getter)).toMatchObject({ path: 'flow_data.broken', reason: 'could not be read: boom' });
    const parsed: unknown = JSON.parse('{"settings": {"__proto__": {"x": 1}, "y": 2}}');
    expect(refusal(parsed)).toMatchObject({ path: 'flow_data.settings.__proto__', reason: 'is a key named __proto__, which the service refuses' });
  });

  it('refuses nesting too deep to convert instead of crashing', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep.x = next;
      deep = next;
    }
    expect(refusal(root).reason).toMatch(/nested too deeply/);
  });
});

describe('sodarUrlFromRequest', () => {
  it('reads URLSearchParams, repeated fields (last wins) and nothing from absent requests', () => {
    expect(sodarUrlFromRequest({ body: new URLSearchParams('sodar_url=http://a&sodar_url=http://b') })).toBe('http://b');
    expect(sodarUrlFromRequest({ query: { sodar_url: ['http://a', 'http://c'] } })).toBe('http://c');
    expect(sodarUrlFromRequest({ query: '?sodar_url=http%3A%2F%2Fq' })).toBe('http://q');
    expect(sodarUrlFromRequest({ body: { sodar_url: 5 } })).toBeUndefined();
    expect(sodarUrlFromRequest({ body: '{not json' })).toBeUndefined();
    expect(sodarUrlFromRequest(undefined)).toBeUndefined();
    expect(sodarUrlFromRequest({})).toBeUndefined();
  });
});
