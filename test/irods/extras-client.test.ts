/**
 * Registration, distinguished names, specific queries and AVU ids through
 * the reference client, python-irodsclient 0.8.1, over a real socket: the
 * calls its own test suite makes (`data_objects.register`,
 * `collections.register`, `unregister`, `user.modify('addAuth')`,
 * `user.dn`, `SpecificQuery`, `metadata.get` sorted by `avu_id`) and what it
 * makes of the answers.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIAL_SPECIFIC_QUERIES } from '../../src/store/embedded/specific-queries.js';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';

// each script prints one JSON line last; attempt() gives the iRODS exception's name, or 'ok'
const PRELUDE = `${CLIENT_PRELUDE}
from irods.meta import iRODSMeta
from irods.query import SpecificQuery
from irods.models import DataObject, Collection
`;

const Z = '/testZone';
const HOME = `${Z}/home/rods`;
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('registration, DNs, specific queries and AVU order with python-irodsclient 0.8.1', () => {
  let w: WireServer;
  let files: string;
  const run = (script: string, args: Record<string, unknown> = {}) => clientScript(w, PRELUDE + script, args);
  beforeAll(async () => {
    w = await startWireServer();
    files = mkdtempSync(join(tmpdir(), 'taskflow-register-client-'));
    await w.store.createCollection(HOME, { owner: 'rods' });
    await w.store.createPrincipal('alice', 'rodsuser');
    await w.store.createCollection(`${Z}/home/alice`, { owner: 'alice' });
    w.store.setPassword('alice', 'alice-pw');
  });
  afterAll(async () => {
    await w?.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('registers a file and a folder as copies with their MD5, and unregisters them leaving the server files', async () => {
    const file = join(files, `aaa'"<&test&>"'_file`);
    writeFileSync(file, 'registered bytes');
    mkdirSync(join(files, 'dir', 'sub'), { recursive: true });
    for (let i = 0; i < 10; i++) writeFileSync(join(files, 'dir', `test_${i}.txt`), `file ${i}`);
    writeFileSync(join(files, 'dir', 'sub', 'deep.txt'), 'deep');
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.data_objects.register(a['file'], a['obj'])
obj = s.data_objects.get(a['obj'])
phys = obj.replicas[0].path
copy = open(phys, 'rb').read().decode()
checksum = obj.checksum
s.collections.register(a['dir'], a['coll'])
count = next(s.query().count(DataObject.id).filter(Collection.name == a['coll']).get_results())[DataObject.id]
names = sorted(o.name for o in s.collections.get(a['coll']).data_objects)
subs = [c.name for c in s.collections.get(a['coll']).subcollections]
t = session('alice', 'alice-pw')
refused = attempt(lambda: t.data_objects.register(a['file'], a['zone_home'] + '/alice/x'))
not_admin_unreg = attempt(lambda: t.data_objects.unregister(a['obj']))
t.cleanup()
obj.unregister()
s.collections.get(a['coll']).unregister()
gone = [s.data_objects.exists(a['obj']), s.collections.exists(a['coll'])]
s.cleanup()
print(json.dumps({'copy': copy, 'inVault': phys.startswith(a['vault']), 'checksum': checksum, 'count': count, 'names': names, 'subs': subs,
                  'refused': refused, 'notAdminUnreg': not_admin_unreg, 'gone': gone}))
`,
      { file, obj: `${HOME}/reg.txt`, dir: join(files, 'dir'), coll: `${HOME}/regdir`, zone_home: `${Z}/home`, vault: w.store.vault.dir },
    );
    expect(out).toEqual({
      copy: 'registered bytes',
      inVault: true,
      checksum: md5('registered bytes'),
      count: 10,
      names: Array.from({ length: 10 }, (_, i) => `test_${i}.txt`),
      subs: ['sub'],
      refused: 'CAT_INSUFFICIENT_PRIVILEGE_LEVEL',
      // alice has no access to rods's object, as iRODS checks before the vault
      notAdminUnreg: 'CAT_NO_ACCESS_PERMISSION',
      gone: [false, false],
    });
    expect(readFileSync(file, 'utf8')).toBe('registered bytes');
    expect(readdirSync(join(files, 'dir'))).toHaveLength(11);
    expect(await w.store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it("adds and removes a user's DNs and reads them back in order (user.dn)", async () => {
    const out = await run(`
s = session('rods', 'rods-pw')
user = s.users.create('testuser', 'rodsuser')
seen = [list(user.dn)]
user.modify('addAuth', 'foo')
user.modify('addAuth', 'bar')
seen.append(list(user.dn))
user.modify('rmAuth', 'foo')
seen.append(list(user.dn))
user.remove()
s.cleanup()
print(json.dumps({'seen': seen}))
`);
    expect(out).toEqual({ seen: [[], ['foo', 'bar'], ['bar']] });
    expect(w.store.authNamesOf('testuser')).toEqual([]);
  });

  it('registers, runs and removes a specific query as a rodsadmin; refuses others and SQL that reads passwords', async () => {
    await w.store.putObject(`${HOME}/sq1.txt`, Readable.from([Buffer.from('one')]), { owner: 'rods' });
    await w.store.putObject(`${HOME}/sq2.txt`, Readable.from([Buffer.from('two')]), { owner: 'rods' });
    const out = await run(`
from irods.exception import CAT_INVALID_ARGUMENT
s = session('alice', 'alice-pw')
r = session('rods', 'rods-pw')
listed = [[x[0], x[1]] for x in SpecificQuery(s, alias='ls')]
unknown = attempt(lambda: next(SpecificQuery(s, alias='foo').get_results()))
sql = "select DATA_NAME, DATA_SIZE from R_DATA_MAIN join R_COLL_MAIN using (COLL_ID) where COLL_NAME = '%s' and DATA_NAME like 'sq%%' order by DATA_NAME" % a['home']
q = SpecificQuery(r, sql, 'sq_names', [DataObject.name, DataObject.size])
q.register()
try:
    q.register()
    twice = 'ok'
except CAT_INVALID_ARGUMENT as e:
    twice = str(e)
# any user runs it; its rows, read by the columns given
rows = [[x[DataObject.name], x[DataObject.size]] for x in SpecificQuery(s, alias='sq_names', columns=[DataObject.name, DataObject.size])]
by_alice = attempt(lambda: SpecificQuery(s, sql='select DATA_NAME from R_DATA_MAIN', alias='alices').register())
passwords = attempt(lambda: SpecificQuery(r, sql='select name, secret from passwords', alias='pw').register())
writes = attempt(lambda: SpecificQuery(r, sql="update principals set user_type = 'rodsadmin'", alias='up').register())
q.remove()
gone = attempt(lambda: next(SpecificQuery(s, alias='sq_names').get_results()))
s.cleanup(); r.cleanup()
print(json.dumps({'aliases': [x[0] for x in listed], 'allSelect': all('SELECT' in x[1].upper() for x in listed), 'unknown': unknown,
  'twice': twice, 'rows': rows, 'by_alice': by_alice, 'passwords': passwords, 'writes': writes, 'gone': gone}))
`, { home: HOME });
    expect(out).toEqual({
      aliases: INITIAL_SPECIFIC_QUERIES.map((q) => q.alias),
      allSelect: true,
      unknown: 'CAT_UNKNOWN_SPECIFIC_QUERY',
      twice: 'Alias is not unique',
      rows: [
        ['sq1.txt', 3],
        ['sq2.txt', 3],
      ],
      by_alice: 'SYS_NO_API_PRIV',
      passwords: 'CAT_INVALID_ARGUMENT',
      writes: 'CAT_INVALID_ARGUMENT',
      gone: 'CAT_UNKNOWN_SPECIFIC_QUERY',
    });
  });

  it('gives AVUs ids in the order they were added (metadata.get sorted by avu_id)', async () => {
    await w.store.putObject(`${HOME}/m.txt`, Readable.from([Buffer.from('m')]), { owner: 'rods' });
    const out = await run(
      `
s = session('rods', 'rods-pw')
for name, value, units in [('zz', 'v0', None), ('aa', 'v1', 'u1'), ('attr2', u'\\u262d\\u26f7\\u2605\\u26bd', None)]:
    s.metadata.add(DataObject, a['path'], iRODSMeta(name, value, units))
meta = sorted(s.metadata.get(DataObject, a['path']), key=lambda m: m.avu_id)
s.cleanup()
print(json.dumps({'names': [m.name for m in meta]}))
`,
      { path: `${HOME}/m.txt` },
    );
    expect(out).toEqual({ names: ['zz', 'aa', 'attr2'] });
  });
});
