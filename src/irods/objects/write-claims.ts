/**
 * Which data objects are open for writing over the protocol, across all
 * connections of one store: iRODS 4.2.9 and later lock a replica that is
 * open for writing (`logical_locking.cpp`, `try_lock`), so a second write
 * open of it, or an unlink, answers `INTERMEDIATE_REPLICA_ACCESS` until the
 * writer closes. Here each write open stages its own copy of the bytes and
 * its close replaces the whole object, so without this a second writer's
 * close would silently undo the first's.
 *
 * An existing object is claimed by its catalog id, which a rename keeps (so
 * the claim, and the close, follow it); a new object, which has no id until
 * its close, by its path.
 *
 * @module
 */
import type { StoreCore } from '../../store/embedded/core.js';
import { IrodsError } from '../wire/irods-error.js';

/**
 * An existing object as a write open found it: its catalog id and where its
 * bytes were. SQLite gives a removed row's id to the next new row, so the
 * id alone could name another object by the close; the bytes' id never
 * comes back.
 */
export interface OpenedObject {
  readonly id: number;
  readonly vaultId: string | null;
}

/** One write open's hold on its object; released once, at its close or when its connection ends. */
export interface WriteClaim {
  /** The object the open found; null for an object the open creates. */
  readonly opened: OpenedObject | null;
  release(): void;
  /**
   * Undoes what the open registered in the catalog (a new object's row, see
   * `open-close.ts`) when its bytes are dropped instead of committed; set by
   * the open that registered it.
   */
  abandon?: () => void;
}

const byStore = new WeakMap<StoreCore, Set<number | string>>();

function claimsOf(core: StoreCore): Set<number | string> {
  let set = byStore.get(core);
  if (!set) byStore.set(core, (set = new Set()));
  return set;
}

/**
 * Claims the object at `path` (`opened`, null when the open creates it) for
 * one write open; `INTERMEDIATE_REPLICA_ACCESS` when another write open
 * holds it.
 */
export function claimForWrite(core: StoreCore, path: string, opened: OpenedObject | null): WriteClaim {
  const claims = claimsOf(core);
  const key = opened?.id ?? path;
  if (claims.has(key)) {
    throw new IrodsError('INTERMEDIATE_REPLICA_ACCESS', `${path} is open for writing on another descriptor; try again once that one is closed`);
  }
  claims.add(key);
  let held = true;
  return {
    opened,
    release() {
      if (!held) return;
      held = false;
      claims.delete(key);
    },
  };
}

/**
 * Whether a write open holds the object with catalog id `key`, or (a path)
 * the new object it creates there.
 */
export function heldForWrite(core: StoreCore, key: number | string): boolean {
  return byStore.get(core)?.has(key) ?? false;
}

/**
 * Throws while a write open holds the object with catalog id `id`: by
 * default `INTERMEDIATE_REPLICA_ACCESS`, what iRODS answers an unlink;
 * `code` for a call whose lock check looks at the whole object instead
 * (a rename's: `LOCKED_DATA_OBJECT_ACCESS`).
 */
export function refuseWhileOpenForWrite(
  core: StoreCore,
  path: string,
  id: number,
  doing: string,
  code: 'INTERMEDIATE_REPLICA_ACCESS' | 'LOCKED_DATA_OBJECT_ACCESS' = 'INTERMEDIATE_REPLICA_ACCESS',
): void {
  if (heldForWrite(core, id)) {
    throw new IrodsError(code, `cannot ${doing} ${path}: it is open for writing; try again once it is closed`);
  }
}
