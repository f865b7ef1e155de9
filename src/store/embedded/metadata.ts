/**
 * Metadata: attribute-value-unit triples on collections and objects, with
 * iRODS's add / set / rm semantics.
 *
 * @module
 */
import { AlreadyExistsError, InvalidPathError, NotFoundError } from '../errors.js';
import type { Avu, AvuChange, MetadataOp } from '../types.js';
import type { StoreCore } from './core.js';

function checkAvu(path: string, avu: Avu): Avu {
  if (!avu || typeof avu.attribute !== 'string' || avu.attribute === '') {
    throw new InvalidPathError(path, 'metadata attribute must be a non-empty string');
  }
  if (typeof avu.value !== 'string') throw new InvalidPathError(path, 'metadata value must be a string');
  return { attribute: avu.attribute, value: avu.value, unit: avu.unit ?? '' };
}

/**
 * Adds `avu` to the entry `id` with the times iRODS 4.2.12 would give it
 * (schema.ts addAvuTimes); 0 when the entry has it already.
 */
export function addAvu(core: StoreCore, id: number, avu: Avu, now = core.irodsNow()): number {
  return core.q.insertAvu.run({ id, attribute: avu.attribute, value: avu.value, unit: avu.unit, now }).changes;
}

const shown = (a: Avu) => `${a.attribute}=${a.value}${a.unit ? ` [${a.unit}]` : ''}`;

/** The metadata calls of the embedded store. */
export class Metadata {
  constructor(private readonly core: StoreCore) {}

  async getMetadata(path: string): Promise<Avu[]> {
    const { core } = this;
    const target = core.normalize(path);
    return core.read(() => core.q.avus.all(core.mustKey(target).id));
  }

  /**
   * Adds and removes AVUs of the entry at `path` in one transaction, in
   * order: all or none. Adding one that is there, or removing one that is
   * not, changes nothing (as iRODS's atomic metadata operations do).
   */
  async applyMetadata(path: string, ops: readonly AvuChange[]): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const checked = ops.map((o) => ({ op: o.op, avu: checkAvu(target, o.avu) }));
    core.write(() => {
      const row = core.mustKey(target);
      const now = core.irodsNow();
      for (const { op, avu } of checked) {
        if (op === 'add') addAvu(core, row.id, avu, now);
        else core.q.deleteAvu.run(row.id, avu.attribute, avu.value, avu.unit);
      }
    });
  }

  /** Forgets the times of AVUs no item holds any more, as iRODS's `iadmin rum` deletes its unused meta rows. */
  async removeUnusedAvus(): Promise<void> {
    const { core } = this;
    core.write(() => core.q.deleteUnusedAvus.run());
  }

  async modifyMetadata(path: string, op: MetadataOp, avu: Avu): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const a = checkAvu(target, avu);
    if (op !== 'add' && op !== 'set' && op !== 'rm') throw new RangeError(`unknown metadata operation: ${String(op)}`);
    core.write(() => {
      const row = core.mustKey(target);
      if (op === 'set') {
        // iRODS 4.2.12 db_plugin.cpp db_set_avu_metadata_op: the only AVU of the attribute, linked by no other item, is changed in place
        const held = core.q.avusOfAttribute.all(row.id, a.attribute);
        const only = held.length === 1 ? held[0]! : undefined;
        if (only && core.q.avuShared.get(a.attribute, only.value, only.unit, row.id) === 0) {
          core.q.setAvuInPlace.run({ id: row.id, attribute: a.attribute, value: a.value, unit: a.unit, now: core.irodsNow() });
        } else {
          core.q.deleteAttribute.run(row.id, a.attribute);
          addAvu(core, row.id, a);
        }
      } else if (op === 'add') {
        if (addAvu(core, row.id, a) === 0) {
          throw new AlreadyExistsError(target, 'metadata', shown(a));
        }
      } else if (core.q.deleteAvu.run(row.id, a.attribute, a.value, a.unit).changes === 0) {
        throw new NotFoundError(target, 'metadata', shown(a));
      }
    });
  }
}
