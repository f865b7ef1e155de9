/**
 * How tasks tell how far they are: counts through the task context's
 * `progress` (kept with the run record, and shown by a zone's status info),
 * and zone status callbacks sent in order with the progress callbacks of
 * the same run, so that none of those lands after a later status.
 *
 * @module
 */
import type { ZoneStatusCall } from './site-tasks.js';

/** What tasks count, by the key their counts are kept under in a run's progress. */
export const ProgressKey = {
  /** Data files of a landing zone checked against their `.md5` companions. */
  filesChecked: 'filesChecked',
  /** Data files of a landing zone moved into sample data. */
  filesMoved: 'filesMoved',
} as const;
/** A progress key. */
export type ProgressKey = (typeof ProgressKey)[keyof typeof ProgressKey];

/** A task's progress counts, after its apply: `done` of `total` of what `key` counts will be done. */
export type ProgressArgs = { key: ProgressKey; done: number; total: number };

/** The task context's `progress`: one per run. */
export interface TaskProgress {
  /**
   * `done` of `total` of what `key` counts are done. Synchronous and cheap:
   * call it as often as convenient; it never throws and never waits for the site.
   */
  count(key: ProgressKey, done: number, total: number): void;
  /**
   * Sends a zone status callback once the progress callback in flight (if
   * any) has ended, dropping progress not sent yet: a status callback is
   * never overtaken by an earlier progress one. Rejects as the callback does.
   */
  zoneStatus(call: ZoneStatusCall): Promise<void>;
}
