/**
 * Landing zone flows beyond the happy path: validation failures of a move
 * (missing companions, wrong checksums, corrupted bytes), the zone status set
 * by onFailure, build failures, and a zone of several move chunks.
 */
import Database from 'better-sqlite3';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowBuildError, getFlow } from '../../src/flows/index.js';
import { projectGroup, sampleDataPath } from '../../src/flows/layout.js';
import { MOVE_CHUNK } from '../../src/flows/landing-zone-move.js';
import { ZoneInfo, ZoneStatus } from '../../src/flows/zone-status.js';
import type { FlowInput } from '../../src/flows/types.js';
import { MemoryJournal, RunProgressTracker, runFlow } from '../../src/engine/index.js';
import { ZoneProgress } from '../../src/flows/zone-progress.js';
import type { TaskProgress } from '../../src/tasks/progress.js';
import { build, makeInput, openWorld, runInput, snapshot, type World } from './harness.js';
import {
  ASSAY,
  P1,
  ZONE_FILES,
  SCRIPT_USER,
  ZONE_UUID,
  aclNames,
  createProject,
  createSheet,
  createZone,
  layoutBase,
  md5,
  moveData,
  put,
  putZoneFiles,
  zoneData,
  zonePath,
  zoneSubmitted,
} from './scenarios.js';

let w: World;
afterEach(async () => w.close());

async function prepare(env: Record<string, string> = {}) {
  w = await openWorld(env);
  await createProject(w);
  await createSheet(w);
  await createZone(w);
}

/** Runs like the service: on a failed run, the flow's onFailure with the reason. */
async function submit(input: FlowInput) {
  const def = getFlow(input.flowName)!;
  const r = await runInput(w, input);
  if (r.status !== 'completed') await def.onFailure?.(input, w.deps, { stage: 'run', reason: r.error ?? '' });
  return r;
}

/** Replaces an object's bytes behind the catalog's back, in its vault file or, for a small object, in the catalog. */
async function corruptObjectBytes(dir: string, content: string, replacement: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name === 'catalog.sqlite') {
      const db = new Database(join(e.parentPath, e.name));
      try {
        n += db.prepare('UPDATE object_bytes SET bytes = ? WHERE bytes = ?').run(Buffer.from(replacement), Buffer.from(content)).changes;
      } finally {
        db.close();
      }
    }
    if (!e.isFile() || /sqlite|\.db|-wal|-shm/.test(e.name)) continue;
    const p = join(e.parentPath, e.name);
    if ((await readFile(p, 'utf8')) === content) {
      await writeFile(p, replacement);
      n++;
    }
  }
  return n;
}

