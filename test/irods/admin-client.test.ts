/**
 * Metadata, access and admin through the reference client, python-irodsclient
 * 0.8.1, over a real socket: what its managers send (`metadata`,
 * `permissions`, `users`, `user_groups`) and what it makes of the answers.
 * The calls that read back through GenQuery (`obj.metadata`, `users.create`,
 * which looks the new user up, `group.members`) run once the server serves
 * GenQuery; the rest is checked in the store.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';


// each script prints one JSON line last; attempt() gives the iRODS exception's name, or 'ok'
const PRELUDE = `${CLIENT_PRELUDE}
from irods.meta import iRODSMeta
from irods.access import iRODSAccess
from irods.models import DataObject, Collection, User
`;

const Z = '/testZone';
const HOME = `${Z}/home/rods`;
const HORRIBLE = 'abc123!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~Z';

describe('metadata, access and admin with python-irodsclient 0.8.1', () => {
  let w: WireServer;
  const run = (script: string, args: Record<string, unknown> = {}) => clientScript(w, PRELUDE + script, args);
  const put = (path: string) => w.store.putObject(path, Readable.from([Buffer.from('x')]), { owner: 'rods' });
  beforeAll(async () => {
    w = await startWireServer();
    await w.store.createCollection(HOME, { owner: 'rods' });
    await w.store.createPrincipal('alice', 'rodsuser');
    w.store.setPassword('alice', 'alice-pw');
  });
  afterAll(async () => w?.stop());

  it('adds, sets, copies and removes AVUs (session.metadata); duplicates and other users are refused', async () => {
    await put(`${HOME}/m.txt`);
    await put(`${HOME}/n.txt`);
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.metadata.add(DataObject, a['path'], iRODSMeta('attr0', 'value0'))
s.metadata.add(DataObject, a['path'], iRODSMeta('attr1', 'value1', 'unit1'))
s.metadata.add(DataObject, a['path'], iRODSMeta('attr2', u'\\u262d\\u26f7\\u2605\\u26bd'))
s.metadata.add(Collection, a['coll'], iRODSMeta('c', 'd'))
dup = attempt(lambda: s.metadata.add(DataObject, a['path'], iRODSMeta('attr0', 'value0')))
s.metadata.copy(DataObject, DataObject, a['path'], a['other'])
s.metadata.set(DataObject, a['path'], iRODSMeta('attr0', 'new'))
s.metadata.remove(DataObject, a['path'], iRODSMeta('attr1', 'value1', 'unit1'))
absent = attempt(lambda: s.metadata.remove(DataObject, a['path'], iRODSMeta('attr1', 'value1', 'unit1')))
t = session('alice', 'alice-pw')
refused = attempt(lambda: t.metadata.add(Collection, a['coll'], iRODSMeta('a', 'b')))
s.cleanup(); t.cleanup()
print(json.dumps({'dup': dup, 'absent': absent, 'refused': refused}))
`,
      { path: `${HOME}/m.txt`, other: `${HOME}/n.txt`, coll: HOME },
    );
    expect(out).toEqual({ dup: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME', absent: 'CAT_SUCCESS_BUT_WITH_NO_INFO', refused: 'CAT_NO_ACCESS_PERMISSION' });
    expect(await w.store.getMetadata(`${HOME}/m.txt`)).toEqual([
      { attribute: 'attr0', value: 'new', unit: '' },
      { attribute: 'attr2', value: '☭⛷★⚽', unit: '' },
    ]);
    expect((await w.store.getMetadata(`${HOME}/n.txt`)).map((m) => m.attribute)).toEqual(['attr0', 'attr1', 'attr2']);
    expect(await w.store.getMetadata(HOME)).toEqual([{ attribute: 'c', value: 'd', unit: '' }]);
  });

  it('sets access recursively and inheritance (session.permissions); only an owner may, for known users', async () => {
    await w.store.createCollection(`${HOME}/shared/sub`, { parents: true, owner: 'rods' });
    await put(`${HOME}/shared/sub/f.txt`);
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.permissions.set(iRODSAccess('read', a['coll'], 'alice', a['zone']), recursive=True)
s.permissions.set(iRODSAccess('inherit', a['coll']))
t = session('alice', 'alice-pw')
refused = attempt(lambda: t.permissions.set(iRODSAccess('own', a['obj'], 'alice', a['zone'])))
admin_mode = attempt(lambda: t.permissions.set(iRODSAccess('own', a['obj'], 'alice', a['zone']), admin=True))
unknown = attempt(lambda: s.permissions.set(iRODSAccess('read', a['obj'], 'nobody', a['zone'])))
s.cleanup(); t.cleanup()
print(json.dumps({'refused': refused, 'admin_mode': admin_mode, 'unknown': unknown}))
`,
      { coll: `${HOME}/shared`, obj: `${HOME}/shared/sub/f.txt` },
    );
    expect(out).toEqual({ refused: 'CAT_NO_ACCESS_PERMISSION', admin_mode: 'CAT_NO_ACCESS_PERMISSION', unknown: 'CAT_INVALID_USER' });
    const below = [`${HOME}/shared`, `${HOME}/shared/sub`, `${HOME}/shared/sub/f.txt`];
    expect(await w.store.getAccessMany(below, 'alice')).toEqual(['read', 'read', 'read']);
    expect((await w.store.stat(`${HOME}/shared`))?.inherit).toBe(true);
  });

  it('retypes, re-passwords and removes a user (session.users); the new password logs in, the old one no longer', async () => {
    await w.store.createPrincipal('bobby', 'rodsuser');
    w.store.setPassword('bobby', 'old-pw');
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.users.modify('bobby#' + a['zone'], 'type', 'rodsadmin')
s.users.modify('bobby', 'password', a['pw'])
def login(pw):
    b = session('bobby', pw)
    try:
        b.pool.get_connection().release()
        return 'ok'
    except iRODSException as e:
        return type(e).__name__
    finally:
        b.cleanup()
new, old = login(a['pw']), login('old-pw')
t = session('alice', 'alice-pw')
refused = attempt(lambda: t.users.modify('alice', 'type', 'rodsadmin'))
t.cleanup()
print(json.dumps({'new': new, 'old': old, 'refused': refused}))
`,
      { pw: HORRIBLE },
    );
    expect(out).toEqual({ new: 'ok', old: 'CAT_INVALID_AUTHENTICATION', refused: 'SYS_NO_API_PRIV' });
    expect((await w.store.getPrincipal('bobby'))?.userType).toBe('rodsadmin');
    expect((await w.store.getPrincipal('alice'))?.userType).toBe('rodsuser');
    await run(`s = session('rods', 'rods-pw')\ns.users.remove('bobby')\ns.cleanup()\nprint('{}')`);
    expect(await w.store.getPrincipal('bobby')).toBeNull();
  });

  it('sets a user\'s info and comment (session.users.modify), which GenQuery answers (User.info, User.comment)', async () => {
    await w.store.createPrincipal('dora', 'rodsuser');
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.users.modify('dora', 'info', 'info-' + a['text'])
s.users.modify('dora', 'comment', 'comment-' + a['text'])
row = s.query(User.info, User.comment).filter(User.name == 'dora').one()
t = session('alice', 'alice-pw')
refused = attempt(lambda: t.users.modify('alice', 'info', 'mine'))
t.cleanup()
s.cleanup()
print(json.dumps({'info': row[User.info], 'comment': row[User.comment], 'refused': refused}))
`,
      { text: HORRIBLE },
    );
    expect(out).toEqual({ info: `info-${HORRIBLE}`, comment: `comment-${HORRIBLE}`, refused: 'SYS_NO_API_PRIV' });
  });

  it('adds and removes group members and removes the group (session.user_groups)', async () => {
    await w.store.createPrincipal('lab', 'rodsgroup');
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.user_groups.addmember('lab', 'alice')
again = attempt(lambda: s.user_groups.addmember('lab', 'alice'))
print(json.dumps({'again': again}))
`,
    );
    expect(out).toEqual({ again: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME' });
    expect(await w.store.groupMembers('lab')).toEqual(['alice']);
    await run(`s = session('rods', 'rods-pw')\ns.user_groups.removemember('lab', 'alice')\ns.user_groups.remove('lab')\ns.cleanup()\nprint('{}')`);
    expect(await w.store.getPrincipal('lab')).toBeNull();
  });

  it('reads AVUs back through obj.metadata, as meta_test does', async () => {
    await put(`${HOME}/q.txt`);
    const out = await run(
      `
s = session('rods', 'rods-pw')
obj = s.data_objects.get(a['path'])
obj.metadata.add('attr0', 'value0')
obj.metadata.add('attr1', 'value1', 'unit1')
obj.metadata['attr1'] = iRODSMeta('attr1', 'boo')
listed = sorted((m.name, m.value, m.units or '') for m in s.data_objects.get(a['path']).metadata.items())
s.data_objects.get(a['path']).metadata.remove_all()
left = len(s.metadata.get(DataObject, a['path']))
s.cleanup()
print(json.dumps({'listed': listed, 'left': left}))
`,
      { path: `${HOME}/q.txt` },
    );
    expect(out).toEqual({ listed: [['attr0', 'value0', ''], ['attr1', 'boo', '']], left: 0 });
  });

  it('creates users and groups that the client then finds, and removes them with their homes', async () => {
    const out = await run(
      `
from irods.exception import UserDoesNotExist, UserGroupDoesNotExist
s = session('rods', 'rods-pw')
u = s.users.create('carol', 'rodsuser')
created = [u.name, u.type, u.zone]
g = s.user_groups.create('test_group')
for n in ['test_user0', 'test_user1']:
    s.users.create(n, 'rodsuser')
    g.addmember(n)
members = sorted(m.name for m in g.members)
g.removemember('test_user1')
after = sorted(m.name for m in g.members)
for n in ['carol', 'test_user0', 'test_user1']:
    s.users.get(n).remove()
g.remove()
def gone(fn, exc):
    try:
        fn()
        return False
    except exc:
        return True
print(json.dumps({'created': created, 'members': members, 'after': after,
    'gone': [gone(lambda: s.users.get('carol'), UserDoesNotExist), gone(lambda: s.user_groups.get('test_group'), UserGroupDoesNotExist)]}))
s.cleanup()
`,
    );
    expect(out).toEqual({
      created: ['carol', 'rodsuser', 'testZone'],
      members: ['test_user0', 'test_user1'],
      after: ['test_user0'],
      gone: [true, true],
    });
    expect(await w.store.stat(`${Z}/home/carol`)).toBeNull();
    expect(await w.store.stat(`${Z}/home/test_group`)).toBeNull();
  });
});
