/**
 * `POST /cleanup` (protocol section 2): wipes the projects and every
 * non-permanent user and group, for test sites resetting between runs.
 *
 * @module
 */
import { isSystemPrincipal, SYSTEM_PRINCIPALS } from '../store/principals.js';
import type { FlowStore } from '../store/types.js';

/** Users and groups a cleanup keeps: iRODS's own, the one list in store/principals.ts. */
export const PERMANENT_PRINCIPALS: readonly string[] = SYSTEM_PRINCIPALS;

/** What a cleanup removed. */
export interface CleanupReport {
  removedRoot: boolean;
  users: number;
  groups: number;
}

/** Removes the project root collection, then every non-permanent group and user. */
export async function cleanupStore(store: FlowStore, projectRoot: string): Promise<CleanupReport> {
  let removedRoot = false;
  if ((await store.stat(projectRoot))?.type === 'collection') {
    await store.removeCollection(projectRoot, { recursive: true });
    removedRoot = true;
  }
  let groups = 0;
  for (const g of await store.listPrincipals('group')) {
    if (isSystemPrincipal(g.name)) continue;
    await store.removePrincipal(g.name, 'group');
    groups++;
  }
  let users = 0;
  for (const u of await store.listPrincipals('user')) {
    if (isSystemPrincipal(u.name)) continue;
    await store.removePrincipal(u.name, 'user');
    users++;
  }
  return { removedRoot, users, groups };
}
