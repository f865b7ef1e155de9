/**
 * The limits on zone flows users can see (issue 16, as SODAR added them):
 * validate-only checks running or waiting per project, and files per zone.
 *
 * @module
 */
import { layoutOf } from '../flows/plan.js';
import type { FlowDeps, FlowInput } from '../flows/types.js';
import { parseZone } from '../flows/zone-params.js';
import { NotFoundError } from '../store/errors.js';
import { pages } from '../store/pages.js';
import { isCompanion } from '../tasks/zone-check.js';

/**
 * Validate-only checks per project in this process, running or waiting.
 * A check holds its slot from its submit until its run ends: the slot is
 * freed right before the run's end is recorded (`RunOptions.beforeEnd`), not
 * once its lock, queue and report are done, so a check submitted once
 * `GET /runs` shows the last one ended, or `GET /queue` none running, is
 * not refused. A check that never runs (cancelled, refused, failed before
 * its start) frees it where it stops; freeing twice is harmless.
 */
export class ValidationSlots {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a slot: the function that frees it (idempotent), or undefined at the limit (unless `force`: a run accepted earlier). */
  take(projectUuid: string, force = false): (() => void) | undefined {
    const n = this.counts.get(projectUuid) ?? 0;
    if (n >= this.limit && !force) return undefined;
    this.counts.set(projectUuid, n + 1);
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const left = (this.counts.get(projectUuid) ?? 1) - 1;
      if (left <= 0) this.counts.delete(projectUuid);
      else this.counts.set(projectUuid, left);
    };
  }
}

/**
 * The data files (checksum companions not counted) in the zone of a zone
 * move submit, counted up to `limit + 1`: enough to tell it is over.
 */
export async function zoneFilesUpTo(input: FlowInput, deps: FlowDeps, limit: number): Promise<number> {
  const layout = layoutOf(deps);
  const path = parseZone(input, layout, 'assay_path_zone').path;
  let files = 0;
  // no stat first: the listing refuses a path that is not a collection, and a zone that is not there
  // counts none here (the flow's build says what is wrong with it)
  try {
    for await (const page of pages((o) => deps.store.listObjectPaths(path, { relative: true, ...o }), (n) => n)) {
      for (const n of page) if (!isCompanion(n)) files++;
      if (files > limit) break;
    }
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  return files;
}

/** Whether the limits apply to a submit: a zone move (validate-only or not). */
export const isZoneMove = (input: FlowInput): boolean => input.flowName === 'landing_zone_move';

