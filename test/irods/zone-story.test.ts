/**
 * The landing zone story over the iRODS protocol, with real processes: the
 * taskflow service (serving the protocol from its store) and the site. A
 * contributor uploads files and `.md5` companions into their zone with
 * python-irodsclient 0.8.1, the site validates and moves the zone through
 * the service, and a project member reads the moved files back over the
 * protocol. Users without access are refused each kind of operation (list,
 * query, read, write, create, mkdir) on another user's zone and on another
 * project, and a refused operation changes nothing in the store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { landingZoneRoot, sampleDataPath } from '../../src/flows/layout.js';
import { SiteApi } from '../../src/host/client.js';
import { ROLE_CONTRIBUTOR, ROLE_GUEST } from '../../src/host/constants.js';
import { CLI, runCli, startHostSystem, type HostSystem } from '../support/host-processes.js';
import { PYTHON, runWithInput } from './support/wire-server.js';

/** Debian's interpreter, which has python3-irodsclient 0.8.1. */
const DRIVER = resolve(import.meta.dirname, 'zone_client.py');
const LAYOUT = { zone: 'omicsZone', rootPath: '' };
const ZONE_TIMEOUT_MS = 120_000;

type Op = Record<string, string>;
type Outcome = { ok: true; value: any } | { ok: false; error: string; message: string };

/**
 * What a user without access meets, per operation: the calls that start with
 * a GenQuery find nothing, so the client itself says the collection does not
 * exist; the rest are refused by the server.
 */
const REFUSAL: Record<string, string> = {
  ls: 'CollectionDoesNotExist',
  get: 'CollectionDoesNotExist',
  read: 'CAT_NO_ACCESS_PERMISSION',
  put: 'CAT_NO_ACCESS_PERMISSION',
  create: 'CAT_NO_ACCESS_PERMISSION',
  overwrite: 'CAT_NO_ACCESS_PERMISSION',
  mkdir: 'CAT_NO_ACCESS_PERMISSION',
};

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

let sys: HostSystem;
let work: string;
let irodsPort: number;
const passwords = new Map<string, string>();

/** Runs the driver as `user` with `ops` in one session. */
async function client(user: string, ops: Op[]): Promise<Outcome[]> {
  const input = JSON.stringify({ host: '127.0.0.1', port: irodsPort, user, password: passwords.get(user), zone: LAYOUT.zone, ops });
  const { code, stdout, stderr } = await runWithInput(PYTHON, [DRIVER], input);
  if (code !== 0) throw new Error(`zone_client.py as ${user} exited ${code}:\n${stderr}`);
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Outcome[];
}

/** Runs the operations and returns their values, failing on the first error. */
async function clientOk(user: string, ops: Op[]): Promise<any[]> {
  const out = await client(user, ops);
  out.forEach((o, i) => {
    if (!o.ok) throw new Error(`${user}: ${JSON.stringify(ops[i])} failed: ${o.error} ${o.message}`);
  });
  return out.map((o) => (o as { value: unknown }).value);
}


/** Gives `user` a protocol password with `taskflow store user passwd`, as an operator does. */
async function setPassword(user: string): Promise<void> {
  const password = `${user}-${randomBytes(6).toString('hex')}`;
  const r = await runWithInput(process.execPath, [CLI, 'store', 'user', 'passwd', user], `${password}\n`, { ...sys.env, TASKFLOW_LOG_LEVEL: 'warn' });
  expect(r, r.stderr).toMatchObject({ code: 0, stdout: `Password of "${user}" set\n` });
  passwords.set(user, password);
}

/** The whole catalog, as `taskflow store dump` prints it. */
async function dump(): Promise<string[]> {
  const r = await runCli(['store', 'dump'], sys.env);
  expect(r.code, r.output).toBe(0);
  return r.output.trim().split('\n');
}

/** Leftover temp files of protocol writes in the vault. */
function vaultTemps(): string[] {
  return readdirSync(join(sys.dataDir, 'vault', 'tmp'));
}

