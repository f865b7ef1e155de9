/**
 * The one error type an API handler throws to answer a client with an iRODS
 * error code: the connection turns it into a reply whose `intInfo` is the
 * code and whose `RError_PI` carries the message (and whose body is
 * {@link IrodsError.body}, for the APIs that answer an error with one).
 *
 * @module
 */
import { IRODS_ERRORS, type IrodsErrorName } from './error-codes.js';
import type { PiMessage } from './pi-values.js';

/** An iRODS error answer: a code from {@link IRODS_ERRORS} and a message for the user. */
export class IrodsError extends Error {
  /** The negative iRODS error code. */
  readonly code: number;
  /** The code's iRODS name, e.g. `CAT_NO_ACCESS_PERMISSION`. */
  readonly codeName: IrodsErrorName;

  constructor(
    codeName: IrodsErrorName,
    message: string,
    /** The reply's body beside the code, as some APIs answer an error (the atomic metadata operations' JSON error object). */
    readonly body?: PiMessage,
  ) {
    super(message);
    this.name = 'IrodsError';
    this.codeName = codeName;
    this.code = IRODS_ERRORS[codeName];
  }
}
