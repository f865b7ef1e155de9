/**
 * Turns a submit's `flow_data` into plain JSON before anything is sent, or
 * says which value cannot be sent and why.
 *
 * `JSON.stringify` silently drops functions, turns `NaN` into `null` and
 * array holes into `null`, and throws without a path on cycles and BigInt;
 * each of those would reach the service as different data than the caller
 * wrote. The rules here follow what SODAR Core's `DjangoJSONEncoder` sends:
 *
 * - sent as they are: `null`, booleans, strings, finite numbers, arrays,
 *   plain objects (prototype `Object.prototype` or `null`; own enumerable
 *   string keys only, as `JSON.stringify`);
 * - converted: values with a `toJSON()` method (a `Date` becomes its ISO
 *   string), boxed primitives (unboxed), and UUID-like objects, i.e. objects
 *   whose own `toString()` gives a canonical UUID (sent as that string);
 * - an object property whose value is `undefined` is left out (the usual way
 *   to write an optional field);
 * - refused: functions, symbols, BigInt, `NaN` and ±Infinity, `undefined` in
 *   an array or array holes, invalid Dates, cycles (shared, non-cyclic
 *   references are fine), and any other class instance (Map, Set, …).
 *
 * @module
 */

/** Plain JSON as sent on the wire. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A canonical UUID in its string form (any version, any case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why a value at a path cannot be sent. */
export class UnserialisableValue {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * The string form of a UUID-like object (one with its own `toString()` giving
 * a canonical UUID), else `undefined`.
 */
export function uuidString(value: object): string | undefined {
  const toString = (value as { toString?: unknown }).toString;
  if (typeof toString !== 'function' || toString === Object.prototype.toString) return undefined;
  let text: unknown;
  try {
    text = toString.call(value);
  } catch {
    return undefined;
  }
  return typeof text === 'string' && UUID_PATTERN.test(text) ? text : undefined;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  const name = ctor && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'unknown class';
  return `is a ${name} instance; only plain objects, arrays, strings, finite numbers, booleans, null, Dates and UUID-like values can be sent`;
}

/**
 * Converts `value` (found at `path`) to plain JSON.
 * `ancestors` holds the objects currently being converted, to detect cycles.
 * Returns `undefined` only for an `undefined` object property (left out).
 */
function convert(
  value: unknown,
  path: string,
  key: string,
  ancestors: Map<object, string>,
  inArray: boolean,
): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new UnserialisableValue(path, `is ${value}, which JSON cannot represent`);
      return value;
    case 'bigint':
      throw new UnserialisableValue(path, 'is a BigInt, which JSON cannot represent; send it as a string or number');
    case 'undefined':
      if (inArray) throw new UnserialisableValue(path, 'is undefined (or an array hole), which JSON cannot represent');
      return undefined;
    case 'function':
      throw new UnserialisableValue(path, 'is a function, which JSON cannot represent');
    case 'symbol':
      throw new UnserialisableValue(path, 'is a symbol, which JSON cannot represent');
  }
  if (value === null) return null;
  const obj = value as object;

  const seenAt = ancestors.get(obj);
  if (seenAt !== undefined) throw new UnserialisableValue(path, `refers back to ${seenAt} (a cycle)`);

  if (obj instanceof Date && Number.isNaN(obj.getTime())) throw new UnserialisableValue(path, 'is an invalid Date');
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) {
    return convert(obj.valueOf(), path, key, ancestors, inArray);
  }
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let replaced: unknown;
    try {
      replaced = toJSON.call(obj, key);
    } catch (err) {
      throw new UnserialisableValue(path, `has a toJSON() that failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (replaced !== obj) {
      ancestors.set(obj, path);
      try {
        return convert(replaced, path, key, ancestors, inArray);
      } finally {
        ancestors.delete(obj);
      }
    }
  }

  if (Array.isArray(obj)) {
    ancestors.set(obj, path);
    try {
      const out: JsonValue[] = new Array<JsonValue>(obj.length);
      for (let i = 0; i < obj.length; i++) {
        out[i] = convert(obj[i], `${path}[${i}]`, String(i), ancestors, true) as JsonValue;
      }
      return out;
    } finally {
      ancestors.delete(obj);
    }
  }

  if (isPlainObject(obj)) {
    ancestors.set(obj, path);
    try {
      const out: { [key: string]: JsonValue } = {};
      for (const k of Object.keys(obj)) {
        const at = keyPath(path, k);
        // an object's own `__proto__` key (from JSON.parse) would set the copy's prototype and vanish from what is sent
        if (k === '__proto__') throw new UnserialisableValue(at, 'is a key named __proto__, which the service refuses');
        let raw: unknown;
        try {
          raw = (obj as Record<string, unknown>)[k];
        } catch (err) {
          throw new UnserialisableValue(at, `could not be read: ${err instanceof Error ? err.message : String(err)}`);
        }
        const v = convert(raw, at, k, ancestors, false);
        if (v !== undefined) out[k] = v;
      }
      return out;
    } finally {
      ancestors.delete(obj);
    }
  }

  const uuid = uuidString(obj);
  if (uuid !== undefined) return uuid;
  throw new UnserialisableValue(path, describe(obj));
}

/**
 * Converts a submit's `flow_data` to plain JSON following the module's rules.
 * Throws {@link UnserialisableValue} naming the first offending path
 * (`flow_data`, `flow_data.colls[2]`, `flow_data["odd key"]`, …).
 */
export function toFlowDataJson(flowData: unknown, root = 'flow_data'): { [key: string]: JsonValue } {
  if (typeof flowData !== 'object' || flowData === null || Array.isArray(flowData) || !isPlainObject(flowData)) {
    throw new UnserialisableValue(root, 'must be a plain object (a dict of flow input fields)');
  }
  try {
    return convert(flowData, root, '', new Map(), false) as { [key: string]: JsonValue };
  } catch (err) {
    if (err instanceof RangeError) throw new UnserialisableValue(root, `is nested too deeply to send (${err.message})`);
    throw err;
  }
}
