/**
 * A run's zone callbacks: progress in the status info of VALIDATING and
 * MOVING (SODAR's `<text> (<done>/<total>: <pct>%)`), at most once per
 * interval and once at 100%, one callback at a time, never after a later
 * status (however slow the progress callback in flight) or after the run's
 * end, and a failed progress callback does not fail anything.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ZoneProgress } from '../../src/flows/zone-progress.js';
import { ZoneInfo, ZoneStatus } from '../../src/flows/zone-status.js';
import type { SiteClient } from '../../src/site/client.js';
import { ProgressKey } from '../../src/tasks/progress.js';
import type { ZoneStatusCall } from '../../src/tasks/site-tasks.js';

const INTERVAL = 1000;

/** A site that records zone status callbacks; `hold()` keeps the next one unanswered until released. */
function fakeSite() {
  const calls: { status: string; info: string; at: 'start' | 'end' }[] = [];
  let holdNext = false;
  const held: Array<() => void> = [];
  let failNext = false;
  const site = {
    async post(_url: string, _endpoint: string, fields: Record<string, unknown>): Promise<string> {
      const entry = { status: String(fields.status), info: String(fields.status_info) };
      calls.push({ ...entry, at: 'start' });
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((r) => held.push(r));
      }
      calls.push({ ...entry, at: 'end' });
      if (failNext) {
        failNext = false;
        throw new Error('site down');
      }
      return 'ok';
    },
  };
  return {
    client: site as unknown as SiteClient,
    calls,
    /** Callbacks answered, as `STATUS: info`. */
    answered: () => calls.filter((c) => c.at === 'end').map((c) => `${c.status}: ${c.info}`),
    hold: () => (holdNext = true),
    release: () => held.splice(0).forEach((r) => r()),
    failNext: () => (failNext = true),
  };
}

const call = (status: string, info: string): ZoneStatusCall => ({ sodar_url: 'http://site', zone_uuid: 'z', flow_name: 'landing_zone_move', status, status_info: info });
const VALIDATING = call(ZoneStatus.VALIDATING, ZoneInfo.validating(4));
const MOVING = call(ZoneStatus.MOVING, ZoneInfo.moving(4));
const MOVED = call(ZoneStatus.MOVED, ZoneInfo.moved(4));

