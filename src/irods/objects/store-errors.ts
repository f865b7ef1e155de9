/**
 * The store's typed errors as iRODS answers, for the object and collection
 * APIs. Kept small and local until the wire layer exports the one mapping
 * all handlers share; each handler passes the code its iRODS API answers
 * for a missing entry, as that differs by API.
 *
 * @module
 */
import {
  AlreadyExistsError,
  ChecksumMismatchError,
  InvalidPathError,
  NotAllowedError,
  NotEmptyError,
  NotFoundError,
} from '../../store/errors.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/** `err` as an {@link IrodsError} when it is a store error this module knows; anything else unchanged. */
export function asIrodsError(err: unknown, notFound: IrodsErrorName = 'USER_FILE_DOES_NOT_EXIST'): unknown {
  if (err instanceof IrodsError) return err;
  if (err instanceof NotFoundError) return new IrodsError(err.what === 'collection' ? 'CAT_UNKNOWN_COLLECTION' : notFound, err.message);
  if (err instanceof AlreadyExistsError) {
    const code = err.what === 'collection' ? 'CAT_NAME_EXISTS_AS_COLLECTION' : err.what === 'object' ? 'CAT_NAME_EXISTS_AS_DATAOBJ' : 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME';
    return new IrodsError(code, err.message);
  }
  if (err instanceof NotEmptyError) return new IrodsError('CAT_COLLECTION_NOT_EMPTY', err.message);
  if (err instanceof ChecksumMismatchError) return new IrodsError('USER_CHKSUM_MISMATCH', err.message);
  if (err instanceof InvalidPathError) return new IrodsError('USER_INPUT_PATH_ERR', err.message);
  // the zone, home and trash collections (and the layout roots) stay where they are, for everyone
  if (err instanceof NotAllowedError) return new IrodsError('CAT_NO_ACCESS_PERMISSION', err.message);
  return err;
}

/** Runs `fn`, turning store errors into iRODS answers (see {@link asIrodsError}). */
export async function answering<T>(fn: () => T | Promise<T>, notFound?: IrodsErrorName): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asIrodsError(err, notFound);
  }
}