describe('landing_zone_move failures', () => {
  beforeEach(async () => prepare());

  it('lists files without .md5 and .md5 without files, relative to the zone; zone FAILED with the reason', async () => {
    await putZoneFiles(w, ZONE_FILES, { noMd5: ['raw/b.fastq'] });
    await put(w, `${zonePath(w)}/raw/orphan.txt.md5`, md5('x'));
    const before = await snapshot(w);
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(r.status).toBe('rolled_back');
    expect(r.error).toContain('missing .md5 file for 1 file(s): raw/b.fastq');
    expect(r.error).toContain('missing data file for 1 .md5 file(s): raw/orphan.txt.md5');
    expect(await w.store.dump()).toEqual(before.store);
    const zone = w.site.state().zones[ZONE_UUID];
    expect(zone.status).toBe(ZoneStatus.FAILED);
    expect(zone.status_info).toContain('raw/b.fastq');
    const statuses = w.site.calls.filter((c) => c.endpoint === 'landingzones/taskflow/status/set').map((c) => c.fields.status);
    // busy until FAILED: a zone passing through ACTIVE would read as validated, and a page showing it would stop polling
    expect(statuses.slice(-4)).toEqual(['PREPARING', 'VALIDATING', 'PREPARING', 'FAILED']);
  });

  it('fails on a checksum that differs from the .md5 file', async () => {
    await putZoneFiles(w, ZONE_FILES, { noMd5: ['c.txt'] });
    await put(w, `${zonePath(w)}/c.txt.md5`, md5('something else'));
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData({ validate_only: true })));
    expect(r.status).toBe('rolled_back');
    expect(r.error).toMatch(/checksums do not match for 1 file\(s\): c\.txt \(expected [0-9a-f]{32}, catalog [0-9a-f]{32}\)/);
    expect(w.site.state().zones[ZONE_UUID].status).toBe(ZoneStatus.FAILED);
  });

  it('rolls back when a file already exists in sample data', async () => {
    await putZoneFiles(w, ZONE_FILES);
    await put(w, `${sampleDataPath(layoutBase(w), P1, ASSAY)}/c.txt`, 'already here');
    const before = await snapshot(w);
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(r.status).toBe('rolled_back');
    expect(r.error).toContain('already exists');
    expect(await w.store.dump()).toEqual(before.store);
    expect(w.site.state().zones[ZONE_UUID].status).toBe(ZoneStatus.FAILED);
  });

  it('fails on an invalid .md5 file', async () => {
    await putZoneFiles(w, ZONE_FILES, { noMd5: ['c.txt'] });
    await put(w, `${zonePath(w)}/c.txt.md5`, 'not-a-checksum');
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(r.error).toContain('invalid MD5 in c.txt.md5');
  });

  it('sets nothing on the site when the request leaves the site out', async () => {
    await putZoneFiles(w, ZONE_FILES, { noMd5: ['c.txt'] });
    const before = await snapshot(w);
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData(), { targets: ['irods'] }));
    expect(r.status).toBe('rolled_back');
    expect(await snapshot(w)).toEqual(before);
  });

  it('fails building when the zone collection does not exist, and onFailure says why', async () => {
    const input = makeInput(w, 'landing_zone_move', P1, moveData({ zone_title: 'no_such_zone' }));
    const def = getFlow('landing_zone_move')!;
    const err = await def.build(input, w.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowBuildError);
    await def.onFailure!(input, w.deps, { stage: 'build', reason: (err as Error).message });
    expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'FAILED' });
    expect(w.site.state().zones[ZONE_UUID].status_info).toMatch(/^Error building flow: Landing zone collection not found/);
  });

  it('onFailure never throws, even with the site gone', async () => {
    await w.site.close();
    const input = makeInput(w, 'landing_zone_move', P1, moveData());
    await expect(getFlow('landing_zone_move')!.onFailure!(input, w.deps, { stage: 'run', reason: 'x' })).resolves.toBeUndefined();
  });
});

describe('landing_zone_move checksum verification', () => {
  it('recomputes MD5 from the bytes by default and refuses a corrupted file', async () => {
    await prepare();
    await putZoneFiles(w, { 'c.txt': 'corruptible-content' });
    expect(await corruptObjectBytes(w.dir, 'corruptible-content', 'CORRUPTED-content!!')).toBe(1);
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(r.status).toBe('rolled_back');
    expect(r.error).toMatch(/c\.txt \(expected [0-9a-f]{32}, file bytes [0-9a-f]{32}\)/);
  });

  it('trusts the catalog when TASKFLOW_VERIFY_CHECKSUMS is off', async () => {
    await prepare({ TASKFLOW_VERIFY_CHECKSUMS: 'false' });
    await putZoneFiles(w, { 'c.txt': 'corruptible-content' });
    await corruptObjectBytes(w.dir, 'corruptible-content', 'CORRUPTED-content!!');
    const r = await submit(makeInput(w, 'landing_zone_move', P1, moveData({ validate_only: true })));
    expect(r.status).toBe('completed');
  });
});

