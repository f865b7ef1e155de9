/**
 * For every task kind that changes something: a child process runs the task
 * alone with a SQLite journal and is SIGKILLed between its journaled intent
 * and the end of its apply (right before its first change, and right after
 * it), then this process reopens the store and the journal and recovers:
 * the revert, rebuilt through taskRegistry from the journaled kind, args and
 * undo value alone, leaves the store dump and the site state as they were.
 * Needs the build (the child runs from dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recoverRuns } from '../../src/engine/recover.js';
import { SqliteJournal } from '../../src/engine/sqlite-journal.js';
import type { Json } from '../../src/engine/types.js';
import { openStore } from '../../src/store/index.js';
import { taskRegistry } from '../../src/tasks/index.js';
import { SECRET, openWorld, snapshot, uuid, type World } from '../flows/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = join(root, 'dist/test/support/task-crash-child.js');

beforeAll(() => {
  for (const source of ['test/support/task-crash-child.ts', 'src/tasks/store-tasks.ts', 'src/tasks/site-tasks.ts', 'src/engine/runner.ts']) {
    const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, source)).mtimeMs) {
      throw new Error(`${built} is missing or older than ${source}: run \`npm run build\` first`);
    }
  }
});

const Z = '/omicsZone/projects/kc/kcase';
const P = uuid(1);
const A = uuid(11, 'b');
const ZONE = uuid(20, 'c');

let w: World;
beforeEach(async () => {
  w = await openWorld({}, { richProjectGet: true });
  const s = w.store;
  const put = (path: string) => s.putObject(path, Readable.from([Buffer.from(path)]));
  await s.createCollection(`${Z}/sub`, { parents: true });
  await s.createCollection(`${Z}/dst`);
  for (const f of ['f1', 'f2', 'sub/f3', 'sub/f4']) await put(`${Z}/${f}`);
  for (const u of ['u', 'u2']) await s.createPrincipal(u, 'rodsuser');
  await s.createPrincipal('g', 'rodsgroup');
  await s.addGroupMember('g', 'u2');
  await s.setAccess(`${Z}/f1`, 'u', 'write');
  await s.setAccess(`${Z}/sub/f3`, 'u', 'own');
  await s.modifyMetadata(Z, 'add', { attribute: 'k', value: 'v1', unit: '' });
  await s.modifyMetadata(Z, 'add', { attribute: 'k', value: 'v2', unit: '' });
  w.site.seedProject({ project_uuid: P, title: 'Project', description: 'before' });
  w.site.seedUser({ user_uuid: A, username: 'alice' });
  w.site.seedRole(P, A, 2);
  w.site.seedZone({ zone_uuid: ZONE, project_uuid: P, status: 'ACTIVE', status_info: 'Available' });
  w.site.seedSheet({ project_uuid: P, dir_status: false });
});
afterEach(async () => w.close());

/** One task per kind whose prepare finds something to change, and the args it runs with. */
function cases(url: string): Record<string, Json> {
  const site = { sodar_url: url, project_uuid: P };
  return {
    'store.createCollections': { paths: [`${Z}/new/a`, `${Z}/new2`] },
    'store.setAccess': { path: Z, name: 'u', level: 'read', recursive: true },
    'store.setAccesses': { path: Z, recursive: true, grants: [{ name: 'u', level: 'own' }, { name: 'g', level: 'read' }] },
    'store.setInheritance': { path: Z, inherit: true },
    'store.createUser': { name: 'newbie', user_type: 'rodsuser' },
    'store.createGroup': { name: 'newgroup' },
    'store.addGroupMember': { group: 'g', user: 'u' },
    'store.removeGroupMember': { group: 'g', user: 'u2' },
    'store.setMetadata': { path: Z, attribute: 'k', value: null, unit: '' },
    'store.trash': { path: `${Z}/sub`, refuse_objects: false },
    'store.moveObjects': { src: `${Z}/sub`, dst: `${Z}/dst`, names: 'f3\nf4', revoke: ['u'] },
    'site.setRole': { ...site, user_uuid: A, role_pk: 3 },
    'site.deleteRole': { ...site, user_uuid: A },
    'site.updateProject': {
      ...site,
      fields: { title: 'Renamed', parent_uuid: '', description: 'after', readme: 'r', public_guest_access: true },
    },
    'site.setSettings': { ...site, settings: { 'settings.projectroles.ip_restrict': true } },
    'site.setZoneStatus': {
      sodar_url: url,
      zone_uuid: ZONE,
      flow_name: 'landing_zone_move',
      status: 'MOVING',
      status_info: 'Moving',
      revert_to: { status: 'ACTIVE', status_info: 'Available' },
    },
    'site.setDirStatus': { ...site, dir_status: true },
  };
}

/** Kinds whose prepare never returns an undo value: they change nothing, or nothing the site can take back. */
const NOTHING_TO_REVERT = ['store.checkLandingZone', 'site.deleteSheet', 'site.setTimelineStatus'];

/** Runs the child until READY and kills it. */
async function runAndKill(spec: Json, point: 'before' | 'after'): Promise<void> {
  const child = spawn(process.execPath, [childScript, w.dir, SECRET, JSON.stringify(spec), point], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, signal) => res(signal ?? code)));
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('READY\n')) res();
    });
    child.on('exit', () => rej(new Error(`child exited before READY: stdout=${out} stderr=${err}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

describe('a process killed inside a task is reverted from the journaled undo alone', () => {
  it('covers every task kind', () => {
    expect([...Object.keys(cases('')), ...NOTHING_TO_REVERT].sort()).toEqual(taskRegistry.kinds().sort());
  });

  for (const kind of Object.keys(cases(''))) {
    it(`${kind}: killed before and after its first change`, async () => {
      for (const point of ['before', 'after'] as const) {
        const before = await snapshot(w);
        // the child owns the store while it runs, as a crashed service would
        await w.store.close();
        await runAndKill({ kind, name: `crash ${kind}`, target: kind.startsWith('site.') ? 'sodar' : 'irods', args: cases(w.site.url)[kind] }, point);
        w.store = await openStore(w.config);
        w.deps.store = w.store;
        const journal = new SqliteJournal(join(w.dir, 'crash-journal.sqlite'));
        try {
          const [task] = journal.getRun('crash')!.tasks;
          expect(task.state).toBe('intent');
          expect(task.undo).toBeDefined();
          const results = await recoverRuns(journal, taskRegistry, w.ctx);
          expect(results.map((r) => [r.status, r.revertFailures])).toEqual([['rolled_back', []]]);
          expect(await snapshot(w), `${kind} killed ${point} its first change`).toEqual(before);
          journal.close();
        } catch (e) {
          journal.close();
          throw e;
        }
        // the next round starts a new run id in a fresh journal
        const { rmSync } = await import('node:fs');
        rmSync(join(w.dir, 'crash-journal.sqlite'), { force: true });
        rmSync(join(w.dir, 'crash-journal.sqlite-wal'), { force: true });
        rmSync(join(w.dir, 'crash-journal.sqlite-shm'), { force: true });
      }
    });
  }
});
