/**
 * A `GenQueryInp_PI` request body (iRODS 4.3.5 `rodsPackInstruct.h`:
 * `maxRows`, `continueInx`, `partialStartIndex`, `options`, then
 * `KeyValPair_PI`, `InxIvalPair_PI` selects, `InxValPair_PI` conditions) as
 * python-irodsclient 0.8.1 `message/__init__.py` `GenQueryRequest` sends it,
 * decoded and checked into typed values.
 *
 * @module
 */
import { IrodsError } from '../wire/irods-error.js';
import { child, int, keyValues, many, type PiNode, type PiValue } from '../wire/pi-values.js';

/** Option bits of `options`, iRODS 4.3.5 `rodsGenQuery.h`. */
export const OPTIONS = {
  RETURN_TOTAL_ROW_COUNT: 0x20,
  NO_DISTINCT: 0x40,
  QUOTA_QUERY: 0x80,
  AUTO_CLOSE: 0x100,
  UPPER_CASE_WHERE: 0x200,
} as const;

/** Select flags: ordering bits and, in the low four bits, an aggregate. */
export const SELECT_FLAGS = {
  ORDER_BY: 0x400,
  ORDER_BY_DESC: 0x800,
  AGGREGATE_MASK: 0xf,
} as const;

/** Aggregates by their number in the low bits of a select flag. */
export const AGGREGATES = { 2: 'min', 3: 'max', 4: 'sum', 5: 'avg', 6: 'count' } as const;
export type Aggregate = (typeof AGGREGATES)[keyof typeof AGGREGATES];

/** At most this many selected columns: iRODS's `MAX_SQL_ATTR`, the size of the reply's result array. */
export const MAX_SQL_ATTR = 50;
/** At most this many conditions in one query. */
export const MAX_CONDITIONS = 50;
/**
 * At most this many characters in all conditions of one query together: an
 * open query keeps its conditions, so this bounds what a connection holds
 * (iRODS 4.3.5 bounds the whole SQL statement at 4000 bytes).
 */
export const MAX_CONDITIONS_LENGTH = 32 * 1024;

/** One selected column. */
export interface Select {
  column: number;
  aggregate: Aggregate | null;
  order: 'asc' | 'desc' | null;
}

/** One condition: a column and its condition text. */
export interface CondInput {
  column: number;
  text: string;
}

/** A decoded request. */
export interface GenQueryInput {
  maxRows: number;
  continueInx: number;
  /** Rows to skip before the first returned (`partialStartIndex`, iRODS's `rowOffset`). */
  rowOffset: number;
  options: number;
  keywords: Map<string, string>;
  selects: Select[];
  conditions: CondInput[];
}

function bad(message: string): never {
  throw new IrodsError('USER_PACKSTRUCT_INPUT_ERR', `GenQueryInp_PI: ${message}`);
}

function textItem(v: PiValue, what: string): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) && Object.keys(v).length === 0) return '';
  return bad(`${what} must hold text`);
}

function intItem(v: PiValue, what: string): number {
  const t = textItem(v, what).trim();
  if (!/^-?\d{1,10}$/.test(t)) bad(`${what} must be an integer, not ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/** Decodes and checks a `GenQueryInp_PI` body. */
export function decodeGenQueryInput(bodyName: string | null, body: PiNode | null): GenQueryInput {
  if (bodyName !== 'GenQueryInp_PI' || body === null) bad(`expected a GenQueryInp_PI body, got ${bodyName ?? 'none'}`);

  const sel = child(body, 'InxIvalPair_PI');
  const selCols = many(sel, 'inx').map((v) => intItem(v, 'InxIvalPair_PI inx'));
  const selFlags = many(sel, 'ivalue').map((v) => intItem(v, 'InxIvalPair_PI ivalue'));
  const iiLen = int(sel, 'iiLen');
  if (selCols.length !== iiLen || selFlags.length !== iiLen) {
    bad(`InxIvalPair_PI has iiLen ${iiLen} but ${selCols.length} inx and ${selFlags.length} ivalue`);
  }

  const cond = child(body, 'InxValPair_PI');
  const condCols = many(cond, 'inx').map((v) => intItem(v, 'InxValPair_PI inx'));
  const condTexts = many(cond, 'svalue').map((v) => textItem(v, 'InxValPair_PI svalue'));
  const isLen = int(cond, 'isLen');
  if (condCols.length !== isLen || condTexts.length !== isLen) {
    bad(`InxValPair_PI has isLen ${isLen} but ${condCols.length} inx and ${condTexts.length} svalue`);
  }

  const selects = selCols.map((column, i): Select => {
    const flags = selFlags[i];
    const low = flags & SELECT_FLAGS.AGGREGATE_MASK;
    return {
      column,
      aggregate: AGGREGATES[low as keyof typeof AGGREGATES] ?? null,
      order: flags & SELECT_FLAGS.ORDER_BY_DESC ? 'desc' : flags & SELECT_FLAGS.ORDER_BY ? 'asc' : null,
    };
  });

  return {
    maxRows: int(body, 'maxRows'),
    continueInx: int(body, 'continueInx'),
    rowOffset: int(body, 'partialStartIndex'),
    options: int(body, 'options'),
    keywords: keyValues(body),
    selects,
    conditions: condCols.map((column, i) => ({ column, text: condTexts[i] })),
  };
}

/** Checks the limits of a new query (a continuation's selects and conditions are ignored, as in iRODS). */
export function checkQueryLimits(input: GenQueryInput): void {
  const invalid = (m: string) => {
    throw new IrodsError('CAT_INVALID_ARGUMENT', m);
  };
  if (input.selects.length === 0) invalid('a query selects at least one column');
  if (input.selects.length > MAX_SQL_ATTR) invalid(`a query selects at most ${MAX_SQL_ATTR} columns, not ${input.selects.length}`);
  if (input.conditions.length > MAX_CONDITIONS) invalid(`a query has at most ${MAX_CONDITIONS} conditions, not ${input.conditions.length}`);
  const length = input.conditions.reduce((n, c) => n + c.text.length, 0);
  if (length > MAX_CONDITIONS_LENGTH) {
    invalid(`the conditions of a query hold at most ${MAX_CONDITIONS_LENGTH} characters together, not ${length}`);
  }
  if (input.rowOffset < 0) invalid(`partialStartIndex must not be negative, not ${input.rowOffset}`);
}
