import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SiteApi } from '../../src/host/client.js';
import { lockDatabasePath, machineLeaseClock } from '../../src/locks/index.js';
import { runCli, spawnCli, type CliProcess } from '../support/host-processes.js';
import { waitFor } from '../support/service-wait.js';
import { closedPort } from '../locks/helpers.js';

const dirs: string[] = [];
const procs: CliProcess[] = [];
/** Processes a test froze (TASKFLOW_TEST_FREEZE_AT): their event loop is blocked, so only SIGKILL ends them. */
const frozen: CliProcess[] = [];
afterEach(async () => {
  for (const p of frozen.splice(0)) await p.stop('SIGKILL');
  for (const p of procs.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'host-start-'));
  dirs.push(d);
  return d;
}

async function start(
  dataDir: string,
  env: Record<string, string> = {},
  ports = { service: 0, site: 0 },
): Promise<{ p: CliProcess; siteUrl: string; serviceUrl: string; token: string }> {
  const p = spawnCli(['start', '--port', String(ports.service), '--site-port', String(ports.site)], { TASKFLOW_DATA_DIR: dataDir, ...env });
  procs.push(p);
  const siteUrl = (await p.waitFor(/^Site: (http\S+)$/m))[1];
  const serviceUrl = (await p.waitFor(/^Taskflow service: (http\S+)$/m))[1];
  const tokenFile = (await p.waitFor(/^Admin token of user "admin": stored in (\S+)$/m))[1];
  expect(tokenFile).toBe(join(dataDir, 'admin-token'));
  const token = readFileSync(tokenFile, 'utf8').trim();
  return { p, siteUrl, serviceUrl, token };
}

