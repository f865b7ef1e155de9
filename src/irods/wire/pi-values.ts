/**
 * Packed iRODS structures (`*_PI`) as plain values, both ways, without a
 * schema: a request body is decoded into a {@link PiNode} (element name to
 * text, nested node, or list when an element repeats), and a reply is built as
 * a {@link PiMessage} whose fields are written in insertion order, which must
 * be the order of the packing instruction (iRODS 4.3.5 `rodsPackTable.h`),
 * as the reply builders beside each handler do. The accessors here turn the
 * schema-less values into typed ones with a clear error for a bad field.
 *
 * @module
 */
import { IrodsError } from './irods-error.js';

/** A decoded element's content. */
export type PiValue = string | PiNode | PiValue[];
/** A decoded structure: child element name to value. */
export interface PiNode {
  [element: string]: PiValue;
}

/** A reply field: numbers are written in decimal, Buffers in base64 (`bin` fields), lists repeat the element. */
export type PiField = string | number | bigint | Buffer | PiFields | PiField[];
/** A reply structure's fields, in packing-instruction order. */
export interface PiFields {
  [element: string]: PiField;
}
/** A reply body: the root element (the packing instruction's name) and its fields. */
export interface PiMessage {
  name: string;
  fields: PiFields;
}

/** Every occurrence of `key` in `node` as a list (absent: empty). */
export function many(node: PiNode | null | undefined, key: string): PiValue[] {
  const v = node?.[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The text of `key` ('' when absent or empty); a nested or repeated element is a packing error. */
export function text(node: PiNode | null | undefined, key: string): string {
  const v = node?.[key];
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) && Object.keys(v).length === 0) return '';
  throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `field ${key} must be a single text value`);
}

/** The integer of `key` (0 when absent); anything but a decimal integer is a packing error. */
export function int(node: PiNode | null | undefined, key: string): number {
  const t = text(node, key).trim();
  if (t === '') return 0;
  if (!/^-?\d{1,16}$/.test(t)) throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `field ${key} must be an integer, not ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/** The nested structure `key` (an empty node when absent). */
export function child(node: PiNode | null | undefined, key: string): PiNode {
  const v = node?.[key];
  if (v === undefined || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v;
  throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `field ${key} must be a structure`);
}

/**
 * A `KeyValPair_PI` (`ssLen`, then `keyWord` and `svalue` repeated) as a
 * map; `node` is the structure holding it (e.g. a `DataObjInp_PI`).
 */
export function keyValues(node: PiNode | null | undefined): Map<string, string> {
  const kv = child(node, 'KeyValPair_PI');
  const keys = many(kv, 'keyWord');
  const values = many(kv, 'svalue');
  const out = new Map<string, string>();
  keys.forEach((k, i) => {
    const v = values[i];
    if (typeof k === 'string') out.set(k, typeof v === 'string' ? v : '');
  });
  return out;
}

/** A `KeyValPair_PI` reply field from a map, in the packing order. */
export function keyValuesField(map: ReadonlyMap<string, string> = new Map()): PiFields {
  const fields: PiFields = { ssLen: map.size };
  if (map.size > 0) {
    fields.keyWord = [...map.keys()];
    fields.svalue = [...map.values()];
  }
  return fields;
}
