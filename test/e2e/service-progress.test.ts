/**
 * Progress of zone runs, against a `taskflow serve` process and the test
 * site: the run record (`GET /runs/<id>`) counts tasks, files checked and
 * files moved, only upwards, up to the totals; the zone's status info shows
 * them while it is VALIDATING and MOVING, 100% included, and nothing comes
 * after the final status; `taskflow runs ID --follow` prints a line per
 * change and exits 0 when the run completes. The move is held after its
 * first chunk by the service's pause hook, so an intermediate state is seen
 * every time, whatever the machine's speed.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { RunProgress } from '../../src/engine/types.js';
import { ZoneInfo } from '../../src/flows/zone-status.js';
import { PAUSE_ENV } from '../../src/service/test-hooks.js';
import { CLI_PATH, getWithSecret, postJson, watchOutput, type ServiceProcess } from '../support/service-harness.js';
import { zoneMoveBody } from '../support/service-flows.js';
import { createZone, defaultZone, uploadToZone, writeZoneFiles } from '../support/service-zone.js';
import { waitFor } from '../support/service-wait.js';
import { serviceTestBed } from '../support/service-test-bed.js';
import type { TestSite } from '../support/test-site.js';

const PROJECT = 'f0f0f0f0-0000-4000-8000-000000000016';
/** Data files: with their companions three move chunks of 500 files. */
const FILES = 1500;
const zone = defaultZone();

let site: TestSite;
let env: Record<string, string>;
let service: ServiceProcess;

const bed = serviceTestBed('taskflow-progress-', (b) => ({ site } = b));
beforeAll(async () => {
  env = bed.env(bed.dataDir('data'), {
    TASKFLOW_ZONE_PROGRESS_INTERVAL: '0.1',
    // held once its first chunk is moved: the first move task of the first move run
    [PAUSE_ENV]: 'landing_zone_move:store.moveObjects',
  });
  service = await bed.spawn(env);
  await createZone(service.url, site, PROJECT, zone);
  expect(await uploadToZone(loadConfig(env), PROJECT, zone, writeZoneFiles(bed.work, FILES, 16))).toBe(FILES * 2);
}, 120_000);

/** The zone status callbacks the site got since `from`, as [status, info]. */
function zoneCalls(from = 0): Array<[string, string]> {
  return site.calls
    .slice(from)
    .filter((c) => c.endpoint === 'landingzones/taskflow/status/set' && c.fields.zone_uuid === zone.zoneUuid)
    .map((c) => [c.fields.status, c.fields.status_info]);
}

/** The done of each progress text of `info` among `calls`, in order. */
function progressShown(calls: Array<[string, string]>, status: string, info: string): number[] {
  return calls.filter(([s, i]) => s === status && i.startsWith(`${info} (`)).map(([, i]) => Number(/\((\d+)\/(\d+): (\d+)%\)$/.exec(i)![1]));
}

/** Submits an async move (or validation) with a timeline event; resolves with the event, whose OK says all callbacks are done. */
async function submitAsync(validateOnly: boolean): Promise<string> {
  const event = `event-${validateOnly ? 'validate' : 'move'}`;
  site.seedTimelineEvent({ event_uuid: event, project_uuid: PROJECT });
  const body = zoneMoveBody(PROJECT, site.url, zone, { mode: 'async', validateOnly, timelineUuid: event });
  expect(await postJson(`${service.url}/submit`, body)).toEqual({ status: 200, body: 'True' });
  return event;
}

const timelineDone = (event: string) => site.state().timeline[event]?.status_history.at(-1)?.status_type;

/** The run's progress, as `GET /runs/<id>` shows it. */
async function progressOf(runId: string): Promise<{ status: string; progress: RunProgress }> {
  const res = await getWithSecret(`${service.url}/runs/${runId}`);
  expect(res.status).toBe(200);
  return { status: res.json.status, progress: res.json.progress };
}

/** Whether every number in `later` is at least the one in `earlier`. */
function notBelow(earlier: RunProgress, later: RunProgress): boolean {
  if (later.tasks.done < earlier.tasks.done) return false;
  return Object.entries(earlier.counts ?? {}).every(([k, c]) => (later.counts?.[k]?.done ?? -1) >= c.done);
}

