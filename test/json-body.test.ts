import { describe, expect, it } from 'vitest';
import { InvalidUtf8BodyError, JsonTooDeepError, RefusedJsonKeyError, decodeUtf8Body, jsonNestingExceeds, parseJsonBody } from '../src/json-body.js';

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

  it('parseJsonBody refuses too deep text with a typed 400 error and parses the rest', () => {
    expect(() => parseJsonBody('['.repeat(65) + ']'.repeat(65))).toThrow(JsonTooDeepError);
    expect(parseJsonBody('['.repeat(64) + ']'.repeat(64))).toBeInstanceOf(Array);
    const err = new JsonTooDeepError(64);
    expect([err.statusCode, err.message]).toEqual([400, 'JSON nested too deeply: more than 64 levels of arrays and objects']);
  });
});

describe('decodeUtf8Body', () => {
  it('decodes UTF-8, several bytes per character included, and drops a leading byte order mark', () => {
    expect(decodeUtf8Body(Buffer.from('{"title":"Café 🧬"}'))).toBe('{"title":"Café 🧬"}');
    expect(decodeUtf8Body(Buffer.from('\uFEFF{}'))).toBe('{}');
    expect(decodeUtf8Body(Buffer.alloc(0))).toBe('');
  });

  it('refuses bytes that are not UTF-8 with a typed 400 error instead of replacing them by U+FFFD', () => {
    const latin1 = Buffer.concat([Buffer.from('{"title":"Caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const cut = Buffer.from('é').subarray(0, 1);
    const surrogate = Buffer.from([0xed, 0xa0, 0x80]);
    const overlong = Buffer.from([0xc0, 0xaf]);
    for (const bytes of [latin1, cut, surrogate, overlong]) expect(() => decodeUtf8Body(bytes)).toThrow(InvalidUtf8BodyError);
    const err = new InvalidUtf8BodyError();
    expect([err.statusCode, err.message]).toEqual([400, 'Request body is not valid UTF-8: send text encoded as UTF-8']);
  });
});

describe('parseJsonBody', () => {
  const refusal = (text: string): unknown => {
    try {
      parseJsonBody(text);
    } catch (err) {
      return err instanceof RefusedJsonKeyError ? [err.statusCode, err.key, err.message] : (err as { code?: string }).code;
    }
    return 'parsed';
  };

  it('refuses a valid JSON body holding "__proto__" anywhere, escaped too, naming the key', () => {
    const proto = [400, '__proto__', 'Request body refused: key "__proto__" is not allowed'];
    expect(refusal('{"__proto__":{"x":1}}')).toEqual(proto);
    expect(refusal('{"flow_data":[{"a":{"__proto__":{}}}]}')).toEqual(proto);
    expect(refusal('{"\\u005f_proto__":{}}')).toEqual(proto);
  });

  it('refuses "constructor" holding "prototype", and only that, naming it', () => {
    const ctor = [400, 'constructor.prototype', 'Request body refused: key "constructor" holding a "prototype" key is not allowed'];
    expect(refusal('{"constructor":{"prototype":{"x":1}}}')).toEqual(ctor);
    expect(refusal('{"a":{"constructor":{"prototype":null}}}')).toEqual(ctor);
    expect(parseJsonBody('{"constructor":"a name","prototype":{}}')).toEqual({ constructor: 'a name', prototype: {} });
  });

  it("answers malformed and empty text with Fastify's own errors, and too deep text before parsing", () => {
    expect(refusal('{"__proto__":')).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
    expect(refusal('')).toBe('FST_ERR_CTP_EMPTY_JSON_BODY');
    expect(() => parseJsonBody(`{"__proto__":${'['.repeat(65)}${']'.repeat(65)}}`)).toThrow(JsonTooDeepError);
  });
});
