/**
 * GenQuery condition strings (`InxValPair_PI` values such as `= 'x'`,
 * `like '/z/home/%'`, `in ('a', 'b')`, `between '1' '9'`) parsed into a
 * structure the SQL builder binds as parameters: no part of a condition is
 * ever spliced into SQL.
 *
 * The grammar follows what iRODS 4.3.5 `general_query.cpp` accepts
 * (`insertWhere`, `checkCondition`, `addInClauseToWhereForIn`,
 * `addBetweenClauseToWhere`, `handleCompoundCondition`):
 * - an operator, then a value in single quotes; the value runs from the
 *   first quote to the last, so it may hold quotes itself (python-irodsclient
 *   does not escape them);
 * - operators `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`, `like`, `not like`,
 *   `begin_of`, `parent_of`; an `n` before a comparison (`n<`, `n>=` …)
 *   compares as numbers;
 * - `in ('a', 'b', …)`, `between 'a' 'b'`, `IS NULL`, `IS NOT NULL`;
 * - several conditions on one column joined by `||` (or) and `&&` (and),
 *   outside quotes, with SQL's precedence (and before or).
 * Anything else is refused with a {@link ConditionError}, which the handler
 * answers as `CAT_INVALID_ARGUMENT`, as iRODS does.
 *
 * @module
 */

/** A comparison of one column with values. */
export type ConditionOp =
  | '='
  | '<>'
  | '<'
  | '>'
  | '<='
  | '>='
  | 'like'
  | 'not like'
  | 'begin_of'
  | 'parent_of'
  | 'in'
  | 'between'
  | 'is null'
  | 'is not null';

/** One simple condition. */
export interface SimpleCondition {
  op: ConditionOp;
  /** Compare as numbers (the `n` prefix). */
  numeric: boolean;
  /** The quoted values, unquoted (none for `is null`, two for `between`). */
  values: string[];
}

/** Simple conditions joined left to right by `or` / `and`; `joins[i]` sits between `parts[i]` and `parts[i + 1]`. */
export interface Condition {
  parts: SimpleCondition[];
  joins: Array<'OR' | 'AND'>;
}

/** A condition string this server does not accept. */
export class ConditionError extends Error {
  override name = 'ConditionError';
}

const COMPARISONS = new Map<string, ConditionOp>([
  ['=', '='],
  ['<>', '<>'],
  ['!=', '<>'],
  ['<', '<'],
  ['>', '>'],
  ['<=', '<='],
  ['>=', '>='],
]);
const WORD_OPS = new Map<string, ConditionOp>([
  ['like', 'like'],
  ['not like', 'not like'],
  ['begin_of', 'begin_of'],
  ['parent_of', 'parent_of'],
]);

const IN_LIST = /^in\s*\((.*)\)$/is;
const IN_ITEM = /^\s*'([^']*)'\s*(,|$)/s;
const BETWEEN = /^between\s+'([^']*)'\s+'([^']*)'$/is;

/** Parses one condition string (see the module comment). */
export function parseCondition(text: string): Condition {
  const pieces = splitCompound(text);
  const parts = pieces.map((p) => parseSimple(p.text));
  return { parts, joins: pieces.slice(1).map((p) => p.joinedBy!) };
}

/** Splits at `||` and `&&` outside quotes (a quote toggles, as iRODS masks quoted arguments). */
function splitCompound(text: string): Array<{ text: string; joinedBy?: 'OR' | 'AND' }> {
  const out: Array<{ text: string; joinedBy?: 'OR' | 'AND' }> = [];
  let quoted = false;
  let start = 0;
  let joinedBy: 'OR' | 'AND' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && (c === '|' || c === '&') && text[i + 1] === c) {
      out.push({ text: text.slice(start, i), joinedBy });
      joinedBy = c === '|' ? 'OR' : 'AND';
      start = i + 2;
      i++;
    }
  }
  out.push({ text: text.slice(start), joinedBy });
  return out;
}