describe('taskflow start (npm start)', () => {
  it('generates a secret on the first start and reuses it (and the admin) on the next, stopping cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const first = await start(dir);
    expect(first.p.output()).toMatch(/Generated a new secret, stored in .*secret/);
    // the token is printed once, when it is created
    expect(first.p.output()).toContain(`Created admin user "admin" with API token ${first.token}`);
    expect(first.p.output().split(first.token).length - 1).toBe(1);
    expect(first.p.output()).toContain('Registering Plugin for taskflowbackend.plugins.BackendPlugin');
    const secret = readFileSync(join(dir, 'secret'), 'utf8');
    expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    const api = new SiteApi(first.siteUrl, first.token);
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    const proj = await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid });
    expect(await first.p.stop()).toBe(0);

    const second = await start(dir);
    expect(second.p.output()).toMatch(/Using the secret stored in .*secret/);
    expect(second.p.output()).not.toMatch(/Created admin user/);
    // later starts name the token's file, never the token
    expect(second.p.output()).not.toContain(first.token);
    expect(second.p.output()).toContain('No new plugins to register');
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe(secret);
    expect(second.token).toBe(first.token);
    // The site and service of the second start still agree on the secret: a flow with callbacks works.
    const api2 = new SiteApi(second.siteUrl, second.token);
    const bob = await api2.post('project/api/users/create', { username: 'bob' });
    const role = await api2.post(`project/api/roles/create/${String(proj.sodar_uuid)}`, { role: 'project guest', user: bob.sodar_uuid });
    expect(role.role).toBe('project guest');
    const hello = await fetch(`${second.serviceUrl}/hello`);
    expect(await hello.text()).toBe('Hello world from sodar_taskflow!');
    expect(await second.p.stop('SIGINT')).toBe(0);
  });

  it('lets manage synctaskflow use the secret a start stored, so it needs only the data dir', async () => {
    const dir = tempDir();
    const sys = await start(dir);
    const api = new SiteApi(sys.siteUrl, sys.token);
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid });
    const env = { TASKFLOW_DATA_DIR: dir, TASKFLOW_BACKEND_HOST: 'http://127.0.0.1', TASKFLOW_BACKEND_PORT: new URL(sys.serviceUrl).port };
    const sync = await runCli(['manage', 'synctaskflow'], env);
    expect(sync.code, sync.output).toBe(0);
    expect(sync.output).toMatch(/Synced project "Proj" \(\S+\): owner admin/);
    // TASKFLOW_SODAR_SECRET still wins over the stored secret.
    const wrong = await runCli(['manage', 'synctaskflow'], { ...env, TASKFLOW_SODAR_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toMatch(/Not authorized/);
  });

  it('logs the service, the protocol server and the site at TASKFLOW_LOG_LEVEL, as serve and site --log do, without the secret', async () => {
    const dir = tempDir();
    const sys = await start(dir, { TASKFLOW_LOG_LEVEL: 'trace' });
    const api = new SiteApi(sys.siteUrl, sys.token);
    const cat = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    // a project's create runs a flow: the site submits to the service, which calls the site back, both with the secret
    await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: cat.sodar_uuid });
    await sys.p.waitFor(/"msg":"request completed"/, 10_000);
    expect(await sys.p.stop()).toBe(0);
    const out = sys.p.output();
    expect(out).toMatch(/"level":30,.*"name":"taskflow".*"msg":"service started"/);
    expect(out).toMatch(/"component":"irods".*"msg":"iRODS protocol server listening"/);
    expect(out).toMatch(/"req":\{"method":"POST","url":"\/project\/api\/create"/);
    expect(out).not.toContain(readFileSync(join(dir, 'secret'), 'utf8').trim());
    // the token only in the line that hands it out on the first start
    expect(out.split(sys.token).length - 1).toBe(1);
  });

  it('says which port is taken and how to choose another when a start finds its port in use', async () => {
    const running = await start(tempDir());
    const sitePort = new URL(running.siteUrl).port;
    const servicePort = new URL(running.serviceUrl).port;
    const siteBusy = await runCli(['start', '--port', '0', '--site-port', sitePort], { TASKFLOW_DATA_DIR: tempDir() });
    expect(siteBusy.code).toBe(1);
    expect(siteBusy.output).toContain(`Cannot start the site: 127.0.0.1:${sitePort} is already in use (is another "taskflow start" running?); choose another port with SODAR_SITE_PORT or --site-port`);
    const serviceBusy = await runCli(['start', '--port', servicePort, '--site-port', '0'], { TASKFLOW_DATA_DIR: tempDir() });
    expect(serviceBusy.code).toBe(1);
    expect(serviceBusy.output).toContain(`Cannot start the taskflow service: 127.0.0.1:${servicePort} is already in use`);
    // The running system is unharmed.
    expect(await (await fetch(`${running.serviceUrl}/hello`)).text()).toBe('Hello world from sodar_taskflow!');
  });

  it('recovers a run a crash left unfinished once its site listens: the first look reverts and reports it', async () => {
    const dir = tempDir();
    const env = { TASKFLOW_TEST_MODE: 'true', TASKFLOW_LOCK_LEASE: '1', TASKFLOW_IRODS_LISTEN: 'off' };
    // the same addresses at every start, as `npm start` has: a run's callbacks go to the site it was submitted from
    const ports = { service: await closedPort(), site: await closedPort() };
    const first = await start(dir, env, ports);
    const api = new SiteApi(first.siteUrl, first.token);
    const category = await api.post('project/api/create', { title: 'Cat', type: 'CATEGORY' });
    const project = String((await api.post('project/api/create', { title: 'Proj', type: 'PROJECT', parent: category.sodar_uuid })).sodar_uuid);
    const sheet = await api.post(`samplesheets/api/create/${project}`, { studies: [{ assays: [{}] }] });
    const study = Object.values(sheet.studies as Record<string, Record<string, unknown>>)[0];
    const assay = Object.values(study.assays as Record<string, Record<string, unknown>>)[0];
    await api.post(`samplesheets/api/irods/collections/create/${project}`);
    await first.p.stop();
    // an async zone creation killed with one task to go: recovery reverts it and reports it (zone, timeline)
    const second = await start(dir, { ...env, TASKFLOW_TEST_FREEZE_AT: 'landing_zone_create:done:-2' }, ports);
    frozen.push(second.p);
    // the frozen process never answers: the site and the service are one process
    const created = api.post(`landingzones/api/create/${project}`, { assay: assay.sodar_uuid, title: 'killed' }).catch(() => undefined);
    await second.p.waitFor(/TASKFLOW_TEST_FROZEN/);
    await second.p.stop('SIGKILL');
    await created;
    // every lease of the dead process run out: the next start's first look takes its run over
    const leases = new Database(lockDatabasePath(dir), { readonly: true });
    try {
      const clock = machineLeaseClock();
      await waitFor("the dead process's leases to run out", () => leases.prepare('SELECT count(*) FROM leases WHERE expires_at > ?').pluck().get(clock.now()) === 0);
    } finally {
      leases.close();
    }
    const third = await start(dir, env, ports);
    // done before the start says it is up: the site was listening for the revert and the report
    expect(third.p.output().match(/.*(cannot be reached|waits for the site).*/g)).toBeNull();
    const runs = await runCli(['runs', '--json', '--flow', 'landing_zone_create'], { TASKFLOW_DATA_DIR: dir });
    expect(JSON.parse(runs.output).runs.map((r: { status: string }) => r.status)).toEqual(['rolled_back']);
    const zones = await api.get<Record<string, unknown>[]>(`landingzones/api/list/${project}`);
    expect(zones.map((z) => z.status)).toEqual(['NOT CREATED']);
  });
});

