/**
 * The demo story (`taskflow demo`): one line per step through the whole
 * system, ending with a move that fails on a wrong checksum. Throws
 * {@link DemoError} as soon as something differs from the expected story.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { landingZonePath, sampleDataPath } from '../flows/layout.js';
import type { FlowStore } from '../store/types.js';
import { SiteApi } from '../host/client.js';
import { ROLE_CONTRIBUTOR } from '../host/constants.js';

/** A step of the demo did not go as the story expects. */
export class DemoError extends Error {
  override readonly name = 'DemoError';
}

/** What the demo needs. */
export interface DemoOptions {
  /** The site, as the admin. */
  admin: SiteApi;
  /** The data store of the running service (same data folder). */
  store: FlowStore;
  /** Store zone and root path, for the sample data path. */
  layout: { zone: string; rootPath: string };
  print: (line: string) => void;
  /** Milliseconds to wait for each async zone flow. */
  zoneTimeoutMs?: number;
}

/** What the demo created, for tests to inspect. */
export interface DemoResult {
  categoryUuid: string;
  projectUuid: string;
  contributor: { username: string; uuid: string; token: string };
  movedZoneUuid: string;
  failedZoneUuid: string;
  sampleFiles: string[];
  filesLeftInFailedZone: string[];
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

type Json = Record<string, unknown>;

/** A stream of `text` (a string given to putObject would name a local file). */
const bytes = (text: string): Readable => Readable.from([Buffer.from(text)]);

function expect(cond: boolean, message: string): void {
  if (!cond) throw new DemoError(message);
}

/** Uploads `files` and their `.md5` companions (`wrong` names get a bad checksum) into a zone collection. */
async function upload(store: FlowStore, zonePath: string, files: Record<string, string>, wrong: string[] = []): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = `${zonePath}/${name}`;
    const dir = path.slice(0, path.lastIndexOf('/'));
    if ((await store.stat(dir))?.type !== 'collection') await store.createCollection(dir, { parents: true });
    await store.putObject(path, bytes(content));
    const sum = wrong.includes(name) ? md5(`${content} (not what was uploaded)`) : md5(content);
    await store.putObject(`${path}.md5`, bytes(`${sum}  ${name.split('/').pop()}\n`));
  }
}

