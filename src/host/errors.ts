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

/**
 * A submit whose whole request reached the service's connection but got no
 * answer (a timeout, the service lost while waiting): the flow may still run
 * or have run, so the site keeps its change until the service tells how the
 * run ended (see `withCompensation`). Answered 503 with the backend's text.
 */
export class OutcomeUnknownError extends HttpError {
  constructor(detail: string) {
    super(503, detail);
  }
}

export const badRequest = (detail: string): HttpError => new HttpError(400, detail);
export const notFound = (what: string): HttpError => new HttpError(404, `${what} not found`);
export const forbidden = (detail = 'You do not have permission to perform this action.'): HttpError => new HttpError(403, detail);