describe('landing zone onFailure', () => {
  it('landing_zone_create failure leaves the zone NOT CREATED with the reason', async () => {
    w = await openWorld();
    await createProject(w);
    await createSheet(w);
    w.site.seedZone({ zone_uuid: ZONE_UUID, project_uuid: P1, status: ZoneStatus.CREATING, status_info: ZoneInfo.creating });
    const before = await snapshot(w);
    w.site.failNext('landingzones/taskflow/status/set', 500);
    const r = await submit(makeInput(w, 'landing_zone_create', P1, zoneData()));
    expect(r.status).toBe('rolled_back');
    expect(await w.store.dump()).toEqual(before.store);
    expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'NOT CREATED' });
    expect(w.site.state().zones[ZONE_UUID].status_info).toContain('answered 500');
  });

  it('landing_zone_delete of a zone without a collection still deletes it', async () => {
    w = await openWorld();
    await createProject(w);
    w.site.seedZone({ zone_uuid: ZONE_UUID, project_uuid: P1, status: ZoneStatus.ACTIVE, status_info: ZoneInfo.active });
    const r = await submit(
      makeInput(w, 'landing_zone_delete', P1, { zone_title: 'gone', zone_uuid: ZONE_UUID, assay_path: ASSAY, user_name: 'alice' }),
    );
    expect(r.status).toBe('completed');
    expect(w.site.state().zones[ZONE_UUID].status).toBe('DELETED');
  });
});

describe('landing_zone_move of several chunks', () => {
  it('moves every file in chunk tasks and rolls all of them back', async () => {
    await prepare({ TASKFLOW_VERIFY_CHECKSUMS: 'true' });
    const files: Record<string, string> = {};
    const count = MOVE_CHUNK + 1; // files plus companions: three chunks
    for (let i = 0; i < count; i++) files[`d${i % 7}/f${i}.txt`] = `content ${i}`;
    await putZoneFiles(w, files);
    zoneSubmitted(w, 'landing_zone_move');
    const before = await snapshot(w);
    const input = makeInput(w, 'landing_zone_move', P1, moveData({ script_user: SCRIPT_USER }));
    const tasks = (await build(w, input)).tasks;
    expect(tasks.filter((t) => t.kind === 'store.moveObjects')).toHaveLength(3);

    const failed = await runInput(w, { ...input, forceFail: true });
    expect(failed.status).toBe('rolled_back');
    expect(await snapshot(w)).toEqual(before);

    const r = await runInput(w, input);
    expect(r.status).toBe('completed');
    const moved = await w.store.listObjectPaths(sampleDataPath(layoutBase(w), P1, ASSAY));
    expect(moved).toHaveLength(count * 2);
    expect(w.site.state().zones[ZONE_UUID].status_info).toBe(ZoneInfo.moved(count));
    expect(await aclNames(w, sampleDataPath(layoutBase(w), P1, ASSAY))).toEqual([`${projectGroup(P1)}:read`, 'rods:own']);
  });
});