function parseSimple(raw: string): SimpleCondition {
  const s = raw.trim();
  const shown = JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
  if (s === '') throw new ConditionError('empty condition');
  const upper = s.toUpperCase().replace(/\s+/g, ' ');
  if (upper === 'IS NULL') return { op: 'is null', numeric: false, values: [] };
  if (upper === 'IS NOT NULL') return { op: 'is not null', numeric: false, values: [] };

  const inList = IN_LIST.exec(s);
  if (inList) return { op: 'in', numeric: false, values: inValues(inList[1], shown) };
  if (/^in\b/i.test(s)) throw new ConditionError(`condition ${shown}: in takes a list in parentheses, e.g. in ('a', 'b')`);

  const between = BETWEEN.exec(s);
  if (between) return { op: 'between', numeric: false, values: [between[1], between[2]] };
  if (/^between\b/i.test(s)) throw new ConditionError(`condition ${shown}: between takes two quoted values, e.g. between '1' '9'`);

  const first = s.indexOf("'");
  const last = s.lastIndexOf("'");
  if (first < 0 || last === first) throw new ConditionError(`condition ${shown} has no quoted value, e.g. = 'x'`);
  if (last !== s.length - 1) throw new ConditionError(`condition ${shown} has text after its quoted value`);
  const value = s.slice(first + 1, last);
  const opText = s.slice(0, first).trim().toLowerCase().replace(/\s+/g, ' ');
  const word = WORD_OPS.get(opText);
  if (word) return { op: word, numeric: false, values: [value] };
  const numeric = /^n\s*[<>=]/.test(opText);
  const comparison = COMPARISONS.get(numeric ? opText.slice(1).replace(/\s+/g, '') : opText.replace(/\s+/g, ''));
  if (!comparison) {
    throw new ConditionError(
      `condition ${shown}: unknown operator ${JSON.stringify(opText)} (=, <>, <, >, <=, >=, like, not like, in, between, begin_of, parent_of)`,
    );
  }
  return { op: comparison, numeric, values: [value] };
}

function inValues(list: string, shown: string): string[] {
  const values: string[] = [];
  let rest = list;
  while (rest.trim() !== '') {
    const m = IN_ITEM.exec(rest);
    if (!m) throw new ConditionError(`condition ${shown}: in takes quoted values separated by commas`);
    values.push(m[1]);
    rest = rest.slice(m[0].length);
    if (m[2] === ',' && rest.trim() === '') throw new ConditionError(`condition ${shown}: in list ends with a comma`);
  }
  if (values.length === 0) throw new ConditionError(`condition ${shown}: in takes at least one value`);
  return values;
}

/** A `like` pattern as an SQLite GLOB pattern (case-sensitive, as `like` is in iRODS's PostgreSQL catalog), and its literal prefix. */
export interface GlobPattern {
  glob: string;
  /** The characters every match starts with. */
  prefix: string;
}

/**
 * Translates a `like` pattern: `%` any characters, `_` one character, a
 * backslash takes the next character literally (PostgreSQL's default
 * escape); GLOB's own special characters are matched literally.
 */
export function likeToGlob(pattern: string): GlobPattern {
  let glob = '';
  let prefix = '';
  let literal = true;
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i];
    if (c === '%' || c === '_') {
      glob += c === '%' ? '*' : '?';
      literal = false;
      continue;
    }
    if (c === '\\' && i + 1 < chars.length) c = chars[++i];
    glob += c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
    if (literal) prefix += c;
  }
  return { glob, prefix };
}

/**
 * The exclusive upper bound of the strings starting with `prefix` in SQLite's
 * binary (UTF-8 byte) order, or null when there is none to give.
 */
export function prefixUpperBound(prefix: string): string | null {
  const chars = [...prefix];
  const last = chars.pop();
  if (last === undefined) return null;
  let cp = last.codePointAt(0)! + 1;
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe000;
  if (cp > 0x10ffff) return null;
  return chars.join('') + String.fromCodePoint(cp);
}

/** Every collection path from `/` down to `path` itself, for `parent_of` (iRODS 4.3.5 `addInClauseToWhereForParentOf`). */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  const out = ['/'];
  let cur = '';
  for (const p of parts) {
    cur += `/${p}`;
    out.push(cur);
  }
  return out;
}
