/**
 * The store's typed errors as the iRODS codes the metadata, access and admin
 * APIs answer where they know better than the connection's general mapping,
 * and the one stand-in for iRODS's `SYS_NOT_ALLOWED`.
 *
 * @module
 */
import { StoreError, type StoreErrorCode } from '../../store/errors.js';
import { toIrodsError } from '../server/store-errors.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';

/**
 * Which iRODS code a store error becomes in one call: by kind, or chosen by
 * a function (e.g. by what was not found); kinds left out keep their default.
 */
export type StoreErrorCodes = Partial<Record<StoreErrorCode, IrodsErrorName>> | ((err: StoreError) => IrodsErrorName | undefined);

/**
 * Runs one store call, answering a {@link StoreError} with the iRODS code
 * `codes` names for it, else the code the connection gives any store error
 * (`../server/store-errors.ts`), with the store's message, which names the
 * path or user at fault. A refusal on principle (NotAllowed) is answered as
 * {@link notAllowed} is; a RangeError (a value the store refuses, such as an
 * empty password) becomes `CAT_INVALID_ARGUMENT`.
 */
export async function storeCall<T>(fn: () => T | Promise<T>, codes: StoreErrorCodes = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) {
      const chosen = typeof codes === 'function' ? codes(err) : codes[err.code];
      if (chosen) throw new IrodsError(chosen, err.message);
      if (err.code === 'NOT_ALLOWED') throw notAllowed(err.message);
      throw toIrodsError(err) ?? err;
    }
    if (err instanceof RangeError) throw new IrodsError('CAT_INVALID_ARGUMENT', err.message);
    throw err;
  }
}

/**
 * What iRODS 4.3 answers with `SYS_NOT_ALLOWED` (-169000: removing the admin
 * or yourself, a group's type or password, a remote group): python-irodsclient
 * 0.8.1 has no such code and fails on codes it lacks, so this server answers
 * `CAT_INSUFFICIENT_PRIVILEGE_LEVEL`, which no user's privilege overcomes.
 */
export function notAllowed(message: string): IrodsError {
  return new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', message);
}
