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
import { endedHoldersIn, removeEndedHolderLocksOf } from './holder-locks.js';

/**
 * The paths of the intermediate objects whose holder has ended (inside a
 * transaction of the caller's), as `ended` judges holders (by default a
 * judge of its own, {@link endedHoldersIn}); with `remove` they are removed,
 * and the vault files they had (none: their bytes are empty) are returned
 * for removal after the commit.
 */
export function abandonedIntermediates(
  core: StoreCore,
  remove: boolean,
  ended: (holder: string) => boolean = endedHoldersIn(core.vault.holdersDir),
): { paths: string[]; files: string[] } {
  const paths: string[] = [];
  const files: string[] = [];
  for (const { holder, path } of core.q.intermediates.all()) {
    if (!ended(holder)) continue;
    paths.push(path);
    if (!remove) continue;
    const file = core.deleteObjectRow(core.mustObject(path));
    if (file) files.push(file);
  }
  return { paths, files };
}

/**
 * Removes the intermediate objects whose holder has ended, in one
 * transaction, then the liveness locks of ended holders with nothing left
 * (holder-locks.ts); returns the objects' paths. Looks first, so that a
 * start with none (nearly every start) takes no write lock another process
 * may be holding.
 */
export function removeAbandonedIntermediates(core: StoreCore): string[] {
  let paths: string[] = [];
  // the look and the removal judge each holder once between them
  const ended = endedHoldersIn(core.vault.holdersDir);
  if (core.read(() => abandonedIntermediates(core, false, ended)).paths.length > 0) {
    const removed = core.write(() => abandonedIntermediates(core, true, ended));
    for (const f of removed.files) core.vault.removeFile(f);
    paths = removed.paths;
  }
  removeEndedHolderLocksOf(core);
  return paths;
}
