/**
 * Store calls of the object and collection APIs with their errors answered
 * as iRODS errors: the server's one mapping (`../server/store-errors.ts`),
 * except that a missing data object gets the code the calling API answers
 * for one, which differs by API.
 *
 * @module
 */
import { NotFoundError } from '../../store/errors.js';
import { toIrodsError } from '../server/store-errors.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/** `err` as an {@link IrodsError} when it is a store error; anything else unchanged. */
export function asIrodsError(err: unknown, notFound?: IrodsErrorName): unknown {
  if (notFound !== undefined && err instanceof NotFoundError && err.what !== 'collection') return new IrodsError(notFound, err.message);
  return toIrodsError(err) ?? err;
}

/** Runs `fn`, turning store errors into iRODS answers (see {@link asIrodsError}). */
export async function answering<T>(fn: () => T | Promise<T>, notFound?: IrodsErrorName): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asIrodsError(err, notFound);
  }
}
