/**
 * Reading and checking flow_data: required fields (missing or empty string
 * fails, an empty list is fine), types, request modes, names and the rule
 * that paths from flow_data lie inside the project's own collection.
 * Every failure is a {@link FlowValidationError}; nothing is touched.
 *
 * @module
 */
import type { Json } from '../engine/types.js';
import { InvalidPathError } from '../store/errors.js';
import { isInside, joinPath, normalizePath, validateName } from '../store/paths.js';
import { isSystemPrincipal } from '../store/principals.js';
import { FlowValidationError } from './errors.js';
import { PROJECT_GROUP_PREFIX } from './layout.js';
import type { FlowInput, RequestMode } from './types.js';

type Data = Record<string, Json>;

/** Refuses a request mode the flow does not support. */
export function checkMode(input: FlowInput, modes: readonly RequestMode[]): void {
  if (!modes.includes(input.requestMode)) {
    throw new FlowValidationError(`Request mode "${input.requestMode}" not supported by flow "${input.flowName}"`);
  }
}

/** Refuses a missing, null or empty-string required field (empty lists pass, as in the original). */
export function requireFields(data: Data, fields: readonly string[]): void {
  for (const f of fields) {
    const v = data[f];
    if (v === undefined || v === null || v === '') {
      throw new FlowValidationError(`Missing or empty field "${f}" in flow_data`, f);
    }
  }
}

function typeError(field: string, expected: string): FlowValidationError {
  return new FlowValidationError(`Field "${field}" in flow_data must be ${expected}`, field);
}

/** A string field; `dflt` when absent or null. Numbers are accepted as their decimal text (UUID-ish ids). */
export function str(data: Data, field: string, dflt = ''): string {
  const v = data[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw typeError(field, 'a string');
  return v;
}

/** A boolean field (JSON true/false, or the strings true/false in any case); `dflt` when absent. */
export function bool(data: Data, field: string, dflt = false): boolean {
  const v = data[field];
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw typeError(field, 'true or false');
}

/** An integer field (a JSON number or its decimal text). */
export function int(data: Data, field: string): number {
  const v = data[field];
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw typeError(field, 'an integer');
  return n;
}

/** A list field; `[]` when absent. */
export function list(data: Data, field: string): Json[] {
  const v = data[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw typeError(field, 'a list');
  return v;
}

/** A list of strings; `[]` when absent. */
export function stringList(data: Data, field: string): string[] {
  return list(data, field).map((v) => {
    if (typeof v !== 'string') throw typeError(field, 'a list of strings');
    return v;
  });
}

/** An object field; `{}` when absent. */
export function obj(data: Data, field: string): Record<string, Json> {
  const v = data[field];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(field, 'an object');
  return v;
}

/** A list of objects; each item checked by `item`. */
export function objectList<T>(data: Data, field: string, item: (o: Data, where: string) => T): T[] {
  return list(data, field).map((v, i) => {
    const where = `${field}[${i}]`;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(where, 'an object');
    return item(v, where);
  });
}

/** A name used as one path segment or principal name (user, group, zone title). */
export function name(value: string, field: string): string {
  try {
    return validateName(value, field);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new FlowValidationError(`Invalid ${field} "${value}": ${err.reason}`, field);
    throw err;
  }
}

/**
 * A user name from flow_data (`user_name`, `script_user`, `username`, the
 * owners, role list items): a valid name that is neither one of iRODS's own
 * principals nor a project group, so no flow changes their access or
 * membership (`user_name: "rods"` would otherwise lower the admin's own access).
 */
export function userName(value: string, field: string): string {
  name(value, field);
  if (isSystemPrincipal(value)) {
    throw new FlowValidationError(`Invalid ${field} "${value}": a system user or group of the data store, not a project user`, field);
  }
  if (value.startsWith(PROJECT_GROUP_PREFIX)) {
    throw new FlowValidationError(`Invalid ${field} "${value}": names a project group (${PROJECT_GROUP_PREFIX}*), not a user`, field);
  }
  return value;
}

/** A relative path of valid segments ('' allowed when `allowEmpty`); returned without outer slashes. */
export function relPath(value: string, field: string, allowEmpty = true): string {
  const trimmed = value.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') {
    if (allowEmpty) return '';
    throw new FlowValidationError(`Empty path in field "${field}"`, field);
  }
  for (const seg of trimmed.split('/')) {
    if (seg === '') throw new FlowValidationError(`Invalid path "${value}" in field "${field}": empty segment (//)`, field);
    name(seg, field);
  }
  return trimmed;
}

/** A child path below `parent` from a relative path (checked) in flow_data. */
export function childPath(parent: string, rel: string, field: string, zone: string): string {
  const r = relPath(rel, field, false);
  return inside(joinPath(parent, r), parent, field, zone);
}

/**
 * An absolute path from flow_data that must lie strictly inside `parent`
 * (the project's collection): normalised, so `..`, `//`, the zone root, the
 * trash or another project are refused.
 */
export function inside(path: string, parent: string, field: string, zone: string): string {
  let p: string;
  try {
    p = normalizePath(path, zone);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new FlowValidationError(`Invalid path in field "${field}": ${err.message}`, field);
    throw err;
  }
  if (!isInside(p, parent)) {
    throw new FlowValidationError(`Path "${path}" in field "${field}" is not inside the project collection ${parent}`, field);
  }
  return p;
}

/** The submit's project uuid, checked as a path segment of at least 2 characters. */
export function projectUuid(input: FlowInput): string {
  return projectId(input.projectUuid, `Flow "${input.flowName}"`);
}

/** {@link projectUuid}'s rule for any project id `asker` (a flow, a query) was given. */
export function projectId(uuid: unknown, asker: string): string {
  if (typeof uuid !== 'string' || uuid === '' || uuid === 'None') {
    throw new FlowValidationError(`${asker} needs a project_uuid`, 'project_uuid');
  }
  if (uuid.length < 2) throw new FlowValidationError(`Invalid project_uuid "${uuid}"`, 'project_uuid');
  return name(uuid, 'project_uuid');
}
