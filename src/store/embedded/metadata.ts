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
      for (const { op, avu } of checked) {
        if (op === 'add') core.q.insertAvu.run(row.id, avu.attribute, avu.value, avu.unit);
        else core.q.deleteAvu.run(row.id, avu.attribute, avu.value, avu.unit);
      }
    });
  }

  async modifyMetadata(path: string, op: MetadataOp, avu: Avu): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const a = checkAvu(target, avu);
    if (op !== 'add' && op !== 'set' && op !== 'rm') throw new RangeError(`unknown metadata operation: ${String(op)}`);
    core.write(() => {
      const row = core.mustKey(target);
      if (op === 'set') {
        core.q.deleteAttribute.run(row.id, a.attribute);
        core.q.insertAvu.run(row.id, a.attribute, a.value, a.unit);
      } else if (op === 'add') {
        if (core.q.insertAvu.run(row.id, a.attribute, a.value, a.unit).changes === 0) {
          throw new AlreadyExistsError(target, 'metadata', shown(a));
        }
      } else if (core.q.deleteAvu.run(row.id, a.attribute, a.value, a.unit).changes === 0) {
        throw new NotFoundError(target, 'metadata', shown(a));
      }
    });
  }
}
