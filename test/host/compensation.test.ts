import { afterEach, describe, expect, it } from 'vitest';
import { dumpDb, type Db } from '../../src/host/db/index.js';
import {
  addEvent,
  addEventStatus,
  createUser,
  getSettings,
  insertProject,
  insertZone,
  recordUndo,
  setRole,
  setSettings,
  settleEndedUndos,
  settleUndoByStatus,
  updateProject,
  deleteRole,
  setZoneStatusIf,
  type Project,
  type Zone,
} from '../../src/host/repo.js';
import { withCompensation, type Applied } from '../../src/host/submit.js';
import { closeTestDbs, postgresTestDb, sqliteTestDb } from '../support/host-dbs.js';

afterEach(closeTestDbs);

const sqlite = (): Promise<Db> => sqliteTestDb('host-undo-');
const postgres = postgresTestDb;

const project = (uuid: string, parent: string | null, title: string): Project => ({
  uuid,
  type: parent ? 'PROJECT' : 'CATEGORY',
  parent_uuid: parent,
  title,
  description: '',
  readme: '',
  public_guest_access: false,
});

/** A category, a project owned by alice with bob as contributor and a setting, and a sheet with an assay. */
async function seed(db: Db): Promise<{ alice: string; bob: string; carol: string; proj: string; assay: string }> {
  const alice = (await createUser(db, { username: 'alice' })).uuid;
  const bob = (await createUser(db, { username: 'bob' })).uuid;
  const carol = (await createUser(db, { username: 'carol' })).uuid;
  await insertProject(db, project('cat', null, 'Cat'));
  await insertProject(db, project('proj', 'cat', 'Proj'));
  await setRole(db, 'proj', alice, 1);
  await setRole(db, 'proj', bob, 3);
  await setSettings(db, 'proj', { 'app.x': 1 });
  await db.exec("INSERT INTO investigations (uuid, project_uuid, title, irods_status) VALUES ('inv', 'proj', 'I', 1)");
  await db.exec("INSERT INTO studies (uuid, investigation_uuid, title, path) VALUES ('st', 'inv', 'S', 'p/s')");
  await db.exec("INSERT INTO assays (uuid, study_uuid, title, path) VALUES ('as', 'st', 'A', 'p/s/a')");
  return { alice, bob, carol, proj: 'proj', assay: 'as' };
}

/** The site's rows without the timeline (which records what happened). */
const rows = (db: Db): Promise<string[]> => dumpDb(db, ['timeline_events', 'timeline_statuses']);

const event = async (db: Db): Promise<string> =>
  (await addEvent(db, { projectUuid: 'proj', app: 'test', userUuid: null, eventName: 'change', description: '', status: 'SUBMIT' })).uuid;

type Change = (db: Db, ids: Awaited<ReturnType<typeof seed>>, eventUuid: string) => (tx: Db) => Promise<Applied<undefined>>;

const zone = (ids: { alice: string; assay: string }): Zone => ({
  uuid: 'zone',
  project_uuid: 'proj',
  user_uuid: ids.alice,
  assay_uuid: ids.assay,
  title: 'z',
  configuration: '',
  description: '',
  status: 'ACTIVE',
  status_info: 'ok',
  modified: '2026-01-01T00:00:00.000Z',
});

