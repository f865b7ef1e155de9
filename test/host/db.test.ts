import { afterEach, describe, expect, it } from 'vitest';
import { openDb, dumpDb, DatabaseUnavailableError, type Db } from '../../src/host/db/index.js';
import { createUser, getInvestigation, getProject, getUserByName, insertProject, setDirStatus, updateProject } from '../../src/host/repo.js';
import { closeTestDbs, postgresTestDb, sqliteTestDb } from '../support/host-dbs.js';

afterEach(closeTestDbs);

const sqlite = (): Promise<Db> => sqliteTestDb('host-db-');
const postgres = postgresTestDb;

describe.each([
  ['sqlite', sqlite],
  ['postgres', postgres],
])('site database on %s', (_name, open) => {
  it('creates the schema with the stable role keys', async () => {
    const db = await open();
    const roles = await db.query<{ pk: number; name: string }>('SELECT pk, name FROM roles ORDER BY pk');
    expect(roles).toEqual([
      { pk: 1, name: 'project owner' },
      { pk: 2, name: 'project delegate' },
      { pk: 3, name: 'project contributor' },
      { pk: 4, name: 'project guest' },
    ]);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const db = await open();
    await db.transaction(async (tx) => {
      await createUser(tx, { username: 'kept' });
    });
    await expect(
      db.transaction(async (tx) => {
        await createUser(tx, { username: 'dropped' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await getUserByName(db, 'kept')).toBeDefined();
    expect(await getUserByName(db, 'dropped')).toBeUndefined();
  });

  it('keeps statements of others out of an open transaction', async () => {
    const db = await open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (t) => {
      await createUser(t, { username: 'in_tx' });
      await gate;
      throw new Error('rollback');
    });
    const outside = createUser(db, { username: 'outside' });
    release();
    await expect(tx).rejects.toThrow('rollback');
    await outside;
    expect(await getUserByName(db, 'in_tx')).toBeUndefined();
    expect(await getUserByName(db, 'outside')).toBeDefined();
  });

  it('hands the domain true/false for the flags it stores as 0/1', async () => {
    const db = await open();
    await createUser(db, { username: 'root', isSuperuser: true });
    await createUser(db, { username: 'plain' });
    expect((await getUserByName(db, 'root'))?.is_superuser).toBe(true);
    expect((await getUserByName(db, 'plain'))?.is_superuser).toBe(false);
    const project = { uuid: 'p1', type: 'PROJECT' as const, parent_uuid: null, title: 'P', description: '', readme: '', public_guest_access: true };
    await insertProject(db, project);
    expect((await getProject(db, 'p1'))?.public_guest_access).toBe(true);
    await updateProject(db, { ...project, public_guest_access: false });
    expect((await getProject(db, 'p1'))?.public_guest_access).toBe(false);
    await db.exec("INSERT INTO investigations (uuid, project_uuid, title, irods_status) VALUES ('i1', 'p1', 'I', 0)");
    expect((await getInvestigation(db, 'p1'))?.irods_status).toBe(false);
    await setDirStatus(db, 'p1', true);
    expect((await getInvestigation(db, 'p1'))?.irods_status).toBe(true);
  });

  it('dumps rows sorted, leaving out excluded tables', async () => {
    const db = await open();
    await createUser(db, { username: 'b', uuid: '00000000-0000-0000-0000-00000000000b' });
    await createUser(db, { username: 'a', uuid: '00000000-0000-0000-0000-00000000000a' });
    const dump = await dumpDb(db, ['roles']);
    expect(dump.filter((l) => l.startsWith('users '))).toEqual([
      'users {"email":"","is_superuser":0,"name":"","username":"a","uuid":"00000000-0000-0000-0000-00000000000a"}',
      'users {"email":"","is_superuser":0,"name":"","username":"b","uuid":"00000000-0000-0000-0000-00000000000b"}',
    ]);
    expect(dump.some((l) => l.startsWith('roles '))).toBe(false);
  });
});

describe('opening the database', () => {
  it('fails loudly when PostgreSQL cannot be reached', async () => {
    await expect(openDb({ dataDir: '/tmp', databaseUrl: 'postgres://root@127.0.0.1:1/test' })).rejects.toThrow(DatabaseUnavailableError);
    await expect(openDb({ dataDir: '/tmp', databaseUrl: 'postgres://root:pw@127.0.0.1:1/test' })).rejects.toThrow(/127\.0\.0\.1:1.*ECONNREFUSED|ECONNREFUSED/);
  });

  it('refuses a DATABASE_URL it does not know', async () => {
    await expect(openDb({ dataDir: '/tmp', databaseUrl: 'mysql://x' })).rejects.toThrow(/DATABASE_URL/);
  });
});
