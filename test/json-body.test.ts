import { describe, expect, it } from 'vitest';
import { JsonTooDeepError, jsonNestingExceeds, parseBoundedJson } from '../src/json-body.js';

describe('jsonNestingExceeds', () => {
  it('counts arrays and objects inside each other, up to the bound and one past it', () => {
    expect(jsonNestingExceeds('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(jsonNestingExceeds('{"a":[{"b":[[]]}]}', 4)).toBe(true);
    // siblings do not add up
    expect(jsonNestingExceeds(`[${'[],'.repeat(1000)}[]]`, 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
    expect(jsonNestingExceeds(JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[\\"', c: '\\', d: '"[[[' }), 1)).toBe(false);
    expect(jsonNestingExceeds(JSON.stringify(['\\', ['x']]), 1)).toBe(true);
  });

  it('parseBoundedJson refuses too deep text with a typed 400 error and parses the rest', () => {
    expect(() => parseBoundedJson('['.repeat(65) + ']'.repeat(65))).toThrow(JsonTooDeepError);
    expect(parseBoundedJson('['.repeat(64) + ']'.repeat(64))).toBeInstanceOf(Array);
    const err = new JsonTooDeepError(64);
    expect([err.statusCode, err.message]).toEqual([400, 'JSON nested too deeply: more than 64 levels of arrays and objects']);
  });
});
