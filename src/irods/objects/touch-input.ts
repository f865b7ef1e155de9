/**
 * The JSON input of the touch API (`TOUCH_APN` 20007) and the order in which
 * the server checks it, from iRODS 4.2.12 `plugins/api/src/touch.cpp`
 * (`throw_if_input_is_invalid`; the same at 4.3.5). The input is
 * `{"logical_path": string, "options"?: {"no_create"?: boolean,
 * "replica_number"?: int, "leaf_resource_name"?: string,
 * "seconds_since_epoch"?: int, "reference"?: string}}`; other keys are
 * ignored. In order:
 * 1. no `logical_path`: `INPUT_ARG_NOT_WELL_FORMED_ERR`; not a string:
 *    `SYS_INVALID_INPUT_PARAM`; empty: `INPUT_ARG_NOT_WELL_FORMED_ERR`.
 * 2. `options` present but not an object: `INPUT_ARG_NOT_WELL_FORMED_ERR`.
 * 3. `replica_number` with `leaf_resource_name`, or `reference` with
 *    `seconds_since_epoch`: `USER_INCOMPATIBLE_PARAMS` (before any type).
 * 4. an option of the wrong type: `SYS_INVALID_INPUT_PARAM`. A key that is
 *    present counts, whatever its value (`null` is of the wrong type).
 * 5. `replica_number` or `seconds_since_epoch` below zero, an empty
 *    `leaf_resource_name` or `reference`: `INPUT_ARG_NOT_WELL_FORMED_ERR`.
 *
 * The JSON is read by nlohmann::json 3.7.3 (4.2.12 `CMakeLists.txt`), whose
 * conversion to an int takes booleans and any number as a C++ cast does
 * ({@link cInt}); a boolean must be a boolean and a string a string.
 *
 * @module
 */
import { LATEST_MODIFIED } from '../../store/embedded/collections.js';
import { IrodsError } from '../wire/irods-error.js';

/** A touch request's input once checked. */
export interface TouchInput {
  /** The path as the client sent it: a non-empty string, not yet checked as a path. */
  readonly logicalPath: string;
  /** Do not create a data object at a path where the client sees nothing (default false). */
  readonly noCreate: boolean;
  /** The replica to touch (never one to create). */
  readonly replicaNumber?: number;
  /** The resource of the replica to touch, or where a new object goes. */
  readonly leafResource?: string;
  /** The new modify time, in whole seconds since the epoch. */
  readonly seconds?: number;
  /** The path whose modify time becomes the new one, as the client sent it. */
  readonly reference?: string;
}

const INT_MIN = -(2 ** 31);

/**
 * `v` as nlohmann::json's `get<int>()` converts it: a boolean is 0 or 1; an
 * integer (nlohmann keeps those from -2^63 to 2^64 as 64-bit integers) wraps
 * to 32 bits as a C++ cast from a 64-bit integer does; another number is cut
 * toward zero, and one out of range gives what x86's conversion gives,
 * INT_MIN. Undefined for anything else (the conversion throws then).
 */
export function cInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') return undefined;
  if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64) return v | 0;
  const t = Math.trunc(v);
  return t >= INT_MIN && t < 2 ** 31 ? t : INT_MIN;
}

/** `v` as `get<std::chrono::seconds::rep>()` (64 bits): a boolean 0 or 1, a number cut toward zero. */
function cSeconds(v: boolean | number): number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : Math.trunc(v);
}

const has = (o: object, key: string): boolean => Object.hasOwn(o, key);

/** The checked input of a touch (see the module's rules); `IrodsError` for the first rule broken. */
export function touchInputOf(json: Record<string, unknown>): TouchInput {
  if (!has(json, 'logical_path')) throw new IrodsError('INPUT_ARG_NOT_WELL_FORMED_ERR', 'a touch needs "logical_path"');
  const logicalPath = json.logical_path;
  if (typeof logicalPath !== 'string') throw new IrodsError('SYS_INVALID_INPUT_PARAM', '"logical_path" must be a string');
  if (logicalPath === '') throw new IrodsError('INPUT_ARG_NOT_WELL_FORMED_ERR', '"logical_path" is empty');
  if (!has(json, 'options')) return { logicalPath, noCreate: false };
  const opts = json.options;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new IrodsError('INPUT_ARG_NOT_WELL_FORMED_ERR', '"options" must be a JSON object');
  }
  const o = opts as Record<string, unknown>;
  const both = (a: string, b: string): void => {
    if (has(o, a) && has(o, b)) throw new IrodsError('USER_INCOMPATIBLE_PARAMS', `the options "${a}" and "${b}" exclude each other`);
  };
  both('replica_number', 'leaf_resource_name');
  both('reference', 'seconds_since_epoch');
  const wrongType = (key: string, type: string): IrodsError => new IrodsError('SYS_INVALID_INPUT_PARAM', `the option "${key}" must be ${type}`);
  const intOption = (key: string): number | undefined => {
    if (!has(o, key)) return undefined;
    const n = cInt(o[key]);
    if (n === undefined) throw wrongType(key, 'an integer');
    return n;
  };
  const stringOption = (key: string): string | undefined => {
    if (!has(o, key)) return undefined;
    const s = o[key];
    if (typeof s !== 'string') throw wrongType(key, 'a string');
    return s;
  };
  if (has(o, 'no_create') && typeof o.no_create !== 'boolean') throw wrongType('no_create', 'true or false');
  const replicaNumber = intOption('replica_number');
  const leafResource = stringOption('leaf_resource_name');
  const reference = stringOption('reference');
  const secondsAsInt = intOption('seconds_since_epoch');
  const badValue = (what: string): IrodsError => new IrodsError('INPUT_ARG_NOT_WELL_FORMED_ERR', what);
  if (replicaNumber !== undefined && replicaNumber < 0) throw badValue(`the option "replica_number" must not be negative (${String(o.replica_number)})`);
  if (leafResource === '') throw badValue('the option "leaf_resource_name" is empty');
  if (reference === '') throw badValue('the option "reference" is empty');
  if (secondsAsInt !== undefined && secondsAsInt < 0) throw badValue(`the option "seconds_since_epoch" must not be negative (${String(o.seconds_since_epoch)})`);
  // checked as an int, used as 64 bits, as the server does; this catalog holds no time past the year 9999
  const seconds = secondsAsInt === undefined ? undefined : cSeconds(o.seconds_since_epoch as boolean | number);
  if (seconds !== undefined && !(seconds >= 0 && seconds * 1000 <= LATEST_MODIFIED.getTime())) {
    throw badValue(`the option "seconds_since_epoch" (${seconds}) lies outside the times this store keeps (1970 to ${LATEST_MODIFIED.toISOString()})`);
  }
  return { logicalPath, noCreate: o.no_create === true, replicaNumber, leafResource, seconds, reference };
}
