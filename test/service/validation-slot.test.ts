/**
 * TASKFLOW_ZONE_VALIDATE_LIMIT frees a validate-only check's slot no later
 * than its end shows: a check submitted once `GET /runs` shows the last one
 * ended (and `GET /queue` none running) is not refused, even while the
 * ended one is still busy behind it (its end being synced, its queue place,
 * its answer or report). The run is held right after its end is recorded,
 * so that window is there every time, not by chance. (That a second check
 * is refused while one runs: test/e2e/service-queue.test.ts, zone limits.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import type { RunResult } from '../../src/engine/types.js';
import { getWithSecret, startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { zoneMoveBody, type ZoneSpec } from '../support/service-flows.js';
import { waitFor } from '../support/service-wait.js';
import { createZone } from '../support/service-zone.js';

const PROJECT = 'd5d5d5d5-0000-4000-8000-000000000041';
const ZONE: ZoneSpec = { zoneUuid: 'zone-slot', zoneTitle: '20261210_slot', userName: 'zone_user', assayPath: 'study_1/assay_1' };

let fx: ServiceFixture;
/** Lets a held run go on (see {@link holdNextZoneMoveAtItsEnd}): a failed test must not leave it held, or the service could not stop. */
let releaseHeld: (() => void) | undefined;
beforeEach(async () => {
  // the default limit, as SODAR's: one check per project
  fx = await startServiceFixture();
  await createZone(fx.service.url, fx.site, PROJECT, ZONE);
});
afterEach(async () => {
  releaseHeld?.();
  releaseHeld = undefined;
  vi.restoreAllMocks();
  await fx?.close();
});

/**
 * Holds the next zone move right after its end is recorded: its `finish` is
 * written (readable at once, as `/runs` reads it) and the commit goes on,
 * but the wait for it to be durable, the run's last step, resolves only at
 * `release()`.
 */
function holdNextZoneMoveAtItsEnd(): { held: Promise<void>; release: () => void } {
  const finish = SqliteJournal.prototype.finish;
  const whenDurable = SqliteJournal.prototype.whenDurable;
  let armed = false;
  let fired = false;
  let heldNow!: () => void;
  const held = new Promise<void>((resolve) => (heldNow = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  releaseHeld = release;
  vi.spyOn(SqliteJournal.prototype, 'finish').mockImplementation(function (this: SqliteJournal, runId: string, result: RunResult) {
    finish.call(this, runId, result);
    // the run's own wait for durability comes next, in this same synchronous step
    if (!fired && result.flowName === 'landing_zone_move') armed = fired = true;
  });
  vi.spyOn(SqliteJournal.prototype, 'whenDurable').mockImplementation(function (this: SqliteJournal) {
    const durable = whenDurable.call(this);
    if (!armed) return durable;
    armed = false;
    heldNow();
    return durable.then(() => released);
  });
  return { held, release };
}

const statuses = async (): Promise<string[]> =>
  (await getWithSecret(`${fx.service.url}/runs?project=${PROJECT}&flow=landing_zone_move`)).json.runs.map((r: { status: string }) => r.status);
const runningInLine = async (): Promise<number> => (await getWithSecret(`${fx.service.url}/queue?project=${PROJECT}`)).json.projects[0].running.length;

describe('validate-only slot', () => {
  it.each(['async', 'sync'] as const)('a check (%s) ended as /runs shows it: a check submitted then is accepted', async (mode) => {
    const hold = holdNextZoneMoveAtItsEnd();
    const first = fx.submit(zoneMoveBody(PROJECT, fx.site.url, ZONE, { mode, validateOnly: true }));
    await hold.held;
    // what a client sees: the check ended, none running in the project's line
    await waitFor('the first check to show ended', async () => (await statuses())[0] === 'completed');
    expect(await runningInLine()).toBe(0);
    expect(await fx.submit(zoneMoveBody(PROJECT, fx.site.url, ZONE, { mode: 'async', validateOnly: true }))).toEqual({ status: 200, body: 'True' });
    hold.release();
    expect(await first).toEqual({ status: 200, body: 'True' });
    await waitFor('the second check to end', async () => (await statuses()).length === 2 && (await statuses()).every((s) => s === 'completed'));
  });

});
