/**
 * The XML packing of iRODS structures (`irodsProt=1`), both ways and without
 * a schema: replies are written from {@link PiMessage}s (fields in insertion
 * order), requests are read into {@link PiNode}s (see `pi-values.ts`).
 *
 * iRODS XML is a small subset of XML: elements and text only, the five
 * predefined entities and character references (iRODS 4.3.5 `packStruct.cpp`;
 * python-irodsclient 0.8.1 `message/property.py` escapes `& < >` and reads
 * with ElementTree). The reader is a strict parser for exactly that subset:
 * no DOCTYPE, entity declarations, comments, processing instructions (beyond
 * an XML declaration), CDATA or attributes, a bounded depth, and linear
 * time, so a hostile body gets a clear error quickly.
 *
 * @module
 */
import { isAscii } from 'node:buffer';
import { IrodsError } from './irods-error.js';
import type { PiField, PiFields, PiMessage, PiNode, PiValue } from './pi-values.js';

/**
 * How apostrophes travel. iRODS 4.2.9 and later write `'` as `&apos;`;
 * older peers (and peers of unknown version) take `'` raw, and `&apos;`
 * means a backtick to them, both ways (iRODS 4.3.5 `packStruct.cpp`
 * `use_correct_xml_encoding`).
 */
export type AposStyle = 'entity' | 'legacy';

