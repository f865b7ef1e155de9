/**
 * The errors the taskflow backend raises, named as in SODAR Core so that host
 * code reads the same (`FlowSubmitException`, `CleanupException`,
 * `ImproperlyConfigured`).
 *
 * @module
 */

/** Base class of every error of the backend API: catch this to catch them all. */
export class TaskflowBackendError extends Error {
  override readonly name: string = 'TaskflowBackendError';
}

/** Where a failed exchange with the service went wrong. */
export interface ServiceFailure {
  /** The URL that was requested. */
  url: string;
  /** HTTP status of the answer, or 0 when the service could not be reached. */
  status: number;
  /** Body of the answer (empty when the service could not be reached). */
  body: string;
  /**
   * Status 0 only: the whole request was sent before the exchange broke
   * (a timeout, a connection lost while waiting), so the service may have
   * received it and a submitted flow may still run or have run.
   */
  mayHaveArrived?: boolean;
}

/**
 * SODAR Taskflow submission exception: the service refused or failed the flow,
 * answered without a body, or could not be reached. The message is the
 * printable text of {@link TaskflowAPI.getErrorMsg}.
 */
export class FlowSubmitException extends TaskflowBackendError {
  override readonly name: string = 'FlowSubmitException';
  constructor(
    message: string,
    /** Name of the flow that was submitted. */
    readonly flowName: string,
    /** What the service answered, or `undefined` when nothing was sent. */
    readonly failure?: ServiceFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A submit argument cannot be sent: `flow_data` (or `targets`, a UUID) is not
 * JSON-serialisable. Raised before anything is sent; a
 * {@link FlowSubmitException} so callers handling submit failures see it too.
 */
export class SubmitDataError extends FlowSubmitException {
  override readonly name: string = 'SubmitDataError';
  constructor(
    flowName: string,
    /** Path of the offending value, e.g. `flow_data.colls[2]` or `project_uuid`. */
    readonly path: string,
    /** Why the value cannot be sent. */
    readonly reason: string,
  ) {
    super(`Taskflow "${flowName}" not submitted: ${path} ${reason}`, flowName);
  }
}

/** SODAR Taskflow cleanup exception: the service refused or failed the cleanup. */
export class CleanupException extends TaskflowBackendError {
  override readonly name: string = 'CleanupException';
  constructor(
    /** The service's answer, or why it could not be reached. */
    message: string,
    /** What the service answered. */
    readonly failure: ServiceFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The service could not show a project's line of async runs. */
export class QueueQueryException extends TaskflowBackendError {
  override readonly name: string = 'QueueQueryException';
  constructor(
    message: string,
    /** What the service answered. */
    readonly failure: ServiceFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The service could not tell whether a project is locked. */
export class LockQueryException extends TaskflowBackendError {
  override readonly name: string = 'LockQueryException';
  constructor(
    message: string,
    /** What the service answered. */
    readonly failure: ServiceFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * An operation is not allowed with the current settings, e.g. cleanup outside
 * test mode (Django's `ImproperlyConfigured`).
 */
export class ImproperlyConfigured extends TaskflowBackendError {
  override readonly name: string = 'ImproperlyConfigured';
}

/** A lock or queue query was given something that names no project (checked before anything is sent). */
export class InvalidProjectError extends TaskflowBackendError {
  override readonly name: string = 'InvalidProjectError';
  constructor(readonly reason: string) {
    super(`Not a project: ${reason}`);
  }
}
