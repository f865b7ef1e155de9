/**
 * The specific queries a fresh iRODS 4.2.12 zone has (PostgreSQL iCAT), on
 * a fresh store, through the reference client (python-irodsclient 0.8.1's
 * `SpecificQuery`, its arguments packed as 3.3.0's are) over a real socket: `ls` lists all thirteen with iRODS's SQL, `lsl` with
 * `%OFFSET%` finds the paged listings (python-irodsclient 3.3.0
 * `test_list_specific_queries_with_arguments`), each runs with arguments
 * for an ordinary user and answers the rows iRODS would over a small
 * catalog, and that user can neither register nor remove one.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalId } from '../../src/irods/genquery/ids.js';
import { ALIASES_4_2_12, sqlOf } from '../support/icat-specific-queries.js';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';


const Z = '/testZone';
const HOME = `${Z}/home/alice`;
const PROJ = `${HOME}/proj`;
const OTHER = `${HOME}/other`;
const SUB = `${PROJ}/sub`;
const SHARE = 'iRODSUserTagging:Share';
// iRODS's access_type_id of read object, modify object, own
const READ = '1050';
const WRITE = '1120';
const OWN = '1200';

// python-irodsclient 0.8.1 puts its first argument in arg0, which specificQueryInp_PI has no field for, and
// the next in arg1 …; 3.3.0 starts at arg1 (irods/query.py SpecificQuery.execute): an empty first argument
// makes 0.8.1 send what 3.3.0 sends. The client reads an empty value as None: back to ''.
const PRELUDE = `${CLIENT_PRELUDE}
from irods.query import SpecificQuery
def rows(s, alias, *args):
    try:
        return [['' if r[i] is None else r[i] for i in range(len(r))] for r in SpecificQuery(s, alias=alias, args=[''] + list(args))]
    except iRODSException as e:
        return type(e).__name__
`;

describe("the specific queries of a fresh iRODS 4.2.12 zone, with python-irodsclient 0.8.1", () => {
  let w: WireServer;
  const run = (script: string, args: Record<string, unknown> = {}) => clientScript(w, PRELUDE + script, args);
  const id = (path: string) => String(w.store.protocolCore().row(path)!.id);
  const uid = (name: string) => String(principalId(name));
  // create_ts and modify_ts as the views give them: the entry's time, 11 digits
  const ts = (path: string) => String(Math.floor(Date.parse(w.store.protocolCore().row(path)!.modified) / 1000)).padStart(11, '0');

  beforeAll(async () => {
    w = await startWireServer();
    const s = w.store;
    for (const u of ['alice', 'bob']) {
      await s.createPrincipal(u, 'rodsuser');
      s.setPassword(u, `${u}-pw`);
    }
    await s.createPrincipal('lab', 'rodsgroup');
    await s.addGroupMember('lab', 'alice');
    await s.createCollection(HOME, { owner: 'alice' });
    for (const c of [PROJ, OTHER, SUB]) await s.createCollection(c, { owner: 'alice' });
    await s.setAccess(PROJ, 'bob', 'read');
    await s.setAccess(PROJ, 'lab', 'write');
    await s.modifyMetadata(PROJ, 'add', { attribute: 'proj', value: 'shared', unit: SHARE });
    await s.modifyMetadata(OTHER, 'add', { attribute: 'proj', value: 'not shared', unit: '' });
    for (const [path, bytes] of [
      [`${PROJ}/a.txt`, 'aaa'],
      [`${PROJ}/b.txt`, 'bb'],
      [`${SUB}/c.txt`, 'c'],
    ] as const) {
      await s.putObject(path, Readable.from([Buffer.from(bytes)]), { owner: 'alice' });
    }
    await s.setAccess(`${PROJ}/a.txt`, 'lab', 'read');
    await s.setAccess(`${PROJ}/b.txt`, 'bob', 'write');
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('ls lists the thirteen with the SQL iRODS registers; lsl %OFFSET% finds the paged listings, as python-irodsclient 3.3.0 asks', async () => {
    const out = await run(`
s = session('alice', 'alice-pw')
listed = rows(s, 'ls')
offset = rows(s, 'lsl', '%OFFSET%')
s.cleanup()
print(json.dumps({'listed': listed, 'offset': offset}))
`);
    expect((out.listed as string[][]).map((r) => r[0])).toEqual(ALIASES_4_2_12);
    // each with iRODS's PostgreSQL text, not what it runs as here
    expect(out.listed).toEqual(ALIASES_4_2_12.map((a) => [a, sqlOf(a)]));
    expect((out.listed as string[][]).every((r) => r[1]!.toUpperCase().includes('SELECT'))).toBe(true);
    expect(sqlOf('DataObjInCollReCur')).toContain('= ANY(ARRAY(SELECT coll_id FROM coll))');
    expect(out.offset).toEqual([
      ['ilsLACollections', sqlOf('ilsLACollections')],
      ['ilsLADataObjects', sqlOf('ilsLADataObjects')],
    ]);
  });

  it('listQueryByAliasLike and findQueryByAlias look queries up by alias', async () => {
    const out = await run(`
s = session('bob', 'bob-pw')
print(json.dumps({'ils': rows(s, 'listQueryByAliasLike', 'ils%'), 'via': rows(s, 'listQueryByAliasLike', '%ViaGroup'),
  'list': rows(s, 'listQueryByAliasLike', 'list%'), 'none': rows(s, 'listQueryByAliasLike', '%OFFSET%'),
  'find': rows(s, 'findQueryByAlias', 'DataObjInCollReCur'), 'nofind': rows(s, 'findQueryByAlias', 'dataobjincollrecur')}))
s.cleanup()
`);
    expect(out).toEqual({
      ils: [
        ['ilsLACollections', sqlOf('ilsLACollections')],
        ['ilsLADataObjects', sqlOf('ilsLADataObjects')],
      ],
      via: ['listUserACLForDataObjViaGroup', 'listUserACLForCollectionViaGroup'].map((a) => [a, sqlOf(a)]),
      list: ['listQueryByAliasLike', 'listSharedCollectionsOwnedByUser', 'listSharedCollectionsSharedWithUser', 'listUserACLForDataObjViaGroup', 'listUserACLForCollectionViaGroup', 'listGroupsForUser'].map(
        (a) => [a, sqlOf(a)],
      ),
      none: 'CAT_NO_ROWS_FOUND',
      find: [['DataObjInCollReCur', sqlOf('DataObjInCollReCur')]],
      nofind: 'CAT_NO_ROWS_FOUND',
    });
  });

  it('ilsLACollections and ilsLADataObjects list the collections and the objects in one, each with its ACL, a page at a time', async () => {
    const out = await run(
      `
s = session('bob', 'bob-pw')
print(json.dumps({'colls': rows(s, 'ilsLACollections', a['home'], '10', '0'), 'page': rows(s, 'ilsLACollections', a['home'], '2', '1'),
  'objs': rows(s, 'ilsLADataObjects', a['proj'], '10', '0'), 'last': rows(s, 'ilsLADataObjects', a['proj'], '10', '3'),
  'empty': rows(s, 'ilsLADataObjects', a['home'], '10', '0')}))
s.cleanup()
`,
      { home: HOME, proj: PROJ },
    );
    const coll = (path: string, user: string, access: string) => [HOME, path, ts(path), ts(path), id(path), 'alice', 'testZone', '', user, 'testZone', access, uid(user)];
    const colls = [coll(OTHER, 'alice', OWN), coll(PROJ, 'alice', OWN), coll(PROJ, 'bob', READ), coll(PROJ, 'lab', WRITE)];
    const obj = (name: string, size: string, user: string, access: string, type: string) => {
      const path = `${PROJ}/${name}`;
      return [PROJ, name, ts(path), ts(path), id(path), size, '0', 'alice', 'testZone', user, uid(user), access, type, 'testZone'];
    };
    expect(out).toEqual({
      colls,
      page: colls.slice(1, 3),
      objs: [obj('a.txt', '3', 'alice', OWN, 'rodsuser'), obj('a.txt', '3', 'lab', READ, 'rodsgroup'), obj('b.txt', '2', 'alice', OWN, 'rodsuser'), obj('b.txt', '2', 'bob', WRITE, 'rodsuser')],
      last: [obj('b.txt', '2', 'bob', WRITE, 'rodsuser')],
      empty: 'CAT_NO_ROWS_FOUND',
    });
  });

  it('ShowCollAcls, listSharedCollectionsOwnedByUser and listSharedCollectionsSharedWithUser', async () => {
    const out = await run(
      `
s = session('bob', 'bob-pw')
print(json.dumps({'acls': rows(s, 'ShowCollAcls', a['proj']),
  'owned': rows(s, 'listSharedCollectionsOwnedByUser', 'alice', 'testZone'), 'ownedByBob': rows(s, 'listSharedCollectionsOwnedByUser', 'bob', 'testZone'),
  'withBob': rows(s, 'listSharedCollectionsSharedWithUser', 'bob', 'testZone', 'bob'),
  'withAlice': rows(s, 'listSharedCollectionsSharedWithUser', 'alice', 'testZone', 'alice')}))
s.cleanup()
`,
      { proj: PROJ },
    );
    const shared = [id(PROJ), HOME, PROJ, 'alice', 'testZone', 'proj', 'shared', SHARE];
    expect(out).toEqual({
      acls: [
        ['alice', 'testZone', 'own', 'rodsuser'],
        ['bob', 'testZone', 'read object', 'rodsuser'],
        ['lab', 'testZone', 'modify object', 'rodsgroup'],
      ],
      owned: [shared],
      ownedByBob: 'CAT_NO_ROWS_FOUND',
      withBob: [[...shared, 'bob', 'testZone', READ]],
      // one's own collections are not shared with one
      withAlice: 'CAT_NO_ROWS_FOUND',
    });
  });

  it('listUserACLForDataObjViaGroup and listUserACLForCollectionViaGroup: a user’s access through each group, the user itself included', async () => {
    const out = await run(
      `
s = session('bob', 'bob-pw')
print(json.dumps({'obj': rows(s, 'listUserACLForDataObjViaGroup', a['proj'], 'a.txt', 'alice'),
  'objBob': rows(s, 'listUserACLForDataObjViaGroup', a['proj'], 'a.txt', 'bob'),
  'coll': rows(s, 'listUserACLForCollectionViaGroup', a['proj'], 'alice'), 'collBob': rows(s, 'listUserACLForCollectionViaGroup', a['proj'], 'bob')}))
s.cleanup()
`,
      { proj: PROJ },
    );
    const viaObj = (access: string, group: string) => ['alice', uid('alice'), access, 'rodsuser', 'testZone', PROJ, 'a.txt', group, 'a.txt', PROJ];
    const viaColl = (user: string, access: string, group: string) => [user, uid(user), access, 'rodsuser', 'testZone', PROJ, group, PROJ];
    expect(out).toEqual({
      obj: [viaObj(OWN, 'alice'), viaObj(READ, 'lab')],
      objBob: 'CAT_NO_ROWS_FOUND',
      coll: [viaColl('alice', OWN, 'alice'), viaColl('alice', WRITE, 'lab')],
      collBob: [viaColl('bob', READ, 'bob')],
    });
  });

  it('DataObjInCollReCur lists the objects in a collection and below; listGroupsForUser the groups of a user', async () => {
    const out = await run(
      `
s = session('bob', 'bob-pw')
r = session('rods', 'rods-pw')
paths = {p: r.data_objects.get(p).replicas[0].path for p in a['objects']}
resc = str(r.resources.get('demoResc').id)
print(json.dumps({'objs': rows(s, 'DataObjInCollReCur', a['proj'], a['proj'] + '/%'), 'sub': rows(s, 'DataObjInCollReCur', a['sub'], a['sub'] + '/%'),
  'paths': paths, 'resc': resc,
  'alice': sorted(rows(s, 'listGroupsForUser', 'alice')), 'bob': rows(s, 'listGroupsForUser', 'bob'), 'lab': rows(s, 'listGroupsForUser', 'lab')}))
s.cleanup(); r.cleanup()
`,
      { proj: PROJ, sub: SUB, objects: [`${PROJ}/a.txt`, `${PROJ}/b.txt`, `${SUB}/c.txt`] },
    );
    const paths = out.paths as Record<string, string>;
    const obj = (coll: string, name: string) => [id(`${coll}/${name}`), coll, name, '0', 'demoResc', paths[`${coll}/${name}`], out.resc];
    expect(out.objs).toEqual([obj(PROJ, 'a.txt'), obj(PROJ, 'b.txt'), obj(SUB, 'c.txt')]);
    expect(out.sub).toEqual([obj(SUB, 'c.txt')]);
    expect(out.alice).toEqual([
      [uid('lab'), 'lab'],
      [uid('public'), 'public'],
    ].sort());
    expect(out.bob).toEqual([[uid('public'), 'public']]);
    // a group has no groups: the user named must not be a rodsgroup
    expect(out.lab).toBe('CAT_NO_ROWS_FOUND');
  });

  it('an ordinary user runs them but can neither remove one nor register one again', async () => {
    const out = await run(
      `
s = session('alice', 'alice-pw')
rm = attempt(lambda: SpecificQuery(s, alias='ilsLADataObjects').remove())
rmSql = attempt(lambda: SpecificQuery(s, sql=a['sql']).remove())
add = attempt(lambda: SpecificQuery(s, sql=a['sql'], alias='mine').register())
listed = [r[0] for r in rows(s, 'ls')]
s.cleanup()
print(json.dumps({'rm': rm, 'rmSql': rmSql, 'add': add, 'listed': listed}))
`,
      { sql: sqlOf('ilsLADataObjects') },
    );
    expect(out).toEqual({ rm: 'SYS_NO_API_PRIV', rmSql: 'SYS_NO_API_PRIV', add: 'SYS_NO_API_PRIV', listed: ALIASES_4_2_12 });
  });
});
