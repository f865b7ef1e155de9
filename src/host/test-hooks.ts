/**
 * Test-only hook of the site for crash tests:
 * `SODAR_SITE_TEST_FREEZE_BEFORE_SUBMIT=<flow>` makes the first submit of
 * that flow write `SODAR_SITE_TEST_FROZEN_BEFORE_SUBMIT flow=<flow>` to
 * stderr and block the process for good, after the site committed its
 * change (and its pending undo) and before the submit leaves, so a test can
 * SIGKILL the site exactly there. Honoured only in test mode.
 *
 * @module
 */
import { freezeForGood } from '../test-holds.js';

/** The environment variable of the hook. */
export const FREEZE_BEFORE_SUBMIT_ENV = 'SODAR_SITE_TEST_FREEZE_BEFORE_SUBMIT';
/** The line prefix written when frozen. */
export const FROZEN_BEFORE_SUBMIT_MARKER = 'SODAR_SITE_TEST_FROZEN_BEFORE_SUBMIT';

let fired = false;

/** Blocks the process for good before the submit of `flowName` when the hook names that flow (once; test mode only). */
export function freezeBeforeSubmit(testMode: boolean, flowName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!testMode || fired || env[FREEZE_BEFORE_SUBMIT_ENV]?.trim() !== flowName) return;
  fired = true;
  freezeForGood(`${FROZEN_BEFORE_SUBMIT_MARKER} flow=${flowName}`);
}
