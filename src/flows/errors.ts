/**
 * Errors of flow validation and building. Their messages are what the service
 * appends to `Error validating flow: ` (400) and `Error building flow: ` (500).
 *
 * @module
 */

/** The submit's flow data or mode is not acceptable for this flow (protocol section 2, point 5). */
export class FlowValidationError extends Error {
  override name = 'FlowValidationError';
  constructor(
    message: string,
    /** The flow_data field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Building the task list failed, e.g. the store could not be read (protocol section 2, point 6). */
export class FlowBuildError extends Error {
  override name = 'FlowBuildError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