/** Every kind of change the site makes before a flow, as the routes make it. */
const changes: [string, Change][] = [
  [
    'project created',
    (_db, _ids, ev) => async (tx) => {
      await insertProject(tx, project('new', 'cat', 'New'));
      await setSettings(tx, 'new', { 'app.y': true });
      return { value: undefined, eventUuid: ev, projectUuid: 'new', undo: { kind: 'project_delete', project_uuid: 'new' } };
    },
  ],
  [
    'project updated',
    (_db, _ids, ev) => async (tx) => {
      const before = project('proj', 'cat', 'Proj');
      const settings = await getSettings(tx, 'proj');
      await updateProject(tx, { ...before, title: 'Renamed', description: 'new', public_guest_access: true });
      await setSettings(tx, 'proj', { 'app.x': 2, 'app.z': 'added' });
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'project_restore', project: before, settings } };
    },
  ],
  [
    'role added',
    (_db, ids, ev) => async (tx) => {
      await setRole(tx, 'proj', ids.carol, 4);
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'roles_restore', project_uuid: 'proj', users: [ids.carol], assignments: [] } };
    },
  ],
  [
    'role changed',
    (db, ids, ev) => async (tx) => {
      const before = (await tx.query<{ uuid: string; project_uuid: string; user_uuid: string; role_pk: number }>('SELECT * FROM role_assignments WHERE user_uuid = ?', [ids.bob]))[0];
      await setRole(tx, 'proj', ids.bob, 2);
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'roles_restore', project_uuid: 'proj', users: [ids.bob], assignments: [before] } };
    },
  ],
  [
    'role removed',
    (_db, ids, ev) => async (tx) => {
      const before = (await tx.query<{ uuid: string; project_uuid: string; user_uuid: string; role_pk: number }>('SELECT * FROM role_assignments WHERE user_uuid = ?', [ids.bob]))[0];
      await deleteRole(tx, 'proj', ids.bob);
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'roles_restore', project_uuid: 'proj', users: [ids.bob], assignments: [before] } };
    },
  ],
  [
    'owner transferred',
    (_db, ids, ev) => async (tx) => {
      const before = await tx.query<{ uuid: string; project_uuid: string; user_uuid: string; role_pk: number }>('SELECT uuid, project_uuid, user_uuid, role_pk FROM role_assignments WHERE project_uuid = ?', ['proj']);
      await deleteRole(tx, 'proj', ids.alice);
      await setRole(tx, 'proj', ids.bob, 1);
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'roles_restore', project_uuid: 'proj', users: [ids.bob, ids.alice], assignments: before } };
    },
  ],
  [
    'sheet collections status',
    (_db, _ids, ev) => async (tx) => {
      await tx.exec("UPDATE investigations SET irods_status = 0 WHERE project_uuid = 'proj'");
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'sheet_dirs_restore', project_uuid: 'proj', irods_status: true } };
    },
  ],
  [
    'zone created',
    (_db, ids, ev) => async (tx) => {
      await insertZone(tx, zone(ids));
      return { value: undefined, eventUuid: ev, projectUuid: 'proj', undo: { kind: 'zone_delete', zone_uuid: 'zone' } };
    },
  ],
];