describe('taskflow site', () => {
  it('refuses to serve the callbacks with the public default secret outside test mode', async () => {
    const dir = tempDir();
    const site = await runCli(['site', '--port', '0'], { TASKFLOW_DATA_DIR: dir });
    expect(site.code).not.toBe(0);
    expect(site.output).toContain('Invalid setting TASKFLOW_SODAR_SECRET: the default secret "CHANGE ME!" is public');
    expect(site.output).not.toMatch(/listening/);
    // test mode still allows it (the test sites), and a secret stored by `taskflow start` is used when set
    const testing = spawnCli(['site', '--port', '0'], { TASKFLOW_DATA_DIR: dir, TASKFLOW_TEST_MODE: 'true' });
    procs.push(testing);
    await testing.waitFor(/taskflow site listening on/);
    expect(testing.output()).toContain('Secret for the service and its callbacks: the default "CHANGE ME!" (test mode only)');
    expect(await testing.stop()).toBe(0);
    writeFileSync(join(dir, 'secret'), 'a-stored-secret\n', { mode: 0o600 });
    const stored = spawnCli(['site', '--port', '0'], { TASKFLOW_DATA_DIR: dir });
    procs.push(stored);
    await stored.waitFor(/taskflow site listening on/);
    expect(stored.output()).toContain(`Secret for the service and its callbacks: stored in ${join(dir, 'secret')}`);
  });
});

describe('taskflow demo (npm run demo)', () => {
  it('walks the whole story against the running system and exits 0', async () => {
    const dir = tempDir();
    const sys = await start(dir);
    const demo = await runCli(['demo', '--site', sys.siteUrl], { TASKFLOW_DATA_DIR: dir }, 120_000);
    expect(demo.code, demo.output).toBe(0);
    const out = demo.output;
    for (const re of [
      /Created category/,
      /Created project "Demo project"/,
      /Added user "demo_\S+" as project contributor/,
      /Imported a sample sheet/,
      /Created the sample sheet collections/,
      /Created landing zone .*ACTIVE/,
      /Uploaded 3 files with \.md5 companions/,
      /Validated the zone: ACTIVE/,
      /Moved the zone into sample data: MOVED/,
      /Sample data of the assay now holds: .*reads_R1\.fastq/,
      /Timeline: .*zone_move=OK/,
      /status: MOVED/,
      /Failing move ended FAILED: .*sample_bad\.txt/,
      /Files left in the zone: .*sample_bad\.txt.*sample_ok\.txt/,
      /Demo finished: every step went as expected/,
    ]) {
      expect(out).toMatch(re);
    }
    // The site agrees: one zone MOVED, one FAILED with the reason.
    const api = new SiteApi(sys.siteUrl, sys.token);
    const projects = await api.get<Record<string, unknown>[]>('project/api/list');
    const proj = projects.find((p) => p.title === 'Demo project')!;
    const zones = await api.get<Record<string, unknown>[]>(`landingzones/api/list/${String(proj.sodar_uuid)}`);
    expect(zones.map((z) => z.status).sort()).toEqual(['FAILED', 'MOVED']);
    expect(String(zones.find((z) => z.status === 'FAILED')!.status_info)).toMatch(/checksum/);
    const events = await api.get<Record<string, unknown>[]>(`timeline/api/list/${String(proj.sodar_uuid)}`);
    expect(events.filter((e) => e.event_name === 'zone_move').map((e) => e.status_type).sort()).toEqual(['FAILED', 'OK']);
  });

  it('starts the system itself when none is running', async () => {
    const dir = tempDir();
    const demo = await runCli(['demo'], { TASKFLOW_DATA_DIR: dir, SODAR_SITE_PORT: '0', TASKFLOW_PORT: '0' }, 120_000);
    expect(demo.code, demo.output).toBe(0);
    expect(demo.output).toMatch(/starting the service and the site/);
    expect(demo.output).toMatch(/Demo finished/);
  });
});
