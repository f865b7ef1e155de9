/**
 * Intermediate objects (schema.ts `intermediate_objects`): a parallel put
 * registers its new object, empty, at its open, and the open's close gives
 * it its bytes. A server that ends in between (killed, crashed, the machine
 * off) leaves an empty object no client finished: besides orphan vault
 * files, the one thing a crash can leave in the store. A server removes
 * those of ended holders before it serves, and fsck reports and repairs them.
 *
 * @module
 */
import type { StoreCore } from './core.js';
import { holderEnded } from './process-holders.js';

/**
 * The paths of the intermediate objects whose holder has ended (inside a
 * transaction of the caller's); with `remove` they are removed, and the
 * vault files they had (none: their bytes are empty) are returned for
 * removal after the commit.
 */
export function abandonedIntermediates(core: StoreCore, remove: boolean): { paths: string[]; files: string[] } {
  const paths: string[] = [];
  const files: string[] = [];
  for (const { holder, path } of core.q.intermediates.all()) {
    if (!holderEnded(holder)) continue;
    paths.push(path);
    if (!remove) continue;
    const file = core.deleteObjectRow(core.mustObject(path));
    if (file) files.push(file);
  }
  return { paths, files };
}

/**
 * Removes the intermediate objects whose holder has ended, in one
 * transaction; returns their paths. Looks first, so that a start with none
 * (nearly every start) takes no write lock another process may be holding.
 */
export function removeAbandonedIntermediates(core: StoreCore): string[] {
  if (core.read(() => abandonedIntermediates(core, false)).paths.length === 0) return [];
  const { paths, files } = core.write(() => abandonedIntermediates(core, true));
  for (const f of files) core.vault.removeFile(f);
  return paths;
}
