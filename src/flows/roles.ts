/**
 * Reading role lists from flow data (`roles_add`, `roles_delete`): items name
 * a user as `username` (or `user_name`), and for batch flows a `project_uuid`.
 *
 * @module
 */
import type { Json } from '../engine/types.js';
import { FlowValidationError } from './errors.js';
import { name, objectList, userName } from './validate.js';

function userOf(o: Record<string, Json>, where: string): string {
  const v = o.username ?? o.user_name;
  if (typeof v !== 'string' || v === '') throw new FlowValidationError(`Missing or empty "username" in ${where}`, where);
  return userName(v, `${where}.username`);
}

/** User names of a role list, without duplicates, in order. */
export function parseRoleUsers(data: Record<string, Json>, field: string): string[] {
  return [...new Set(objectList(data, field, userOf))];
}

/** `{project_uuid, username}` items of a batch role list. */
export function parseProjectRoles(data: Record<string, Json>, field: string): { projectUuid: string; user: string }[] {
  return objectList(data, field, (o, where) => {
    const p = o.project_uuid;
    if (typeof p !== 'string' || p === '' || p.length < 2) {
      throw new FlowValidationError(`Missing or invalid "project_uuid" in ${where}`, where);
    }
    return { projectUuid: name(p, `${where}.project_uuid`), user: userOf(o, where) };
  });
}