describe('progress of zone runs', () => {
  it('a validation counts the files checked; the zone shows 100% before it is ACTIVE again', async () => {
    const from = site.calls.length;
    const event = await submitAsync(true);
    expect(await waitFor('validation reported', () => timelineDone(event))).toBe('OK');
    const runs = await getWithSecret(`${service.url}/runs?project=${PROJECT}&flow=landing_zone_move`);
    const run = runs.json.runs[0];
    expect(run).toMatchObject({ status: 'completed', progress: { tasks: { done: run.taskCount, total: run.taskCount }, counts: { filesChecked: { done: FILES, total: FILES } } } });
    const calls = zoneCalls(from);
    expect(calls.at(-1)).toEqual(['ACTIVE', ZoneInfo.validated(FILES)]);
    const checked = progressShown(calls, 'VALIDATING', ZoneInfo.validating(FILES));
    expect(checked.at(-1)).toBe(FILES);
    expect(checked).toEqual([...checked].sort((a, b) => a - b));
  });

  it('a move shows its progress in the run record, at the site and in `taskflow runs --follow`, and nothing after MOVED', async () => {
    const from = site.calls.length;
    const event = await submitAsync(false);
    const paused = await service.waitForLine(/TASKFLOW_TEST_PAUSED run=\S+ task=\d+ of=\d+/);
    const [, runId, task, of] = /run=(\S+) task=(\d+) of=(\d+)/.exec(paused)!;

    // held after the first chunk: the site hears of it once the interval has passed, the run record at once
    const first = `${ZoneInfo.moving(FILES)} (500/${FILES}: 33%)`;
    await waitFor('the first chunk shown at the site', () => zoneCalls(from).some(([s, i]) => s === 'MOVING' && i === first));
    const held = await progressOf(runId);
    expect(held).toEqual({
      status: 'running',
      progress: {
        tasks: { done: Number(task) + 1, total: Number(of) },
        counts: { filesChecked: { done: FILES, total: FILES }, filesMoved: { done: 500, total: FILES } },
      },
    });

    // --follow, from another process reading the journal: a line per change, exit 0 when completed
    const follow = spawn(process.execPath, [CLI_PATH, 'runs', runId, '--follow'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = watchOutput(follow);
    await out.waitForLine(new RegExp(`^run ${runId}: running: \\d+/${of} tasks, files checked ${FILES}/${FILES}, files moved 500/${FILES}$`));

    const samples = [held.progress];
    service.proc.kill('SIGUSR2');
    await service.waitForLine(new RegExp(`TASKFLOW_TEST_RESUMED run=${runId}`));
    for (;;) {
      const now = await progressOf(runId);
      samples.push(now.progress);
      if (now.status !== 'running') {
        expect(now.status).toBe('completed');
        break;
      }
    }
    for (let i = 1; i < samples.length; i++) expect(notBelow(samples[i - 1], samples[i]), `sample ${i}`).toBe(true);
    expect(samples.at(-1)).toEqual({
      tasks: { done: Number(of), total: Number(of) },
      counts: { filesChecked: { done: FILES, total: FILES }, filesMoved: { done: FILES, total: FILES } },
    });

    expect(await out.exited).toBe(0);
    const lines = out.lines.filter((l) => l !== '');
    expect(lines.at(-1)).toBe(`run ${runId}: completed (${of}/${of} tasks, files checked ${FILES}/${FILES}, files moved ${FILES}/${FILES})`);
    const moved = lines.map((l) => /files moved (\d+)\//.exec(l)?.[1]).filter((n) => n !== undefined).map(Number);
    expect(moved).toEqual([...moved].sort((a, b) => a - b));
    expect(new Set(lines).size).toBe(lines.length); // one line per change

    // the timeline's OK comes after every zone callback of the run
    expect(await waitFor('move reported', () => timelineDone(event))).toBe('OK');
    const calls = zoneCalls(from);
    expect(calls.at(-1)).toEqual(['MOVED', ZoneInfo.moved(FILES)]);
    expect(calls.filter(([s]) => s === 'MOVED')).toHaveLength(1);
    expect(calls.map(([s]) => s).filter((s, i, all) => s !== all[i - 1])).toEqual(['PREPARING', 'VALIDATING', 'MOVING', 'MOVED']);
    for (const [status, info] of [['VALIDATING', ZoneInfo.validating(FILES)], ['MOVING', ZoneInfo.moving(FILES)]]) {
      const shown = progressShown(calls, status, info);
      expect(shown.at(-1), status).toBe(FILES);
      expect(shown, status).toEqual([...shown].sort((a, b) => a - b));
    }
    expect(progressShown(calls, 'MOVING', ZoneInfo.moving(FILES))).toContain(500);
    expect(site.state().zones[zone.zoneUuid]).toMatchObject({ status: 'MOVED', status_info: ZoneInfo.moved(FILES) });
  });
});
