/**
 * The point where `force_fail` makes a flow fail: a task that always throws.
 * Flows put it before their irreversible tail (a final zone status, a sheet
 * deletion), so a forced failure rolls back everything and never reaches
 * what the site cannot undo.
 *
 * @module
 */
import { defineTask } from './define.js';

/** Message of a failure forced by `force_fail`. */
export const FORCED_FAILURE_MESSAGE = 'Forced failure (force_fail was requested): the flow was rolled back';

/** Args of {@link forcedFailure}: the target it is filed under (always one of the request's). */
export type ForcedFailureArgs = { target: string };

const make = defineTask<ForcedFailureArgs, { never: true }>({
  kind: 'flow.forcedFailure',
  target: 'any',
  async execute() {
    throw new Error(FORCED_FAILURE_MESSAGE);
  },
  async revert() {},
});

/** A forced-failure task filed under `target` (so the flow's target filter keeps it). */
export function forcedFailure(target: string) {
  return make('Forced failure', { target }, target);
}
