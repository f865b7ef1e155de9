/**
 * The one place for logical path rules of the data store. A valid path is
 * absolute, starts with `/<zone>`, has no empty, `.` or `..` segments, no NUL
 * or control characters, and is not over-long. A single trailing slash is
 * tolerated and dropped (`/zone/a/` is `/zone/a`).
 *
 * @module
 */
import { InvalidPathError } from './errors.js';

/** Longest accepted path, in characters (iRODS allows 2700 bytes). */
export const MAX_PATH_LENGTH = 2700;
/** Longest accepted segment (one collection or object name), in characters. */
export const MAX_SEGMENT_LENGTH = 255;
/**
 * `/`, the root collection: the zone collection's parent. The catalog keeps
 * it as an iRODS catalog does (`embedded/schema.ts`), but it is no path of
 * the store's calls, which all lie inside the zone: it is only read, over
 * the iRODS protocol.
 */
export const ROOT_PATH = '/';

// C0 controls, DEL and C1 controls: invisible in listings and unsafe in shells.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks and normalises a logical path inside `zone`. Returns the path
 * without a trailing slash. Throws {@link InvalidPathError} naming the path
 * and the broken rule.
 */
export function normalizePath(path: string, zone: string): string {
  // most paths come normalised already (built by the flows, or passed from call to call): one scan says so
  if (typeof path === 'string' && isNormalPath(path, zone)) return path;
  return checkPath(path, zone);
}

/**
 * Whether {@link checkPath} would return `path` unchanged: inside the zone,
 * no trailing slash, and every rule met. One pass over the characters,
 * without the split and the regular expression; anything else (an error to
 * report, a trailing slash to drop) takes the full check.
 */
function isNormalPath(path: string, zone: string): boolean {
  const n = path.length;
  const z = zone.length;
  if (z === 0 || n > MAX_PATH_LENGTH || n <= z || path.charCodeAt(0) !== SLASH || !path.startsWith(zone, 1)) return false;
  if (n > z + 1 && path.charCodeAt(z + 1) !== SLASH) return false;
  // the zone segment is the zone name itself: the checks below start at the slash after it
  let segStart = z + 2;
  for (let i = z + 1; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : SLASH;
    if (c === SLASH) {
      if (i === z + 1) continue;
      const len = i - segStart;
      if (len === 0 || len > MAX_SEGMENT_LENGTH) return false;
      if (path.charCodeAt(segStart) === DOT && (len === 1 || (len === 2 && path.charCodeAt(segStart + 1) === DOT))) return false;
      segStart = i + 1;
    } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return false;
    }
  }
  return true;
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** The full check of {@link normalizePath}, naming the rule a path breaks. */
function checkPath(path: string, zone: string): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'not a string');
  if (path === '') throw new InvalidPathError(path, 'empty path');
  if (path.includes('\0')) throw new InvalidPathError(path, 'contains a NUL character');
  if (CONTROL.test(path)) throw new InvalidPathError(path, 'contains a control character');
  if (path.length > MAX_PATH_LENGTH) throw new InvalidPathError(path, `longer than ${MAX_PATH_LENGTH} characters`);
  if (!path.startsWith('/')) throw new InvalidPathError(path, 'not absolute (must start with /)');
  if (path === ROOT_PATH) throw new InvalidPathError(path, `outside the zone /${zone}`);
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = trimmed.slice(1).split('/');
  for (const seg of segments) {
    if (seg === '') throw new InvalidPathError(path, 'empty segment (//)');
    if (seg === '.' || seg === '..') throw new InvalidPathError(path, `"${seg}" segment`);
    if (seg.length > MAX_SEGMENT_LENGTH) throw new InvalidPathError(path, `a name longer than ${MAX_SEGMENT_LENGTH} characters`);
  }
  if (segments[0] !== zone) throw new InvalidPathError(path, `outside the zone /${zone}`);
  return trimmed;
}

/**
 * Checks one name (a collection or object name, a user or group name): no
 * slash, not empty, `.` or `..`, no control characters, not over-long.
 */
export function validateName(name: string, what = 'name'): string {
  if (typeof name !== 'string' || name === '') throw new InvalidPathError(String(name), `empty ${what}`);
  if (name.includes('/')) throw new InvalidPathError(name, `${what} contains "/"`);
  if (name === '.' || name === '..') throw new InvalidPathError(name, `${what} is "${name}"`);
  if (CONTROL.test(name)) throw new InvalidPathError(name, `${what} contains a control character`);
  if (name.length > MAX_SEGMENT_LENGTH) throw new InvalidPathError(name, `${what} longer than ${MAX_SEGMENT_LENGTH} characters`);
  return name;
}

/** The parent of a normalised path; {@link ROOT_PATH} for the zone root itself. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT_PATH : path.slice(0, i);
}

/** The last segment of a normalised path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Joins path parts with single slashes: `joinPath('/z/a/', 'b/c')` is
 * `/z/a/b/c`. Does not validate: pass the result to {@link normalizePath}
 * when parts come from outside.
 */
export function joinPath(...parts: string[]): string {
  let out = '';
  const last = parts.length - 1;
  for (let i = 0; i <= last; i++) {
    const p = parts[i];
    // slashes trimmed by index, not by regular expression: the flows build every path with this
    let a = 0;
    let b = p.length;
    if (i > 0) while (a < b && p.charCodeAt(a) === SLASH) a++;
    if (i < last) while (b > a && p.charCodeAt(b - 1) === SLASH) b--;
    if (i === 0) out = p.slice(a, b);
    else if (b > a) out += `/${p.slice(a, b)}`;
  }
  return out;
}

/** True when `child` lies strictly below `parent` (a path is not inside itself). */
export function isInside(child: string, parent: string): boolean {
  const p = parent.endsWith('/') ? parent : `${parent}/`;
  return child.length > p.length && child.startsWith(p);
}

/**
 * `child` relative to `parent`, without a leading slash (`''` when equal).
 * Throws {@link InvalidPathError} when `child` is not at or below `parent`.
 */
export function relativePath(child: string, parent: string): string {
  if (child === parent) return '';
  if (!isInside(child, parent)) throw new InvalidPathError(child, `not inside ${parent}`);
  return child.slice(parent.length + (parent.endsWith('/') ? 0 : 1));
}
