/**
 * GenQuery through the reference client: python-irodsclient 0.8.1 (Debian's
 * /usr/bin/python3) over a real socket to the protocol server, listing,
 * fetching, filtering, counting and paging what the store holds, as its own
 * managers and test suite (query_test, collection_test, meta_test,
 * access_test, extended_test) do; and a user who may not read seeing nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, runPython, startWireServer, type WireServer } from './support/wire-server.js';

const Z = '/testZone';
const MANY = 1203;

let w: WireServer;

/** Runs `body` in a session of `user`; the script prints its JSON result with `out(...)`. */
async function py<T = Record<string, unknown>>(user: string, body: string, extra: Record<string, unknown> = {}): Promise<T> {
  const script = `
from irods.session import iRODSSession
from irods.models import Collection, DataObject, User, UserGroup, Resource, DataObjectMeta, CollectionMeta
from irods.column import Like, Between, Criterion
from irods.exception import iRODSException
import datetime
a = ARGS
def out(x):
    print(json.dumps(x, default=str))
s = iRODSSession(host='127.0.0.1', port=a['port'], user=a['user'], password=a['password'], zone='testZone')
try:
${body
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
finally:
    s.cleanup()
`;
  const r = await runPython(script, { port: w.port, user, password: `${user}-pw`, ...extra }, 120_000);
  if (r.code !== 0) throw new Error(`python failed (${r.code}):\n${r.stderr}`);
  return lastJson<T>(r.stdout);
}

beforeAll(async () => {
  w = await startWireServer();
  const s = w.store;
  w.store.setPassword('rods', 'rods-pw');
  for (const u of ['alice', 'bob']) {
    await s.createPrincipal(u, 'rodsuser');
    s.setPassword(u, `${u}-pw`);
  }
  await s.createPrincipal('proj', 'rodsgroup');
  await s.addGroupMember('proj', 'alice');
  await s.createCollection(`${Z}/home/alice/sub/deep`, { parents: true, owner: 'alice' });
  await s.createCollection(`${Z}/home/bob`, { owner: 'bob' });
  for (const c of [`${Z}/home/alice`, `${Z}/home/alice/sub`, `${Z}/home/alice/sub/deep`]) await s.setAccess(c, 'alice', 'own');
  await s.putObject(`${Z}/home/alice/a.txt`, Readable.from(['hello']), { owner: 'alice' });
  await s.putObject(`${Z}/home/alice/O'Brien`, Readable.from(['q']), { owner: 'alice' });
  await s.putObject(`${Z}/home/alice/sub/deep/d.txt`, Readable.from(['deep']), { owner: 'alice' });
  await s.putObject(`${Z}/home/bob/secret.txt`, Readable.from(['bob only']), { owner: 'bob' });
  await s.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'sample', value: 's1', unit: 'u' });
  await s.modifyMetadata(`${Z}/home/alice/a.txt`, 'add', { attribute: 'depth', value: '30', unit: '' });
  await s.modifyMetadata(`${Z}/home/alice/sub`, 'add', { attribute: 'kind', value: 'dir', unit: '' });
  await s.setAccess(`${Z}/home/alice/a.txt`, 'proj', 'read');
  // a collection bigger than two of the client's 500-row pages
  const local = join(w.dir, 'many');
  mkdirSync(local);
  for (let i = 0; i < MANY; i++) writeFileSync(join(local, `test${String(i).padStart(6, '0')}.txt`), 'x');
  await s.putTree(local, `${Z}/home/alice/many`);
  await s.setAccess(`${Z}/home/alice/many`, 'alice', 'own', { recursive: true });
}, 120_000);

afterAll(async () => w?.stop());