/** Lets pending promise callbacks run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ZoneProgress', () => {
  it('shows the count of the status under way, at most once per interval after the status, and 100% at once', async () => {
    const site = fakeSite();
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL });
    zp.count(ProgressKey.filesChecked, 1, 4); // before any status: nothing to show it in
    await zp.zoneStatus(VALIDATING);
    zp.count(ProgressKey.filesMoved, 1, 4); // not what VALIDATING shows
    zp.count(ProgressKey.filesChecked, 1, 4);
    zp.count(ProgressKey.filesChecked, 2, 4);
    await settle();
    expect(site.answered()).toEqual([`VALIDATING: ${VALIDATING.status_info}`]);
    vi.advanceTimersByTime(INTERVAL);
    await settle();
    expect(site.answered().at(-1)).toBe('VALIDATING: Validating 4 files, write access disabled (2/4: 50%)');
    zp.count(ProgressKey.filesChecked, 3, 4); // within the interval of the last one: waits
    await settle();
    expect(site.answered()).toHaveLength(2);
    zp.count(ProgressKey.filesChecked, 4, 4); // 100%: at once
    await settle();
    expect(site.answered().at(-1)).toBe('VALIDATING: Validating 4 files, write access disabled (4/4: 100%)');
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.answered()).toHaveLength(3); // 3/4 was overtaken by 100%
    await zp.zoneStatus(MOVING);
    zp.count(ProgressKey.filesMoved, 4, 4);
    await zp.zoneStatus(MOVED);
    zp.count(ProgressKey.filesMoved, 4, 4);
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.answered().slice(3)).toEqual([
      `MOVING: ${MOVING.status_info}`,
      'MOVING: Validation OK, moving 4 files into sample_data (4/4: 100%)',
      `MOVED: ${MOVED.status_info}`,
    ]);
  });

  it('a status waits for the slow progress callback in flight, so none lands after it; nothing is sent after the last status', async () => {
    const site = fakeSite();
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL });
    await zp.zoneStatus(MOVING);
    site.hold();
    zp.count(ProgressKey.filesMoved, 4, 4);
    await settle();
    expect(site.calls.at(-1)).toMatchObject({ status: 'MOVING', at: 'start' }); // in flight, unanswered
    const moved = zp.zoneStatus(MOVED);
    await settle();
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.calls.filter((c) => c.status === 'MOVED')).toEqual([]); // waits for the progress callback
    site.release();
    await moved;
    zp.count(ProgressKey.filesMoved, 4, 4);
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.calls.map((c) => `${c.at} ${c.status}`)).toEqual(['start MOVING', 'end MOVING', 'start MOVING', 'end MOVING', 'start MOVED', 'end MOVED']);
  });

  it('a status drops a progress count not sent yet, but sends a pending 100% first', async () => {
    const site = fakeSite();
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL });
    await zp.zoneStatus(VALIDATING);
    zp.count(ProgressKey.filesChecked, 2, 4); // waits for the interval
    await zp.zoneStatus(MOVING);
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.answered()).toEqual([`VALIDATING: ${VALIDATING.status_info}`, `MOVING: ${MOVING.status_info}`]);

    site.hold();
    vi.advanceTimersByTime(INTERVAL);
    zp.count(ProgressKey.filesMoved, 1, 4); // sent at once (the interval has passed), held at the site
    await settle();
    zp.count(ProgressKey.filesMoved, 4, 4); // 100% waits behind it
    const moved = zp.zoneStatus(MOVED);
    await settle();
    site.release();
    await moved;
    expect(site.answered().slice(2)).toEqual([
      'MOVING: Validation OK, moving 4 files into sample_data (1/4: 25%)',
      'MOVING: Validation OK, moving 4 files into sample_data (4/4: 100%)',
      `MOVED: ${MOVED.status_info}`,
    ]);
  });

  it('close: the progress callback in flight ends first, and nothing is sent afterwards', async () => {
    const site = fakeSite();
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL });
    await zp.zoneStatus(MOVING);
    vi.advanceTimersByTime(INTERVAL);
    site.hold();
    zp.count(ProgressKey.filesMoved, 1, 4);
    await settle();
    zp.count(ProgressKey.filesMoved, 2, 4);
    let closed = false;
    const closing = zp.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    site.release();
    await closing;
    zp.count(ProgressKey.filesMoved, 4, 4);
    vi.advanceTimersByTime(10 * INTERVAL);
    await settle();
    expect(site.answered()).toEqual([`MOVING: ${MOVING.status_info}`, 'MOVING: Validation OK, moving 4 files into sample_data (1/4: 25%)']);
  });

  it('a failed progress callback is reported and changes nothing else; a failed status callback fails its caller', async () => {
    const site = fakeSite();
    const errors: string[] = [];
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL, onError: (err, c) => errors.push(`${c.status} ${(err as Error).message}`) });
    await zp.zoneStatus(MOVING);
    site.failNext();
    zp.count(ProgressKey.filesMoved, 4, 4);
    await settle();
    expect(errors).toEqual(['MOVING site down']);
    await zp.zoneStatus(MOVED);
    site.failNext();
    await expect(zp.zoneStatus(call(ZoneStatus.FAILED, 'x'))).rejects.toThrow('site down');
  });

  it('cuts the text to the status info limit', async () => {
    const site = fakeSite();
    const zp = new ZoneProgress(site.client, { intervalMs: INTERVAL });
    await zp.zoneStatus(call(ZoneStatus.MOVING, 'x'.repeat(1100)));
    zp.count(ProgressKey.filesMoved, 1, 1);
    await settle();
    expect(site.calls.at(-1)!.info).toHaveLength(1024);
  });
});