/** Runs the story against a running site and service. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const { admin, store, print } = opts;
  const timeout = opts.zoneTimeoutMs ?? 60_000;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '_');
  let step = 0;
  const say = (text: string): void => print(`[${String(++step).padStart(2, ' ')}] ${text}`);

  const category = await admin.post('project/api/create', { title: `Demo category ${stamp}`, type: 'CATEGORY', description: 'Created by taskflow demo' });
  say(`Created category "${String(category.title)}" (${String(category.sodar_uuid)})`);

  const project = await admin.post('project/api/create', {
    title: 'Demo project',
    type: 'PROJECT',
    parent: category.sodar_uuid,
    description: 'A project in the demo category',
  });
  const projectUuid = String(project.sodar_uuid);
  say(`Created project "${String(project.title)}" (${projectUuid}) in the category: collections and group made in the store`);

  const username = `demo_${stamp.toLowerCase()}`;
  const user = await admin.post('project/api/users/create', { username, name: 'Demo Contributor', email: `${username}@example.com` });
  const role = await admin.post(`project/api/roles/create/${projectUuid}`, { role: ROLE_CONTRIBUTOR, user: user.sodar_uuid });
  say(`Added user "${username}" as ${String(role.role)}`);
  const contributor = new SiteApi(admin.baseUrl, String(user.token));

  const sheet = await admin.post(`samplesheets/api/create/${projectUuid}`, {
    title: 'Demo investigation',
    studies: [{ title: 'Demo study', assays: [{ title: 'Demo assay' }] }],
  });
  const study = Object.values(sheet.studies as Record<string, Json>)[0];
  const assay = Object.values(study.assays as Record<string, Json>)[0];
  const assayUuid = String(assay.sodar_uuid);
  const assayPath = String(assay.path);
  say(`Imported a sample sheet: study "${String(study.title)}", assay "${String(assay.title)}" at ${assayPath}`);

  const colls = await admin.post<Json>(`samplesheets/api/irods/collections/create/${projectUuid}`);
  say(`Created the sample sheet collections: ${(colls.collections as string[]).join(', ')}`);

  const newZone = async (title: string): Promise<Json> => {
    const created = await contributor.post(`landingzones/api/create/${projectUuid}`, { assay: assayUuid, title, description: `Demo zone ${title}` });
    const zone = await contributor.waitZone(String(created.sodar_uuid), ['ACTIVE', 'NOT CREATED'], timeout);
    expect(zone.status === 'ACTIVE', `zone ${String(zone.title)} ended ${String(zone.status)}: ${String(zone.status_info)}`);
    return zone;
  };

  const zone = await newZone('upload');
  const zonePath = String(zone.irods_path);
  expect(zonePath === landingZonePath(opts.layout, projectUuid, { userName: username, assayPath, zoneTitle: String(zone.title) }), `unexpected zone path ${zonePath}`);
  say(`Created landing zone "${String(zone.title)}" for ${username}: ${String(zone.status)} at ${zonePath}`);

  const files = { 'reads_R1.fastq': '@r1\nACGT\n+\nIIII\n', 'reads_R2.fastq': '@r2\nTGCA\n+\nIIII\n', 'results/report.txt': 'all good\n' };
  await upload(store, zonePath, files);
  say(`Uploaded ${Object.keys(files).length} files with .md5 companions into the zone`);

  await contributor.post(`landingzones/api/submit/validate/${String(zone.sodar_uuid)}`);
  const validated = await contributor.waitZone(String(zone.sodar_uuid), ['ACTIVE', 'FAILED'], timeout);
  expect(validated.status === 'ACTIVE', `validation ended ${String(validated.status)}: ${String(validated.status_info)}`);
  say(`Validated the zone: ${String(validated.status)} (${String(validated.status_info)})`);

  await contributor.post(`landingzones/api/submit/move/${String(zone.sodar_uuid)}`);
  const moved = await contributor.waitZone(String(zone.sodar_uuid), ['MOVED', 'FAILED'], timeout);
  expect(moved.status === 'MOVED', `move ended ${String(moved.status)}: ${String(moved.status_info)}`);
  say(`Moved the zone into sample data: ${String(moved.status)} (${String(moved.status_info)})`);

  const samples = sampleDataPath(opts.layout, projectUuid, assayPath);
  const sampleFiles = await store.listObjectPaths(samples, { relative: true });
  expect(Object.keys(files).every((f) => sampleFiles.includes(f)), `sample data lacks uploaded files: ${sampleFiles.join(', ')}`);
  say(`Sample data of the assay now holds: ${sampleFiles.join(', ')}`);

  const events = await admin.waitEventsEnded(projectUuid, 'zone_move', timeout);
  say(`Timeline: ${events.map((e) => `${String(e.event_name)}=${String(e.status_type)}`).join(', ')}`);

  const finalZone = await contributor.get(`landingzones/api/retrieve/${String(zone.sodar_uuid)}`);
  expect(finalZone.status === 'MOVED', `zone status is ${String(finalZone.status)}`);
  say(`Zone "${String(finalZone.title)}" status: ${String(finalZone.status)}`);

  const bad = await newZone('bad_checksum');
  const badPath = String(bad.irods_path);
  const badFiles = { 'sample_ok.txt': 'fine\n', 'sample_bad.txt': 'corrupted in transit\n' };
  await upload(store, badPath, badFiles, ['sample_bad.txt']);
  say(`Created zone "${String(bad.title)}" and uploaded ${Object.keys(badFiles).length} files, one with a wrong checksum`);
  await contributor.post(`landingzones/api/submit/move/${String(bad.sodar_uuid)}`);
  const failed = await contributor.waitZone(String(bad.sodar_uuid), ['MOVED', 'FAILED'], timeout);
  expect(failed.status === 'FAILED', `the bad move ended ${String(failed.status)} instead of FAILED`);
  await admin.waitEventsEnded(projectUuid, 'zone_move', timeout);
  const left = await store.listObjectPaths(badPath, { relative: true });
  expect(Object.keys(badFiles).every((f) => left.includes(f)), `files missing from the failed zone: ${left.join(', ')}`);
  say(`Failing move ended ${String(failed.status)}: ${String(failed.status_info)}`);
  say(`Files left in the zone: ${left.join(', ')}`);

  return {
    categoryUuid: String(category.sodar_uuid),
    projectUuid,
    contributor: { username, uuid: String(user.sodar_uuid), token: String(user.token) },
    movedZoneUuid: String(zone.sodar_uuid),
    failedZoneUuid: String(bad.sodar_uuid),
    sampleFiles,
    filesLeftInFailedZone: left,
  };
}