describe('python-irodsclient 0.8.1 queries', () => {
  it('gets collections and objects with every column its models read', async () => {
    const out = await py('alice', `
c = s.collections.get('${Z}/home/alice')
o = s.data_objects.get('${Z}/home/alice/a.txt')
out({'coll': [c.id, c.path, c.name], 'subs': sorted(x.path for x in c.subcollections),
     'objs': [x.name for x in c.data_objects],
     'obj': [o.id, o.name, o.path, o.size, o.checksum, o.owner_name, o.collection.id == c.id, o.modify_time.year],
     'replicas': [[r.number, r.status, r.resource_name, r.size] for r in o.replicas]})
`);
    const core = w.store.protocolCore();
    expect(out.coll).toEqual([core.row(`${Z}/home/alice`)!.id, `${Z}/home/alice`, 'alice']);
    expect(out.subs).toEqual([`${Z}/home/alice/many`, `${Z}/home/alice/sub`]);
    expect(out.objs).toEqual(["O'Brien", 'a.txt']);
    const row = core.row(`${Z}/home/alice/a.txt`)!;
    expect(out.obj).toEqual([row.id, 'a.txt', `${Z}/home/alice/a.txt`, 5, row.checksum, 'alice', true, new Date(row.modified).getUTCFullYear()]);
    expect(out.replicas).toEqual([[0, '1', 'demoResc', 5]]);
  });

  it('pages through a collection of more than two pages in name order (collection.data_objects, walk, get_results)', async () => {
    const out = await py('alice', `
c = s.collections.get('${Z}/home/alice/many')
names = [o.name for o in c.data_objects]
q = s.query(DataObject.name, Collection.name).filter(Collection.name == '${Z}/home/alice/many')
gen = [r[DataObject.name] for r in q]
walked = [(x[0].path, len(x[1]), len(x[2])) for x in s.collections.get('${Z}/home/alice').walk()]
out({'names': names, 'gen': gen, 'walked': walked})
`);
    const expected = Array.from({ length: MANY }, (_, i) => `test${String(i).padStart(6, '0')}.txt`);
    expect(out.names).toEqual(expected);
    expect(out.gen).toEqual(expected);
    expect(out.walked).toEqual([
      [`${Z}/home/alice`, 2, 2],
      [`${Z}/home/alice/many`, 0, MANY],
      [`${Z}/home/alice/sub`, 1, 0],
      [`${Z}/home/alice/sub/deep`, 0, 1],
    ]);
  });

  it('filters with =, like, between and a quote in a value; counts; offset and limit; first and one', async () => {
    const out = await py('alice', `
like = [r[DataObject.name] for r in s.query(DataObject.name).filter(Like(Collection.name, '${Z}/home/alice/sub%')).all()]
start = datetime.datetime(2016, 1, 1)
end = datetime.datetime.utcnow() + datetime.timedelta(days=1)
between = len(list(s.query(Collection.name, DataObject.name).filter(Between(DataObject.modify_time, (start, end)))))
quote = [r[DataObject.name] for r in s.query(DataObject.name).filter(DataObject.name == "O'Brien").all()]
count = next(s.query().count(DataObject.id).filter(Collection.name == '${Z}/home/alice/many').get_results())[DataObject.id]
page = s.query(DataObject.name, Collection.name).offset(50).limit(100).all()
first = s.query(User.name).filter(User.name == 'boo').first()
try:
    s.query(User.name).one()
    one = 'no error'
except Exception as e:
    one = type(e).__name__
out({'like': like, 'between': between, 'quote': quote, 'count': count, 'page': len(page), 'page0': page[0][DataObject.name],
     'first': first, 'one': one})
`);
    expect(out).toEqual({
      like: ['d.txt'],
      between: MANY + 3,
      quote: ["O'Brien"],
      count: MANY,
      page: 100,
      page0: 'test000048.txt',
      first: null,
      one: 'MultipleResultsFound',
    });
  });

  it("reads metadata and ACLs as the client's managers ask", async () => {
    const out = await py('alice', `
o = s.data_objects.get('${Z}/home/alice/a.txt')
c = s.collections.get('${Z}/home/alice/sub')
meta = sorted((m.name, m.value, m.units) for m in o.metadata.items())
cmeta = [(m.name, m.value) for m in c.metadata.items()]
acl = sorted((p.user_name, p.access_name) for p in s.permissions.get(o))
cacl = sorted((p.user_name, p.access_name) for p in s.permissions.get(c))
found = [r[DataObject.name] for r in s.query(DataObject.name).filter(DataObjectMeta.name == 'sample', DataObjectMeta.value == 's1')]
out({'meta': meta, 'cmeta': cmeta, 'acl': acl, 'cacl': cacl, 'found': found})
`);
    expect(out).toEqual({
      meta: [
        // an empty value arrives as an empty element, which the client reads as None (as from a real server)
        ['depth', '30', null],
        ['sample', 's1', 'u'],
      ],
      cmeta: [['kind', 'dir']],
      acl: [
        ['alice', 'own'],
        ['proj', 'read object'],
      ],
      cacl: [['alice', 'own']],
      found: ['a.txt'],
    });
  });

  it('lists users, groups and members, ordered either way, and the one resource', async () => {
    const out = await py('bob', `
users = [r[User.name] for r in s.query(User.name).order_by(User.name).all()]
desc = [r[User.name] for r in s.query(User.name).order_by(User.name, order='desc').all()]
alice = s.users.get('alice')
g = s.user_groups.get('proj')
out({'users': users, 'desc': desc, 'alice': [alice.name, alice.type, alice.zone, alice.id > 0],
     'group': [g.name, g.id > 0], 'members': sorted(m.name for m in g.members),
     'resources': [r[Resource.name] for r in s.query(Resource).all()]})
`);
    expect(out).toEqual({
      users: ['alice', 'bob', 'proj', 'public', 'rods'],
      desc: ['rods', 'public', 'proj', 'bob', 'alice'],
      alice: ['alice', 'rodsuser', 'testZone', true],
      group: ['proj', true],
      members: ['alice'],
      resources: ['demoResc'],
    });
  });

  it("a user without access sees nothing of another's home, by any query", async () => {
    const out = await py('bob', `
res = {}
for name, fn in [('coll', lambda: s.collections.get('${Z}/home/alice')),
                 ('obj', lambda: s.data_objects.get('${Z}/home/alice/sub/deep/d.txt'))]:
    try:
        fn()
        res[name] = 'found'
    except Exception as e:
        res[name] = type(e).__name__
res['names'] = [r[DataObject.name] for r in s.query(DataObject.name).filter(Like(Collection.name, '${Z}/home/alice%')).all()]
res['meta'] = len(s.query(DataObjectMeta.name).filter(DataObjectMeta.name == 'sample').all())
res['count'] = next(s.query().count(DataObject.id).filter(Like(Collection.name, '${Z}/home/alice%')).get_results())[DataObject.id]
res['own'] = [r[DataObject.name] for r in s.query(DataObject.name, Collection.name).all()]
out(res)
`);
    expect(out).toEqual({ coll: 'CollectionDoesNotExist', obj: 'CollectionDoesNotExist', names: [], meta: 0, count: 0, own: ['secret.txt'] });
  });
});