/**
 * Every kind of operation on `coll` (holding the object `obj`) that `user`
 * must be refused, through the client calls a user would make.
 */
function deniedOps(coll: string, obj: string, local: string): Op[] {
  return [
    { op: 'ls', path: coll },
    { op: 'query', under: coll },
    { op: 'read', path: obj },
    { op: 'get', path: obj, local: join(work, `stolen-${randomBytes(4).toString('hex')}`) },
    { op: 'put', local, path: `${coll}/intruder.txt` },
    { op: 'create', path: `${coll}/intruder-created.txt` },
    { op: 'overwrite', path: obj, text: 'overwritten by an intruder' },
    { op: 'mkdir', path: `${coll}/intruder_dir` },
  ];
}

/** Checks that every operation of {@link deniedOps} was refused (the query sees nothing) and the store did not change. */
async function expectDenied(user: string, coll: string, obj: string): Promise<void> {
  const before = await dump();
  const local = join(work, 'intruder.txt');
  writeFileSync(local, 'bytes that must not land\n');
  const ops = deniedOps(coll, obj, local);
  const out = await client(user, [{ op: 'login' }, ...ops]);
  // the session itself works: the refusals are about access
  expect(out[0]).toEqual({ ok: true, value: true });
  ops.forEach((op, i) => {
    const o = out[i + 1]!;
    const what = `${user} ${op.op} ${op.path ?? op.under}`;
    if (op.op === 'query') {
      expect(o, what).toEqual({ ok: true, value: [] });
    } else {
      expect(o, what).toMatchObject({ ok: false, error: REFUSAL[op.op] });
    }
  });
  expect(await dump()).toEqual(before);
  expect(vaultTemps()).toEqual([]);
}

/** Files with `.md5` companions, as a user prepares an upload; one spans several 8 MiB client writes. */
const files: Record<string, Buffer> = {
  'reads_R1.fastq': Buffer.from('@r1\nACGTACGT\n+\nIIIIIIII\n'),
  'reads_R2.fastq': Buffer.from('@r2\nTGCATGCA\n+\nIIIIIIII\n'),
  'results/report.txt': Buffer.from('all good\n'),
  'raw/run1.bam': randomBytes(20 * 1024 * 1024 + 3),
};

let admin: SiteApi;
let alice: SiteApi;
let projectA: string;
let projectB: string;
let assayA: { uuid: string; path: string };
let assayB: { uuid: string; path: string };
let zonePath: string;
let zoneUuid: string;

async function createUser(username: string): Promise<{ uuid: string; token: string }> {
  const u = await admin.post('project/api/users/create', { username, name: username, email: `${username}@example.com` });
  return { uuid: String(u.sodar_uuid), token: String(u.token) };
}

