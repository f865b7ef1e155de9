/**
 * The error every API handler throws to answer with a status and a
 * DRF-style `{"detail": ...}` body.
 *
 * @module
 */

/** An API answer other than success: `status` and a message for the user. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    /** What the client reads in `detail`. */
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string): HttpError => new HttpError(400, detail);
export const notFound = (what: string): HttpError => new HttpError(404, `${what} not found`);
export const forbidden = (detail = 'You do not have permission to perform this action.'): HttpError => new HttpError(403, detail);