/** Options of {@link encodePi}. */
export interface EncodeOptions {
  apos?: AposStyle;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NEEDS_ESCAPE = /[&<>"'`]/;
const ESCAPE_ALL = /[&<>"'`]/g;

/** `s` escaped for element text. */
export function escapeXml(s: string, apos: AposStyle = 'entity'): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(ESCAPE_ALL, (c) => {
    if (c === "'") return apos === 'entity' ? '&apos;' : c;
    if (c === '`') return apos === 'entity' ? c : '&apos;';
    return ESCAPES[c]!;
  });
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot pack the number ${n}`);
  if (Number.isSafeInteger(n)) return String(n);
  // integers beyond 2^53 would print in exponent form; iRODS reads decimal digits only
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

// The packing concatenates strings: V8 joins them as ropes, and pushing each
// piece into an array to join at the end cost six times as much for a page
// of GenQuery rows (500 rows of 21 columns: 16 ms against 2.6).

function fieldText(key: string, value: PiField | undefined | null, apos: AposStyle): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    let s = '';
    for (const v of value) s += fieldText(key, v, apos);
    return s;
  }
  let inner: string;
  if (typeof value === 'string') inner = escapeXml(value, apos);
  else if (typeof value === 'number') inner = numberText(value);
  else if (typeof value === 'bigint') inner = value.toString();
  else if (Buffer.isBuffer(value)) inner = value.toString('base64');
  else inner = fieldsText(value, apos);
  return '<' + key + '>' + inner + '</' + key + '>';
}

function fieldsText(fields: PiFields, apos: AposStyle): string {
  let s = '';
  for (const key of Object.keys(fields)) s += fieldText(key, fields[key], apos);
  return s;
}

/** Packs a message as iRODS XML (UTF-8). */
export function encodePi(msg: PiMessage, opts: EncodeOptions = {}): Buffer {
  return Buffer.from('<' + msg.name + '>' + fieldsText(msg.fields, opts.apos ?? 'entity') + '</' + msg.name + '>\n', 'utf8');
}

/** Bounds and options of {@link decodePi}. */
export interface DecodeLimits {
  /** Deepest element nesting (the root is depth 1). iRODS structures nest a few levels. */
  maxDepth?: number;
  /** What `&apos;` means (see {@link AposStyle}). */
  apos?: AposStyle;
  /**
   * Freeze the decoding: every node and list as its element closes, and
   * the result (a walk over the finished decoding cost as much again as
   * the freezing itself).
   */
  freeze?: boolean;
}

/** A decoded body: the root element's name and content. */
export interface DecodedPi {
  name: string;
  node: PiNode;
}

const DEFAULT_MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(what: string): IrodsError {
  return new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `malformed XML body: ${what}`);
}

/** `[A-Za-z_]`: by character code, as a regular expression per character cost more than the rest of a small body. */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** `[A-Za-z0-9_.-]`. */
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

/** One open element while parsing. */
interface Frame {
  name: string;
  node: PiNode;
  text: string;
  hasChildren: boolean;
  /** The lists its repeated children made, to freeze with the node. */
  lists: PiValue[][] | undefined;
}

/** A new {@link Frame} (one shape for all). */
function openFrame(name: string, text: string): Frame {
  return { name, node: Object.create(null) as PiNode, text, hasChildren: false, lists: undefined };
}

/** Freezes a closed element's node and the lists in it. */
function freezeFrame(f: Frame): void {
  if (f.lists) for (const list of f.lists) Object.freeze(list);
  Object.freeze(f.node);
}

/** The decoding of a root element whose node is finished (and frozen, when asked), frozen too when asked. */
function rootOf(name: string, node: PiNode, freeze: boolean): DecodedPi {
  return freeze ? Object.freeze({ name, node }) : { name, node };
}

/** The node of an empty root element. */
function emptyNode(freeze: boolean): PiNode {
  const node = Object.create(null) as PiNode;
  return freeze ? Object.freeze(node) : node;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function decodeEntity(ref: string, apos: AposStyle): string {
  switch (ref) {
    case 'amp':
      return '&';
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'quot':
      return '"';
    case 'apos':
      return apos === 'entity' ? "'" : '`';
  }
  let cp: number;
  if (/^#[0-9]{1,7}$/.test(ref)) cp = Number(ref.slice(1));
  else if (/^#x[0-9A-Fa-f]{1,6}$/.test(ref)) cp = parseInt(ref.slice(2), 16);
  else throw bad(`unknown entity &${ref.slice(0, 20)};`);
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw bad(`character reference &${ref}; is not a character`);
  return String.fromCodePoint(cp);
}

function unescapeText(raw: string, apos: AposStyle): string {
  if (!raw.includes('&')) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const amp = raw.indexOf('&', i);
    if (amp < 0) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, amp);
    const semi = raw.indexOf(';', amp);
    if (semi < 0 || semi - amp > 12) throw bad('an unterminated entity reference');
    out += decodeEntity(raw.slice(amp + 1, semi), apos);
    i = semi + 1;
  }
  return out;
}

function addChild(parent: Frame, name: string, value: PiValue): void {
  const node = parent.node;
  const prev = node[name];
  // a decoded value is a list only when its element repeats, so a list here is that element's
  if (prev === undefined) node[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else {
    const list = [prev, value];
    node[name] = list;
    (parent.lists ??= []).push(list);
  }
}

/**
 * Reads an iRODS XML body. Throws `USER_PACKSTRUCT_INPUT_ERR` with what is
 * wrong for anything outside the iRODS subset of XML.
 */
export function decodePi(input: Buffer | string, limits: DecodeLimits = {}): DecodedPi {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const apos = limits.apos ?? 'entity';
  const freeze = limits.freeze ?? false;
  let s: string;
  if (typeof input === 'string') s = input;
  else {
    // ASCII (every request python-irodsclient sends for ASCII paths) reads as Latin-1, without the UTF-8 check
    if (isAscii(input)) s = input.toString('latin1');
    else {
      try {
        s = utf8.decode(input);
      } catch {
        throw bad('not UTF-8');
      }
    }
  }
  const simple = decodeSimple(s, maxDepth, freeze);
  if (simple) return simple;
  let i = 0;
  const n = s.length;
  const skipSpace = (): void => {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
  };
  const readName = (): string => {
    const start = i;
    if (i >= n || !isNameStart(s.charCodeAt(i))) throw bad(`expected an element name at offset ${i}`);
    i++;
    while (i < n && isNameChar(s.charCodeAt(i))) i++;
    if (i - start > 256) throw bad('an element name longer than 256 characters');
    return s.slice(start, i);
  };

  skipSpace();
  if (s.startsWith('<?xml', i)) {
    const end = s.indexOf('?>', i);
    if (end < 0) throw bad('an unterminated XML declaration');
    i = end + 2;
    skipSpace();
  }

  const stack: Frame[] = [];
  let root: DecodedPi | undefined;
  while (i < n) {
    if (root) {
      skipSpace();
      if (i < n) throw bad('content after the root element');
      break;
    }
    const lt = s.indexOf('<', i);
    if (stack.length === 0) {
      if (lt !== i) throw bad(lt < 0 ? 'no root element' : 'text before the root element');
    } else if (lt < 0) {
      throw bad(`element <${stack[stack.length - 1]!.name}> is not closed`);
    } else if (lt > i) {
      stack[stack.length - 1]!.text += s.slice(i, lt);
    }
    i = lt + 1;
    const c = s[i];
    if (c === '/') {
      i++;
      const name = readName();
      skipSpace();
      if (s[i] !== '>') throw bad(`expected > after </${name}`);
      i++;
      const frame = stack.pop();
      if (!frame || frame.name !== name) throw bad(`</${name}> does not close ${frame ? `<${frame.name}>` : 'any element'}`);
      let value: PiValue;
      if (frame.hasChildren) {
        if (frame.text.trim() !== '') throw bad(`<${name}> mixes text and elements`);
        if (freeze) freezeFrame(frame);
        value = frame.node;
      } else value = unescapeText(frame.text, apos);
      const parent = stack[stack.length - 1];
      if (parent) addChild(parent, name, value);
      else if (typeof value !== 'string') root = rootOf(name, value, freeze);
      else if (value.trim() === '') root = rootOf(name, emptyNode(freeze), freeze);
      else throw bad(`the root element <${name}> holds text, not a structure`);
      continue;
    }
    if (c === '!') throw bad(s.startsWith('!DOCTYPE', i) ? 'DOCTYPE is not allowed' : 'comments and CDATA are not allowed');
    if (c === '?') throw bad('processing instructions are not allowed');
    const name = readName();
    skipSpace();
    if (s[i] === '/' && s[i + 1] === '>') {
      i += 2;
      const parent = stack[stack.length - 1];
      if (parent) {
        parent.hasChildren = true;
        addChild(parent, name, '');
      } else root = rootOf(name, emptyNode(freeze), freeze);
      continue;
    }
    if (s[i] !== '>') throw bad(`attributes are not allowed (element <${name}>)`);
    i++;
    if (stack.length >= maxDepth) throw bad(`elements nested deeper than ${maxDepth}`);
    const parent = stack[stack.length - 1];
    if (parent) parent.hasChildren = true;
    stack.push(openFrame(name, ''));
  }
  if (!root) throw bad(stack.length > 0 ? `element <${stack[stack.length - 1]!.name}> is not closed` : 'no root element');
  return root;
}

/** `[ \t\n\r]*` from `from` to `to`. */
function allSpace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * {@link decodePi} for a body of the shape every client writes: tags and
 * text only, from the first character, no entity, no self-closing tag, no
 * space inside a tag. A scan from tag to tag with `indexOf` in a small
 * function, instead of character by character (the decoder was the costliest
 * part of a small request and the slowest to optimise). Undefined for
 * anything else, which the full decoder then reads (or rejects with its
 * errors): this never accepts what that one refuses, and reads what it
 * accepts the same way.
 */
function decodeSimple(s: string, maxDepth: number, freeze: boolean): DecodedPi | undefined {
  const n = s.length;
  if (s.charCodeAt(0) !== 0x3c || s.indexOf('&') >= 0) return undefined;
  const stack: Frame[] = [];
  let i = 0;
  while (i < n) {
    // s[i] is '<'
    const closing = s.charCodeAt(i + 1) === 0x2f;
    const nameAt = closing ? i + 2 : i + 1;
    const gt = s.indexOf('>', nameAt);
    if (gt < 0 || gt - nameAt > 256 || gt === nameAt || !isNameStart(s.charCodeAt(nameAt))) return undefined;
    for (let k = nameAt + 1; k < gt; k++) if (!isNameChar(s.charCodeAt(k))) return undefined;
    const name = s.slice(nameAt, gt);
    const lt = s.indexOf('<', gt + 1);
    const textEnd = lt < 0 ? n : lt;
    if (!closing) {
      if (stack.length >= maxDepth) return undefined;
      const parent = stack[stack.length - 1];
      if (parent) {
        if (!allSpace(parent.text, 0, parent.text.length)) return undefined;
        parent.hasChildren = true;
      }
      stack.push(openFrame(name, s.slice(gt + 1, textEnd)));
    } else {
      const frame = stack.pop();
      if (!frame || frame.name !== name) return undefined;
      // after a closing tag only space may follow before the next tag (between children) or the end (after the root)
      if (!allSpace(s, gt + 1, textEnd)) return undefined;
      let value: PiValue;
      if (frame.hasChildren) {
        if (!allSpace(frame.text, 0, frame.text.length)) return undefined;
        if (freeze) freezeFrame(frame);
        value = frame.node;
      } else value = frame.text;
      const parent = stack[stack.length - 1];
      if (parent) addChild(parent, name, value);
      else {
        if (lt >= 0) return undefined;
        if (typeof value !== 'string') return rootOf(name, value, freeze);
        return allSpace(value, 0, value.length) ? rootOf(name, emptyNode(freeze), freeze) : undefined;
      }
    }
    if (lt < 0) return undefined;
    i = lt;
  }
  return undefined;
}