/** A project with one study and assay, its sample sheet collections created. */
async function createProject(title: string, category: string): Promise<{ uuid: string; assay: { uuid: string; path: string } }> {
  const p = await admin.post('project/api/create', { title, type: 'PROJECT', parent: category });
  const uuid = String(p.sodar_uuid);
  const sheet = await admin.post(`samplesheets/api/create/${uuid}`, { title: `${title} investigation`, studies: [{ title: 'Study', assays: [{ title: 'Assay' }] }] });
  const study = Object.values(sheet.studies as Record<string, Record<string, unknown>>)[0]!;
  const assay = Object.values(study.assays as Record<string, Record<string, unknown>>)[0]!;
  await admin.post(`samplesheets/api/irods/collections/create/${uuid}`);
  return { uuid, assay: { uuid: String(assay.sodar_uuid), path: String(assay.path) } };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'irods-zone-story-'));
  sys = await startHostSystem(join(work, 'data'));
  irodsPort = Number((await sys.service.waitFor(/irods listening on 127\.0\.0\.1:(\d+)/))[1]);
  admin = new SiteApi(sys.siteUrl, sys.adminToken);
  const category = String((await admin.post('project/api/create', { title: 'Story category', type: 'CATEGORY' })).sodar_uuid);
  ({ uuid: projectA, assay: assayA } = await createProject('Project A', category));
  ({ uuid: projectB, assay: assayB } = await createProject('Project B', category));
  const [a, b, c] = [await createUser('alice'), await createUser('bob'), await createUser('carol')];
  await admin.post(`project/api/roles/create/${projectA}`, { role: ROLE_CONTRIBUTOR, user: a.uuid });
  await admin.post(`project/api/roles/create/${projectA}`, { role: ROLE_GUEST, user: b.uuid });
  await admin.post(`project/api/roles/create/${projectB}`, { role: ROLE_CONTRIBUTOR, user: c.uuid });
  alice = new SiteApi(sys.siteUrl, a.token);
  const created = await alice.post(`landingzones/api/create/${projectA}`, { assay: assayA.uuid, title: 'upload', description: 'protocol upload' });
  zoneUuid = String(created.sodar_uuid);
  const zone = await alice.waitZone(zoneUuid, ['ACTIVE', 'NOT CREATED'], ZONE_TIMEOUT_MS);
  expect(zone.status, String(zone.status_info)).toBe('ACTIVE');
  zonePath = String(zone.irods_path);
  for (const u of ['alice', 'bob', 'carol', 'rods']) await setPassword(u);
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(work, 'upload', name)), { recursive: true });
    writeFileSync(join(work, 'upload', name), bytes);
    writeFileSync(join(work, 'upload', `${name}.md5`), `${md5(bytes)}  ${name.split('/').pop()}\n`);
  }
}, 300_000);

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a landing zone filled over the iRODS protocol', () => {
  it('takes the upload: objects owned by the uploader, each with the MD5 of its bytes in the catalog', async () => {
    const before = await dump();
    const ops: Op[] = [{ op: 'mkdir', path: `${zonePath}/results` }, { op: 'mkdir', path: `${zonePath}/raw` }];
    for (const name of Object.keys(files)) {
      ops.push({ op: 'put', local: join(work, 'upload', name), path: `${zonePath}/${name}` });
      ops.push({ op: 'put', local: join(work, 'upload', `${name}.md5`), path: `${zonePath}/${name}.md5` });
    }
    ops.push({ op: 'ls', path: zonePath }, { op: 'query', under: zonePath });
    const out = await clientOk('alice', ops);
    expect(out.at(-2)).toEqual({ colls: ['raw', 'results'], objs: ['reads_R1.fastq', 'reads_R1.fastq.md5', 'reads_R2.fastq', 'reads_R2.fastq.md5'] });
    const uploaded = Object.keys(files).flatMap((n) => [n, `${n}.md5`]);
    expect(out.at(-1)).toEqual(uploaded.map((n) => `${zonePath}/${n}`).sort());

    // the catalog changed by exactly the new collections and objects (inheriting the zone's access)
    const after = await dump();
    const added = after.filter((l) => !before.includes(l));
    expect(before.filter((l) => !after.includes(l))).toEqual([]);
    const objects = added.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.t === 'object');
    const bytesOf = (n: string): Buffer => (n.endsWith('.md5') ? readFileSync(join(work, 'upload', n)) : files[n]!);
    expect(objects).toEqual(
      uploaded
        .map((n) => ({ t: 'object', path: `${zonePath}/${n}`, owner: 'alice', size: bytesOf(n).length, checksum: md5(bytesOf(n)) }))
        .sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)),
    );
    const colls = added.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.t === 'collection');
    expect(colls.map((c) => c.path).sort()).toEqual([`${zonePath}/raw`, `${zonePath}/results`]);
    expect(vaultTemps()).toEqual([]);
  }, 180_000);

  it("refuses another project member every operation on the user's zone, and changes nothing", async () => {
    await expectDenied('bob', zonePath, `${zonePath}/reads_R1.fastq`);
    // nor does bob see the zone in the landing zone root he may read
    const [root] = await clientOk('bob', [{ op: 'ls', path: landingZoneRoot(LAYOUT, projectA) }]);
    expect(root).toEqual({ colls: [], objs: [] });
  }, 180_000);

  it("refuses a member of another project every operation on the user's zone", async () => {
    await expectDenied('carol', zonePath, `${zonePath}/raw/run1.bam`);
  }, 180_000);

  it('is validated and moved by the site through the service; a project member then reads the moved bytes', async () => {
    const before = await dump();
    await alice.post(`landingzones/api/submit/validate/${zoneUuid}`);
    const validated = await alice.waitZone(zoneUuid, ['ACTIVE', 'FAILED'], ZONE_TIMEOUT_MS);
    expect(validated.status, String(validated.status_info)).toBe('ACTIVE');
    await alice.post(`landingzones/api/submit/move/${zoneUuid}`);
    const moved = await alice.waitZone(zoneUuid, ['MOVED', 'FAILED'], ZONE_TIMEOUT_MS);
    expect(moved.status, String(moved.status_info)).toBe('MOVED');

    // the objects left the zone and arrived in sample data with the same bytes (size, checksum)
    const samples = sampleDataPath(LAYOUT, projectA, assayA.path);
    const objectsUnder = (lines: string[], root: string) =>
      lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e.t === 'object' && String(e.path).startsWith(`${root}/`))
        .map((e) => ({ ...e, path: String(e.path).slice(root.length + 1) }));
    const after = await dump();
    expect(objectsUnder(after, zonePath)).toEqual([]);
    const inZone = objectsUnder(before, zonePath);
    expect(inZone.length).toBe(Object.keys(files).length * 2);
    expect(objectsUnder(after, samples)).toEqual(expect.arrayContaining(inZone));

    const reads: Op[] = [{ op: 'ls', path: samples }, { op: 'query', under: samples }];
    for (const name of Object.keys(files)) {
      reads.push({ op: 'read', path: `${samples}/${name}` });
      reads.push({ op: 'get', path: `${samples}/${name}`, local: join(work, 'bob', name.replace('/', '_')) });
    }
    mkdirSync(join(work, 'bob'));
    const out = await clientOk('bob', reads);
    expect(out[0].objs).toEqual(expect.arrayContaining(['reads_R1.fastq', 'reads_R1.fastq.md5', 'reads_R2.fastq', 'reads_R2.fastq.md5']));
    expect(out[0].colls).toEqual(expect.arrayContaining(['raw', 'results']));
    expect(out[1]).toEqual(expect.arrayContaining(Object.keys(files).map((n) => `${samples}/${n}`)));
    Object.entries(files).forEach(([name, bytes], i) => {
      expect(out[2 + 2 * i], name).toEqual({ md5: md5(bytes), size: bytes.length });
      expect(out[3 + 2 * i], name).toEqual({ size: bytes.length, checksum: md5(bytes) });
      expect(readFileSync(join(work, 'bob', name.replace('/', '_'))).equals(bytes), name).toBe(true);
    });
  }, 300_000);

  it("refuses a member of another project every operation on the project's sample data", async () => {
    const samples = sampleDataPath(LAYOUT, projectA, assayA.path);
    await expectDenied('carol', samples, `${samples}/reads_R2.fastq`);
    await expectDenied('carol', `${samples}/raw`, `${samples}/raw/run1.bam`);
  }, 180_000);

  it("keeps another project's data from this project's members, and lets that project's member read it", async () => {
    const samplesB = sampleDataPath(LAYOUT, projectB, assayB.path);
    const secret = Buffer.from('data of project B only\n');
    writeFileSync(join(work, 'secret.txt'), secret);
    await clientOk('rods', [{ op: 'put', local: join(work, 'secret.txt'), path: `${samplesB}/secret.txt` }]);
    // a member of B reads it: the refusals below are about access, not about a missing object
    expect(await clientOk('carol', [{ op: 'read', path: `${samplesB}/secret.txt` }])).toEqual([{ md5: md5(secret), size: secret.length }]);
    await expectDenied('alice', samplesB, `${samplesB}/secret.txt`);
    await expectDenied('bob', samplesB, `${samplesB}/secret.txt`);
  }, 180_000);
});