describe.each([
  ['sqlite', sqlite],
  ['postgres', postgres],
])('pending undos on %s', (_name, open) => {
  it.each(changes)('%s: a failed submit puts every row back and leaves nothing pending', async (_what, change) => {
    const db = await open();
    const ids = await seed(db);
    const ev = await event(db);
    const before = await rows(db);
    const failure = new Error('submit refused');
    const seen: unknown[] = [];
    await expect(
      withCompensation(
        db,
        change(db, ids, ev),
        async () => {
          expect(await db.query('SELECT event_uuid FROM pending_undos')).toEqual([{ event_uuid: ev }]);
          throw failure;
        },
        async (_v, err) => {
          seen.push(err);
        },
      ),
    ).rejects.toBe(failure);
    expect(seen).toEqual([failure]);
    expect(await rows(db)).toEqual(before);
  });

  it.each(changes)('%s: a submit that succeeds keeps the change and leaves nothing pending', async (_what, change) => {
    const db = await open();
    const ids = await seed(db);
    const ev = await event(db);
    const before = await rows(db);
    await withCompensation(db, change(db, ids, ev), async () => undefined);
    const after = await rows(db);
    expect(after).not.toEqual(before);
    expect(after.some((l) => l.startsWith('pending_undos '))).toBe(false);
  });

  it.each(changes.filter(([what]) => !what.startsWith('zone')))(
    '%s: after a crash during the flow, a FAILED report puts the rows back, an OK one keeps them',
    async (_what, change) => {
      const db = await open();
      const ids = await seed(db);
      const before = await rows(db);
      const failedEv = await event(db);
      // the process dies while the flow runs: submit never returns
      const crashed = (ev: string): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          withCompensation(db, change(db, ids, ev), () => {
            resolve();
            return new Promise<void>(() => undefined);
          }).catch(reject);
        });
      await crashed(failedEv);
      expect(await rows(db)).not.toEqual(before);
      await db.transaction(async (tx) => {
        await addEventStatus(tx, failedEv, 'FAILED', 'rolled back by recovery');
        await settleUndoByStatus(tx, failedEv, 'FAILED');
      });
      expect(await rows(db)).toEqual(before);

      const okEv = await event(db);
      await crashed(okEv);
      const changed = await rows(db);
      await db.transaction((tx) => settleUndoByStatus(tx, okEv, 'OK'));
      expect(await rows(db)).toEqual(changed.filter((l) => !l.startsWith('pending_undos ')));
    },
  );

  it('an owner transfer whose flow succeeded while the process was gone still gives the old owner the role they keep', async () => {
    const db = await open();
    const ids = await seed(db);
    const owner = (await db.query<{ uuid: string; project_uuid: string; user_uuid: string; role_pk: number }>('SELECT uuid, project_uuid, user_uuid, role_pk FROM role_assignments WHERE role_pk = 1'))[0];
    const bobBefore = (await db.query<{ uuid: string; project_uuid: string; user_uuid: string; role_pk: number }>('SELECT uuid, project_uuid, user_uuid, role_pk FROM role_assignments WHERE user_uuid = ?', [ids.bob]))[0];
    const ev = await event(db);
    await db.transaction(async (tx) => {
      await deleteRole(tx, 'proj', ids.alice);
      await setRole(tx, 'proj', ids.bob, 1);
      await recordUndo(
        tx,
        ev,
        'proj',
        { kind: 'roles_restore', project_uuid: 'proj', users: [ids.bob, ids.alice], assignments: [bobBefore, owner] },
        { kind: 'roles_restore', project_uuid: 'proj', users: [ids.alice], assignments: [{ ...owner, role_pk: 2 }] },
      );
    });
    await db.transaction((tx) => settleUndoByStatus(tx, ev, 'OK'));
    expect(await db.query('SELECT uuid, user_uuid, role_pk FROM role_assignments ORDER BY role_pk')).toEqual([
      { uuid: bobBefore.uuid, user_uuid: ids.bob, role_pk: 1 },
      { uuid: owner.uuid, user_uuid: ids.alice, role_pk: 2 },
    ]);
    expect(await db.query('SELECT * FROM pending_undos')).toEqual([]);
  });

  it('a zone whose flow reports a failure keeps the status the flow set: the report only ends the pending undo', async () => {
    const db = await open();
    const ids = await seed(db);
    await insertZone(db, zone(ids));
    const ev = await event(db);
    // the process died after the service took the move, before its answer: the undo is still pending
    await db.transaction(async (tx) => {
      await setZoneStatusIf(tx, 'zone', ['ACTIVE'], 'MOVING', 'moving');
      await recordUndo(tx, ev, 'proj', { kind: 'zone_restore', zone: zone(ids) });
    });
    await db.exec("UPDATE landing_zones SET status = 'FAILED' WHERE uuid = 'zone'");
    await db.transaction((tx) => settleUndoByStatus(tx, ev, 'FAILED'));
    expect((await db.query<{ status: string }>("SELECT status FROM landing_zones WHERE uuid = 'zone'"))[0].status).toBe('FAILED');
    expect(await db.query('SELECT * FROM pending_undos')).toEqual([]);
  });

  it('at start-up, settles the undos whose event already ended and keeps the ones still running', async () => {
    const db = await open();
    const ids = await seed(db);
    const roles = (): Promise<unknown[]> => db.query('SELECT user_uuid, role_pk FROM role_assignments ORDER BY user_uuid');
    const ended = await event(db);
    const running = await event(db);
    const [removed, added] = [changes[4][1], changes[2][1]];
    await db.transaction(async (tx) => {
      for (const [ev, change] of [[ended, removed], [running, added]] as const) {
        const { undo } = await change(db, ids, ev)(tx);
        await recordUndo(tx, ev, 'proj', undo);
      }
    });
    // the report was recorded, the undo not applied (an older version, or a death in between)
    await addEventStatus(db, ended, 'FAILED', 'rolled back');
    expect(await settleEndedUndos(db)).toBe(1);
    expect(await db.query('SELECT event_uuid FROM pending_undos')).toEqual([{ event_uuid: running }]);
    expect(await roles()).toEqual(
      [
        { user_uuid: ids.alice, role_pk: 1 },
        { user_uuid: ids.bob, role_pk: 3 },
        { user_uuid: ids.carol, role_pk: 4 },
      ].sort((x, y) => x.user_uuid.localeCompare(y.user_uuid)),
    );
  });
});