describe('landing_zone_move progress', () => {
  it('counts files checked and moved up to the total, and the zone shows them in VALIDATING and MOVING, never after MOVED', async () => {
    await prepare();
    const files: Record<string, string> = {};
    const count = MOVE_CHUNK + 1; // files plus companions: three chunks (500, 500 and 1 data files)
    for (let i = 0; i < count; i++) files[`d${i % 7}/f${i}.txt`] = `content ${i}`;
    await putZoneFiles(w, files);
    const flow = await build(w, makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(flow.tasks.filter((t) => t.kind === 'store.moveObjects').map((t) => (t.args as { progress: unknown }).progress)).toEqual([
      { key: 'filesMoved', done: 500, total: count },
      { key: 'filesMoved', done: 1000, total: count },
      { key: 'filesMoved', done: count, total: count },
    ]);

    const journal = new MemoryJournal();
    const tracker = new RunProgressTracker('r', journal, flow.tasks.length);
    const counted: Record<string, number[]> = {};
    const zone = new ZoneProgress(w.client, { intervalMs: 0 });
    const progress: TaskProgress = {
      count(key, done, total) {
        (counted[key] ??= []).push(done);
        expect(total).toBe(count);
        tracker.count(key, done, total);
        zone.count(key, done, total);
      },
      zoneStatus: (call) => zone.zoneStatus(call),
    };
    const from = w.site.calls.length;
    const r = await runFlow(flow, { ...w.ctx, progress }, { journal, runId: 'r', progress: tracker });
    await zone.close();
    expect(r.status).toBe('completed');
    expect(counted.filesMoved).toEqual([500, 1000, count]);
    expect(counted.filesChecked.at(-1)).toBe(count);
    expect(counted.filesChecked).toEqual([...counted.filesChecked].sort((a, b) => a - b));
    expect(tracker.snapshot()).toEqual({
      tasks: { done: flow.tasks.length, total: flow.tasks.length },
      counts: { filesChecked: { done: count, total: count }, filesMoved: { done: count, total: count } },
    });
    expect(journal.getRun('r')!.progress?.counts).toEqual(tracker.snapshot().counts);

    const calls = zoneCalls(from);
    expect(calls.at(-1)).toMatchObject({ status: 'MOVED', info: ZoneInfo.moved(count) });
    const shown = (status: string, info: string) =>
      calls.filter((c) => c.status === status && c.info.startsWith(`${info} (`)).map((c) => Number(/\((\d+)\//.exec(c.info)![1]));
    for (const [status, info] of [[ZoneStatus.VALIDATING, ZoneInfo.validating(count)], [ZoneStatus.MOVING, ZoneInfo.moving(count)]]) {
      const done = shown(status, info);
      expect(done.at(-1), status).toBe(count);
      expect(done, status).toEqual([...done].sort((a, b) => a - b));
    }
    expect(calls.map((c) => c.status).filter((s, i, all) => s !== all[i - 1])).toEqual(['PREPARING', 'VALIDATING', 'MOVING', 'MOVED']);
    expect(calls.some((c) => c.info === `${ZoneInfo.moving(count)} (${count}/${count}: 100%)`)).toBe(true);
    expect(w.site.state().zones[ZONE_UUID].status).toBe('MOVED');
  });
});

describe('landing_zone_move and the access left behind', () => {
  beforeEach(async () => prepare());

  it('leaves sample data with group read and admin own only; a forced failure puts every ACL entry back', async () => {
    await putZoneFiles(w, ZONE_FILES);
    const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
    await w.store.setAccess(`${zonePath(w)}/raw`, SCRIPT_USER, 'read', { recursive: true });
    const before = await snapshot(w);
    const input = makeInput(w, 'landing_zone_move', P1, moveData({ script_user: SCRIPT_USER }));

    const failed = await runInput(w, { ...input, forceFail: true });
    expect(failed.status).toBe('rolled_back');
    expect(await w.store.dump()).toEqual(before.store);

    const r = await runInput(w, input);
    expect(r.status).toBe('completed');
    expect(await aclNames(w, sample)).toEqual([`${projectGroup(P1)}:read`, 'rods:own']);
  });

  it('takes the script user from flow_data as a user name, refusing a system one', async () => {
    const input = makeInput(w, 'landing_zone_move', P1, moveData({ script_user: 'rods' }));
    await expect(getFlow('landing_zone_move')!.validate(input, w.deps)).rejects.toThrow(/Invalid script_user "rods"/);
  });
});

/** Zone status callbacks since `from`: status, info and the extra fields sent with them. */
function zoneCalls(from: number): { status: string; info: string; extra: Record<string, string> }[] {
  return w.site.calls
    .slice(from)
    .filter((c) => c.endpoint === 'landingzones/taskflow/status/set')
    .map(({ fields: { status, status_info, zone_uuid: _z, flow_name: _f, ...extra } }) => ({ status, info: status_info, extra }));
}

// The literal texts of SODAR Taskflow v0.6.2 (flows/landing_zone_*.py, sodar_taskflow.py), which SODAR users know.
describe('zone status texts, as the original service sent them', () => {
  beforeEach(async () => prepare());

  it('a move: preparing, validating, moving into sample_data, moved with file_count', async () => {
    await putZoneFiles(w, ZONE_FILES);
    const from = w.site.calls.length;
    expect((await submit(makeInput(w, 'landing_zone_move', P1, moveData()))).status).toBe('completed');
    expect(zoneCalls(from)).toEqual([
      { status: 'PREPARING', info: 'Preparing transaction for validation and moving', extra: {} },
      { status: 'VALIDATING', info: 'Validating 3 files, write access disabled', extra: {} },
      { status: 'MOVING', info: 'Validation OK, moving 3 files into sample_data', extra: {} },
      { status: 'MOVED', info: 'Successfully moved 3 files, landing zone removed', extra: { file_count: '3' } },
    ]);
  });

  it('a validate-only run of one file: validated with validate_only=1', async () => {
    await putZoneFiles(w, { 'c.txt': 'c' });
    const from = w.site.calls.length;
    expect((await submit(makeInput(w, 'landing_zone_move', P1, moveData({ validate_only: true })))).status).toBe('completed');
    expect(zoneCalls(from)).toEqual([
      { status: 'PREPARING', info: 'Preparing transaction for validation', extra: {} },
      { status: 'VALIDATING', info: 'Validating 1 file, write access disabled', extra: {} },
      { status: 'ACTIVE', info: 'Successfully validated 1 file', extra: { validate_only: '1' } },
    ]);
  });

  it('failures: the flow prefix before the reason, validate_only 0/1 for moves, Error building flow when building failed', async () => {
    await putZoneFiles(w, ZONE_FILES, { noMd5: ['c.txt'] });
    let from = w.site.calls.length;
    await submit(makeInput(w, 'landing_zone_move', P1, moveData()));
    expect(zoneCalls(from).at(-1)).toEqual({
      status: 'FAILED',
      info: expect.stringMatching(/^Failed to move landing zone files: Landing zone validation failed: missing \.md5 file for 1 file\(s\): c\.txt/),
      extra: { validate_only: '0' },
    });
    from = w.site.calls.length;
    await submit(makeInput(w, 'landing_zone_move', P1, moveData({ validate_only: true })));
    expect(zoneCalls(from).at(-1)).toEqual({
      status: 'FAILED',
      info: expect.stringMatching(/^Failed to validate landing zone files: Landing zone validation failed: missing \.md5 file/),
      extra: { validate_only: '1' },
    });
    from = w.site.calls.length;
    await submit(makeInput(w, 'landing_zone_delete', P1, { zone_title: '20261126_zone', zone_uuid: ZONE_UUID, assay_path: ASSAY, user_name: 'alice' }, { forceFail: true }));
    expect(zoneCalls(from).at(-1)).toEqual({ status: 'FAILED', info: expect.stringMatching(/^Failed to delete landing zone: Forced failure/), extra: {} });
    // busy until FAILED, as a move (DELETING is what the site set before submitting: nothing to revert)
    expect(zoneCalls(from).map((c) => c.status)).toEqual(['DELETING', 'FAILED']);
    const input = makeInput(w, 'landing_zone_move', P1, moveData({ zone_title: 'no_such_zone' }));
    from = w.site.calls.length;
    await getFlow('landing_zone_move')!.onFailure!(input, w.deps, { stage: 'build', reason: 'Landing zone collection not found' });
    expect(zoneCalls(from)).toEqual([{ status: 'FAILED', info: 'Error building flow: Landing zone collection not found', extra: { validate_only: '0' } }]);
  });

  it('a failed create: NOT CREATED with "Failed to create landing zone: "', async () => {
    w.site.seedZone({ zone_uuid: 'zone-2', project_uuid: P1, status: ZoneStatus.CREATING, status_info: ZoneInfo.creating });
    const from = w.site.calls.length;
    await submit(makeInput(w, 'landing_zone_create', P1, zoneData({ zone_uuid: 'zone-2', zone_title: 'second' }), { forceFail: true }));
    expect(zoneCalls(from).at(-1)).toEqual({ status: 'NOT CREATED', info: expect.stringMatching(/^Failed to create landing zone: Forced failure/), extra: {} });
  });
});
