/**
 * The one place that turns the store's typed errors (`src/store/errors.ts`)
 * into the iRODS error codes a client expects for each failure (iRODS 4.3.5
 * `rodsErrorTable.h`; only codes python-irodsclient 0.8.1 knows, see
 * `../wire/error-codes.ts`). The connection applies it to whatever a handler
 * throws; handlers may call it themselves to add what they know.
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
  StoreError,
  StoreUnavailableError,
} from '../../store/errors.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/**
 * The code answered for a failure of the server itself (a bug, a disk
 * error): iRODS's `SYS_INTERNAL_ERR` is unknown to python-irodsclient 0.8.1,
 * which raises a KeyError for it, so the nearest code it knows stands in.
 */
export const INTERNAL_ERROR: IrodsErrorName = 'SYS_INTERNAL_NULL_INPUT_ERR';

function notFoundCode(err: NotFoundError): IrodsErrorName {
  switch (err.what) {
    case 'collection':
      return 'CAT_UNKNOWN_COLLECTION';
    case 'user':
    case 'principal':
    case 'member':
      return 'CAT_INVALID_USER';
    case 'group':
      return 'CAT_INVALID_GROUP';
    case 'metadata':
      // iRODS answers removing an AVU that is not there with "success, but nothing done"
      return 'CAT_SUCCESS_BUT_WITH_NO_INFO';
    default:
      return 'USER_FILE_DOES_NOT_EXIST';
  }
}

function alreadyExistsCode(err: AlreadyExistsError): IrodsErrorName {
  switch (err.what) {
    case 'collection':
      return 'CAT_NAME_EXISTS_AS_COLLECTION';
    case 'object':
    case 'path':
    case 'file':
      return 'CAT_NAME_EXISTS_AS_DATAOBJ';
    default:
      return 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME';
  }
}

/**
 * The iRODS code for a store error, or undefined for anything else. `hint`
 * refines an ambiguous case: what already exists at a path, when the caller
 * knows (a store move says only "path").
 */
export function irodsCodeOfStoreError(err: unknown, hint: { existing?: 'collection' | 'object' } = {}): IrodsErrorName | undefined {
  if (!(err instanceof StoreError)) return undefined;
  if (err instanceof NotFoundError) return notFoundCode(err);
  if (err instanceof AlreadyExistsError) {
    if (hint.existing) return hint.existing === 'collection' ? 'CAT_NAME_EXISTS_AS_COLLECTION' : 'CAT_NAME_EXISTS_AS_DATAOBJ';
    return alreadyExistsCode(err);
  }
  if (err instanceof NotEmptyError) return 'CAT_COLLECTION_NOT_EMPTY';
  if (err instanceof ChecksumMismatchError) return 'USER_CHKSUM_MISMATCH';
  if (err instanceof InvalidPathError) return err.path.startsWith('/') ? 'USER_INPUT_PATH_ERR' : 'CAT_INVALID_ARGUMENT';
  if (err instanceof NotAllowedError) return /into itself/.test(err.message) ? 'CAT_RECURSIVE_MOVE' : 'CAT_NO_ACCESS_PERMISSION';
  if (err instanceof StoreUnavailableError) return INTERNAL_ERROR;
  return INTERNAL_ERROR;
}

/**
 * `err` as the {@link IrodsError} to answer: itself when it is one, the
 * mapped code with the store's message for a store error, else undefined
 * (an unexpected failure, which the connection logs and answers with
 * {@link INTERNAL_ERROR}).
 */
export function toIrodsError(err: unknown, hint: { existing?: 'collection' | 'object' } = {}): IrodsError | undefined {
  if (err instanceof IrodsError) return err;
  const code = irodsCodeOfStoreError(err, hint);
  return code ? new IrodsError(code, (err as Error).message) : undefined;
}
