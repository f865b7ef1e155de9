/**
 * The `GenQueryOut_PI` reply, packed as iRODS 4.3.5 `rodsPackInstruct.h`
 * orders it: `rowCnt`, `attriCnt`, `continueInx`, `totalRowCount`, then
 * `SqlResult_PI[MAX_SQL_ATTR]` — always all 50, as the iRODS packer writes
 * the fixed array whole; unused ones carry `attriInx` 0, `reslen` 0 and no
 * values (python-irodsclient 0.8.1 `results.py` reads the first `attriCnt`).
 * Each `SqlResult_PI` is `attriInx`, `reslen`, then one `value` per row.
 *
 * @module
 */
import type { PiFields, PiMessage } from '../wire/pi-values.js';
import { MAX_SQL_ATTR } from './query-input.js';

/** iRODS 4.3.5 `general_query.cpp` `MINIMUM_COL_SIZE`: the least `reslen` it reports. */
const MINIMUM_COL_SIZE = 50;

function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

/**
 * A reply holding `rows` of the `columns` selected (none for a closed or
 * zero-row page). `reslen` is, as in iRODS, one width for every column: the
 * longest value's byte length plus its terminating NUL, at least 50.
 */
export function genQueryOut(
  columns: readonly number[],
  rows: readonly unknown[][],
  continueInx: number,
  totalRowCount = 0,
): PiMessage {
  const values = columns.map((_, c) => rows.map((r) => textOf(r[c])));
  let reslen = MINIMUM_COL_SIZE;
  for (const col of values) for (const v of col) reslen = Math.max(reslen, Buffer.byteLength(v) + 1);

  const results: PiFields[] = [];
  const attriCnt = rows.length > 0 ? columns.length : 0;
  for (let i = 0; i < MAX_SQL_ATTR; i++) {
    if (i < attriCnt) results.push({ attriInx: columns[i], reslen, value: values[i] });
    else results.push({ attriInx: 0, reslen: 0 });
  }
  return {
    name: 'GenQueryOut_PI',
    fields: { rowCnt: rows.length, attriCnt, continueInx, totalRowCount, SqlResult_PI: results },
  };
}
