/**
 * Storage resources through the reference client, python-irodsclient 0.8.1,
 * over a real socket: `resources.create` / `get` / `remove`, objects created
 * and put on a resource (`data_objects.create(path, resource)`, a session's
 * `default_resource`), what GenQuery answers about them (`replicas`), where
 * their bytes are, and what is refused: non-admins, other types, other
 * hosts, a resource holding objects, an unknown resource.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_PRELUDE, clientScript, startWireServer, type WireServer } from './support/wire-server.js';

const PRELUDE = `${CLIENT_PRELUDE}
from irods.models import DataObject, Resource
def replica(s, path):
    r = s.data_objects.get(path).replicas[0]
    return {'resource': r.resource_name, 'path': r.path, 'number': r.number}
`;

const Z = '/testZone';
const HOME = `${Z}/home/rods`;

describe('storage resources with python-irodsclient 0.8.1', () => {
  let w: WireServer;
  let dataDir: string;
  const run = (script: string, args: Record<string, unknown> = {}) => clientScript(w, PRELUDE + script, args);
  beforeAll(async () => {
    // every object a file, small or not: these tests look at where the files are
    w = await startWireServer({}, { inlineMaxBytes: 0 });
    dataDir = w.store.protocolCore().dataDir;
    await w.store.createCollection(HOME, { owner: 'rods' });
    await w.store.createPrincipal('alice', 'rodsuser');
    w.store.setPassword('alice', 'alice-pw');
  });
  afterAll(async () => w?.stop());

  it('makes a unixfilesystem resource with its vault folder in the data folder; objects created and put on it have their bytes there', async () => {
    const out = await run(
      `
s = session('rods', 'rods-pw')
r = s.resources.create('ufs1', 'unixfilesystem', 'localhost', '/tmp/asked-for-ufs1')
got = s.resources.get('ufs1')
other_zone = attempt(lambda: s.resources.get('ufs1', zone='otherZone'))
s.data_objects.create(a['home'] + '/on-ufs1.txt', 'ufs1')
with s.data_objects.open(a['home'] + '/on-ufs1.txt', 'w') as f:
    f.write(b'bytes on ufs1')
s.default_resource = 'ufs1'
with open(a['local'], 'wb') as f:
    f.write(b'put to the default resource')
s.data_objects.put(a['local'], a['home'] + '/put.txt')
s.data_objects.register(a['local'], a['home'] + '/registered.txt', destRescName='ufs1')
v = session('rods', 'rods-pw')
v.data_objects.put(a['local'], a['home'] + '/vault.txt')
v.cleanup()
print(json.dumps({'name': got.name, 'type': got.type, 'location': got.location, 'vault': got.vault_path, 'id': got.id,
  'other_zone': other_zone, 'created': replica(s, a['home'] + '/on-ufs1.txt'), 'put': replica(s, a['home'] + '/put.txt'),
  'vault_obj': replica(s, a['home'] + '/vault.txt'), 'registered': replica(s, a['home'] + '/registered.txt'),
  'listed': sorted(r[Resource.name] for r in s.query(Resource.name))}))
s.cleanup()
`,
      { home: HOME, local: join(dataDir, '..', 'local-put.txt') },
    );
    const vault = join(dataDir, 'resources', 'ufs1');
    expect(out).toMatchObject({ name: 'ufs1', type: 'unixfilesystem', location: 'localhost', vault, other_zone: 'ResourceDoesNotExist' });
    expect(out.listed).toEqual(['demoResc', 'ufs1']);
    const { created, put, vault_obj, registered } = out as Record<string, { resource: string; path: string; number: number }>;
    expect(created!.resource).toBe('ufs1');
    expect(registered!.resource).toBe('ufs1');
    expect(readFileSync(registered!.path, 'utf8')).toBe('put to the default resource');
    expect(put!.resource).toBe('ufs1');
    expect(vault_obj!.resource).toBe('demoResc');
    // the replica paths are the files, in the resource's folder or the store vault
    expect(created!.path.startsWith(`${vault}/`)).toBe(true);
    expect(readFileSync(created!.path, 'utf8')).toBe('bytes on ufs1');
    expect(readFileSync(put!.path, 'utf8')).toBe('put to the default resource');
    expect(vault_obj!.path.startsWith(join(dataDir, 'vault') + '/')).toBe(true);
    expect(existsSync('/tmp/asked-for-ufs1')).toBe(false);
    expect(await w.store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('keeps an object on its resource when rewritten, copied over or renamed; a new copy goes where it is asked', async () => {
    const out = await run(
      `
s = session('rods', 'rods-pw')
s.resources.create('ufs2', 'unixfilesystem', 'localhost', '/tmp/ufs2')
p = a['home'] + '/keep.txt'
s.data_objects.create(p, 'ufs2')
with s.data_objects.open(p, 'w') as f:
    f.write(b'one')
with s.data_objects.open(p, 'r+') as f:
    f.seek(0, 2)
    f.write(b' two')
s.data_objects.move(p, a['home'] + '/kept.txt')
s.data_objects.copy(a['home'] + '/kept.txt', a['home'] + '/copy.txt')
s.data_objects.copy(a['home'] + '/kept.txt', a['home'] + '/copy2.txt', destRescName='ufs2')
# of rescName, destRescName and backupRescName the last one present names the resource, an empty one none
named = {}
for name, kws in [('resc', {'rescName': 'ufs2'}), ('dest_over_resc', {'rescName': 'nowhere', 'destRescName': 'ufs2'}),
                  ('backup_over_dest', {'destRescName': 'nowhere', 'backupRescName': 'ufs2'}), ('empty_dest', {'rescName': 'ufs2', 'destRescName': ''})]:
    with s.data_objects.open(a['home'] + '/named-' + name, 'w', **kws) as f:
        f.write(b'n')
    named[name] = replica(s, a['home'] + '/named-' + name)['resource']
print(json.dumps({'kept': replica(s, a['home'] + '/kept.txt'), 'copy': replica(s, a['home'] + '/copy.txt'),
  'copy2': replica(s, a['home'] + '/copy2.txt'), 'content': s.data_objects.open(a['home'] + '/kept.txt', 'r').read().decode(), 'named': named}))
s.cleanup()
`,
      { home: HOME },
    );
    expect(out).toMatchObject({ kept: { resource: 'ufs2' }, copy: { resource: 'demoResc' }, copy2: { resource: 'ufs2' }, content: 'one two' });
    // iRODS 4.2.12 irods_resource_redirect.cpp get_keyword_from_inp
    expect(out.named).toEqual({ resc: 'ufs2', dest_over_resc: 'ufs2', backup_over_dest: 'ufs2', empty_dest: 'demoResc' });
    expect(await w.store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it('refuses what it cannot honour: other types, other hosts, unknown resources, removing one holding objects, non-admins', async () => {
    const out = await run(
      `
s = session('rods', 'rods-pw')
u = session('alice', 'alice-pw')
r = {}
r['compound'] = attempt(lambda: s.resources.create('c1', 'compound'))
r['s3'] = attempt(lambda: s.resources.create('s3r', 's3', 'localhost', '/b', context='S3_DEFAULT_HOSTNAME=x'))
r['other_host'] = attempt(lambda: s.resources.create('far', 'unixfilesystem', 'elsewhere.example.org', '/v'))
r['bad_name'] = attempt(lambda: s.resources.create('../up', 'unixfilesystem', 'localhost', '/v'))
r['taken'] = attempt(lambda: s.resources.create('demoResc', 'unixfilesystem', 'localhost', '/v'))
s.resources.create('ufs3', 'unixfilesystem', 'localhost', '/tmp/ufs3')
r['again'] = attempt(lambda: s.resources.create('ufs3', 'unixfilesystem', 'localhost', '/tmp/ufs3'))
r['by_alice'] = attempt(lambda: u.resources.create('mine', 'unixfilesystem', 'localhost', '/v'))
r['unknown_dest'] = attempt(lambda: s.data_objects.create(a['home'] + '/nowhere.txt', 'nosuch'))
s.data_objects.create(a['home'] + '/on-ufs3.txt', 'ufs3')
r['rm_full_dry'] = attempt(lambda: s.resources.remove('ufs3', test=True))
r['rm_full'] = attempt(lambda: s.resources.remove('ufs3'))
r['rm_vault'] = attempt(lambda: s.resources.remove('demoResc'))
r['rm_unknown'] = attempt(lambda: s.resources.remove('nosuch'))
r['rm_by_alice'] = attempt(lambda: u.resources.remove('ufs3'))
s.data_objects.unlink(a['home'] + '/on-ufs3.txt', force=True)
r['rm_dry'] = attempt(lambda: s.resources.remove('ufs3', test=True))
r['still_there'] = attempt(lambda: s.resources.get('ufs3'))
r['rm'] = attempt(lambda: s.resources.remove('ufs3'))
r['gone'] = attempt(lambda: s.resources.get('ufs3'))
print(json.dumps(r))
s.cleanup(); u.cleanup()
`,
      { home: HOME },
    );
    expect(out).toEqual({
      compound: 'SYS_NOT_SUPPORTED',
      s3: 'SYS_NOT_SUPPORTED',
      other_host: 'CAT_INVALID_RESOURCE_NET_ADDR',
      bad_name: 'CAT_INVALID_ARGUMENT',
      taken: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME',
      again: 'CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME',
      by_alice: 'SYS_NO_API_PRIV',
      unknown_dest: 'SYS_RESC_DOES_NOT_EXIST',
      rm_full_dry: 'CAT_RESOURCE_NOT_EMPTY',
      rm_full: 'CAT_RESOURCE_NOT_EMPTY',
      rm_vault: 'CAT_INSUFFICIENT_PRIVILEGE_LEVEL',
      rm_unknown: 'SYS_RESC_DOES_NOT_EXIST',
      rm_by_alice: 'SYS_NO_API_PRIV',
      rm_dry: 'ok',
      still_there: 'ok',
      rm: 'ok',
      gone: 'ResourceDoesNotExist',
    });
    expect(existsSync(join(dataDir, 'resources', 'ufs3'))).toBe(false);
    expect(existsSync(join(dataDir, 'resources', '..', 'up'))).toBe(false);
    expect(await w.store.fsck()).toEqual({ missingFiles: [], orphanFiles: [], repaired: 0 });
  });

  it("answers the host a resource was made with, and this machine's name for the store vault", async () => {
    const out = await run(`
s = session('rods', 'rods-pw')
s.resources.create('ufs4', 'unixfilesystem', a['host'], '/v')
print(json.dumps({r[Resource.name]: r[Resource.location] for r in s.query(Resource.name, Resource.location)}))
s.resources.remove('ufs4')
s.cleanup()
`, { host: hostname() });
    expect(out).toMatchObject({ demoResc: hostname(), ufs4: hostname() });
  });
});
