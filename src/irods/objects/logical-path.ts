/**
 * Logical paths as the object and collection APIs accept them: absolute,
 * inside the store's zone, no `.`/`..` or empty segments (the store's rules,
 * `src/store/paths.ts`), each refusal answered with the code an iRODS
 * server gives for it; and the root collection `/`, which only a stat takes.
 *
 * @module
 */
import { InvalidPathError } from '../../store/errors.js';
import { MAX_PATH_LENGTH, ROOT_PATH } from '../../store/paths.js';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import { IrodsError } from '../wire/irods-error.js';

/**
 * The normalised path of `raw` in the store's zone. A relative path, a `.`
 * or `..` segment, or a control character is `USER_INPUT_PATH_ERR` (iRODS
 * 4.3.5 `rsCollCreate` / `rsDataObjOpen` answer that for such paths; an
 * open that creates answers a relative path otherwise, `open-close.ts`);
 * another zone is `SYS_INVALID_ZONE_NAME`, as this server federates with
 * none; an over-long path `USER_STRLEN_TOOLONG`; the root collection `/`
 * `USER_INPUT_PATH_ERR` (a stat takes it: {@link statPathOf}).
 */
export function logicalPath(store: EmbeddedStore, raw: string): string {
  if (raw === '') throw new IrodsError('USER__NULL_INPUT_ERR', 'no path given');
  if (raw.length > MAX_PATH_LENGTH) throw new IrodsError('USER_STRLEN_TOOLONG', `path longer than ${MAX_PATH_LENGTH} characters: ${raw.slice(0, 80)}...`);
  if (!raw.startsWith('/')) throw new IrodsError('USER_INPUT_PATH_ERR', `${raw} is not an absolute path (it must start with /${store.zone})`);
  // iRODS 4.2.12 rsCollCreate refuses `/` (validate_logical_path: no zone at its start) with
  // SYS_INVALID_INPUT_PARAM, a code python-irodsclient 0.8.1 lacks. Every call here but a stat
  // refuses it so: nothing creates, opens, changes, moves or removes `/` (a rodsadmin, its
  // owner, could change its ACL and metadata on an iRODS server; here it stays as made)
  if (raw === ROOT_PATH) throw new IrodsError('USER_INPUT_PATH_ERR', `${ROOT_PATH} is the root collection: this server only stats and queries it`);
  try {
    return store.normalize(raw);
  } catch (err) {
    if (!(err instanceof InvalidPathError)) throw err;
    const zone = raw.split('/')[1];
    if (err.reason.startsWith('outside the zone') && zone !== '') {
      throw new IrodsError('SYS_INVALID_ZONE_NAME', `${raw} is in zone ${zone}; this server holds only /${store.zone}`);
    }
    throw new IrodsError('USER_INPUT_PATH_ERR', err.message);
  }
}

/**
 * {@link logicalPath}, or `/` itself: for a stat (633), which an iRODS
 * server answers for the root collection as for any other, through the
 * catalog row `/` has (`src/store/embedded/schema.ts`).
 */
export function statPathOf(store: EmbeddedStore, raw: string): string {
  return raw === ROOT_PATH ? ROOT_PATH : logicalPath(store, raw);
}
