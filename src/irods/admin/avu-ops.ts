/**
 * The metadata operations of `MOD_AVU_METADATA_AN` that the store's
 * `modifyMetadata` (add, set, rm) does not offer: copying every AVU of one
 * entry to another (`imeta cp`) and removing the AVUs matching `LIKE`
 * patterns (`imeta rmw`). Each is one catalog transaction.
 *
 * @module
 */
import { AlreadyExistsError, NotFoundError } from '../../store/errors.js';
import { addAvu } from '../../store/embedded/metadata.js';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import type { Avu } from '../../store/types.js';

const shown = (a: Avu) => `${a.attribute}=${a.value}${a.unit ? ` [${a.unit}]` : ''}`;

/**
 * Copies every AVU of `from` to `to`, all or none. As iRODS 4.3.5 does it
 * (`db_copy_avu_metadata_op`: one insert of the source's rows), an AVU the
 * target already holds fails the copy (AlreadyExists), and a source without
 * AVUs is answered as an insert of no rows (NotFound of `metadata`).
 */
export function copyAvus(store: EmbeddedStore, from: string, to: string): void {
  const core = store.protocolCore();
  core.write(() => {
    const source = core.mustEntry(from);
    const target = core.mustEntry(to);
    const avus = core.q.avus.all(source.id);
    if (avus.length === 0) throw new NotFoundError(from, 'metadata', 'it has no AVUs to copy');
    // the target shares the source's meta rows in iRODS 4.2.12 (db_plugin.cpp db_copy_avu_metadata_op): their times, linked now
    const now = core.irodsNow();
    for (const a of avus) {
      if (addAvu(core, target.id, a, now) === 0) {
        throw new AlreadyExistsError(to, 'metadata', shown(a));
      }
    }
  });
}

/**
 * A SQL `LIKE` pattern (`%` any run, `_` one character, `\` quoting the
 * next, as PostgreSQL reads it) as a case-sensitive SQLite `GLOB` pattern:
 * SQLite's own `LIKE` ignores ASCII case, an iRODS catalog does not.
 */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) out += quoteGlob(pattern[++i]!);
    else if (c === '%') out += '*';
    else if (c === '_') out += '?';
    else out += quoteGlob(c);
  }
  return out;
}

const quoteGlob = (c: string) => (c === '*' || c === '?' || c === '[' ? `[${c}]` : c);

/**
 * Removes the AVUs of `path` whose attribute, value and unit match the
 * `LIKE` patterns (iRODS 4.3.5 `db_del_avu_metadata_op` with wildcards).
 * NotFound of `metadata` when nothing matched (a server's delete of no rows).
 */
export function removeAvusLike(store: EmbeddedStore, path: string, avu: Avu): void {
  const core = store.protocolCore();
  core.write(() => {
    const row = core.mustEntry(path);
    const removed = core.db
      .prepare('DELETE FROM avus WHERE entry_id = ? AND attribute GLOB ? AND value GLOB ? AND unit GLOB ?')
      .run(row.id, likeToGlob(avu.attribute), likeToGlob(avu.value), likeToGlob(avu.unit));
    if (removed.changes === 0) throw new NotFoundError(path, 'metadata', `nothing matches ${shown(avu)}`);
  });
}
