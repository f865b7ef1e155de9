/**
 * One prepared world per flow: what exists before the flow runs, the submit,
 * and what the flow must have changed. Shared by the effect, rollback and
 * crash tests, so every flow is exercised the same ways.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import type { Json } from '../../src/engine/types.js';
import {
  landingZonePath,
  landingZoneRoot,
  projectGroup,
  projectPath,
  sampleDataPath,
  userZonesPath,
} from '../../src/flows/layout.js';
import { ZoneAtStart, ZoneInfo, ZoneStatus } from '../../src/flows/zone-status.js';
import type { FlowInput } from '../../src/flows/types.js';
import { makeInput, runInput, uuid, type Snapshot, type World } from './harness.js';

export const P1 = uuid(1);
export const P2 = uuid(2);
export const OWNER = { user_uuid: uuid(10, 'b'), username: 'owner_user' };
export const ALICE = { user_uuid: uuid(11, 'b'), username: 'alice' };
export const BOB = { user_uuid: uuid(12, 'b'), username: 'bob' };
export const ZONE_UUID = uuid(20, 'c');
export const ASSAY = 'study_s1/assay_a1';

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Stores `content` as a new object (creating missing collections). */
export async function put(w: World, path: string, content: string): Promise<void> {
  await w.store.createCollection(path.slice(0, path.lastIndexOf('/')), { parents: true });
  await w.store.putObject(path, Readable.from([Buffer.from(content)]));
}

export function layoutBase(w: World) {
  return { zone: w.store.zone, rootPath: w.config.irodsRootPath };
}

export async function ok(w: World, input: FlowInput): Promise<void> {
  const r = await runInput(w, input);
  if (r.status !== 'completed') throw new Error(`${input.flowName} failed: ${r.error}`);
}

/** A project as project_create makes it, with its site side. */
export async function createProject(w: World, project = P1): Promise<void> {
  w.site.seedProject({ project_uuid: uuid(99, 'd'), type: 'CATEGORY', title: 'Category' });
  w.site.seedProject({ project_uuid: project, title: 'Project One', parent_uuid: uuid(99, 'd') });
  for (const u of [OWNER, ALICE, BOB]) w.site.seedUser(u);
  await ok(w, makeInput(w, 'project_create', project, projectCreateData()));
}

export function projectCreateData(): Record<string, Json> {
  return {
    project_title: 'Project One',
    project_description: 'A test project',
    parent_uuid: uuid(99, 'd'),
    owner_username: OWNER.username,
    owner_uuid: OWNER.user_uuid,
    owner_role_pk: 1,
    roles_add: [{ username: 'category_owner' }],
    settings: { 'settings.projectroles.ip_restrict': true },
  };
}

export async function createSheet(w: World, project = P1): Promise<void> {
  w.site.seedSheet({ project_uuid: project });
  await ok(w, makeInput(w, 'sheet_colls_create', project, { colls: ['study_s1', ASSAY] }));
}

export function zoneData(extra: Record<string, Json> = {}): Record<string, Json> {
  return {
    zone_title: '20261126_zone',
    zone_uuid: ZONE_UUID,
    user_name: ALICE.username,
    user_uuid: ALICE.user_uuid,
    assay_path: ASSAY,
    colls: ['raw', 'raw/lane1'],
    description: 'my zone',
    script_user: SCRIPT_USER,
    ...extra,
  };
}

export function zonePath(w: World, project = P1): string {
  return landingZonePath(layoutBase(w), project, { userName: ALICE.username, assayPath: ASSAY, zoneTitle: '20261126_zone' });
}

export async function createZone(w: World, project = P1): Promise<void> {
  w.site.seedZone({ zone_uuid: ZONE_UUID, project_uuid: project, status: ZoneStatus.CREATING, status_info: ZoneInfo.creating });
  await ok(w, makeInput(w, 'landing_zone_create', project, zoneData()));
}

/** The zone as a site leaves it when it submits a move or a delete ({@link ZoneAtStart}). */
export function zoneSubmitted(w: World, flow: 'landing_zone_move' | 'landing_zone_delete', validateOnly = false): void {
  const { status, info } = flow === 'landing_zone_move' ? ZoneAtStart.move(validateOnly) : ZoneAtStart.delete;
  w.site.seedZone({ zone_uuid: ZONE_UUID, project_uuid: P1, status, status_info: info });
}

/** Uploads files into the zone, each with its `.md5` unless listed in `noMd5`. */
export async function putZoneFiles(w: World, files: Record<string, string>, opts: { noMd5?: string[] } = {}): Promise<void> {
  const zone = zonePath(w);
  for (const [rel, content] of Object.entries(files)) {
    await put(w, `${zone}/${rel}`, content);
    if (!opts.noMd5?.includes(rel)) await put(w, `${zone}/${rel}.md5`, `${md5(content)}  ${rel.split('/').pop()}\n`);
  }
}

export const ZONE_FILES = { 'raw/lane1/a.fastq': 'AAAA\n', 'raw/b.fastq': 'BBBB\n', 'c.txt': 'c' };

export interface Scenario {
  name: string;
  flow: string;
  /** Prepares the world and returns the submit. */
  setup(w: World): Promise<FlowInput>;
  /** Checks the flow's effect, given the state before it. */
  check(w: World, before: Snapshot): Promise<void>;
}

const has = (dump: string[], text: string) => dump.some((l) => l.includes(text));

export const scenarios: Scenario[] = [
  {
    name: 'project_create',
    flow: 'project_create',
    async setup(w) {
      w.site.seedProject({ project_uuid: P1, title: 'Project One' });
      w.site.seedUser(OWNER);
      return makeInput(w, 'project_create', P1, projectCreateData());
    },
    async check(w) {
      const path = projectPath(layoutBase(w), P1);
      expect((await w.store.stat(path))?.type === 'collection').toBe(true);
      const meta = await w.store.getMetadata(path);
      expect(meta).toEqual(
        expect.arrayContaining([
          { attribute: 'title', value: 'Project One', unit: '' },
          { attribute: 'description', value: 'A test project', unit: '' },
          { attribute: 'parent_uuid', value: uuid(99, 'd'), unit: '' },
        ]),
      );
      expect((await w.store.getAccessMany([path], projectGroup(P1)))[0]).toBe('read');
      expect((await w.store.groupMembers(projectGroup(P1))).sort()).toEqual(['category_owner', OWNER.username]);
      const site = w.site.state();
      expect(site.roles[`${P1}/${OWNER.user_uuid}`]).toMatchObject({ role_pk: 1, role_name: 'project owner' });
      expect(site.settings[P1]['projectroles.ip_restrict']).toBe(true);
    },
  },
  {
    name: 'project_update with owner change',
    flow: 'project_update',
    async setup(w) {
      await createProject(w);
      w.site.seedRole(P1, ALICE.user_uuid, 2);
      // a real site refuses an unknown parent (404)
      w.site.seedProject({ project_uuid: uuid(98, 'd'), type: 'CATEGORY', title: 'New category' });
      return makeInput(w, 'project_update', P1, {
        project_title: 'Renamed',
        project_description: '',
        project_readme: 'Read me',
        public_guest_access: true,
        parent_uuid: uuid(98, 'd'),
        owner_username: ALICE.username,
        owner_uuid: ALICE.user_uuid,
        owner_role_pk: 1,
        old_owner_username: OWNER.username,
        old_owner_uuid: OWNER.user_uuid,
        roles_add: [{ username: 'new_category_owner' }],
        roles_delete: [{ username: 'category_owner' }],
        settings: { 'settings.projectroles.ip_restrict': false, 'settings.samplesheets.sheet_config': { x: [1] } },
      });
    },
    async check(w) {
      const path = projectPath(layoutBase(w), P1);
      const meta = await w.store.getMetadata(path);
      expect(meta.find((a) => a.attribute === 'title')?.value).toBe('Renamed');
      expect(meta.find((a) => a.attribute === 'description')).toBeUndefined();
      expect((await w.store.groupMembers(projectGroup(P1))).sort()).toEqual([ALICE.username, 'new_category_owner']);
      const site = w.site.state();
      expect(site.projects[P1]).toMatchObject({ title: 'Renamed', description: '', readme: 'Read me', public_guest_access: true });
      expect(site.roles[`${P1}/${ALICE.user_uuid}`].role_pk).toBe(1);
      expect(site.roles[`${P1}/${OWNER.user_uuid}`]).toBeUndefined();
      expect(site.settings[P1]['samplesheets.sheet_config']).toEqual({ x: [1] });
    },
  },
  {
    // an owner transfer to the inherited category owner, as the site sends it: the new owner leaves the
    // inherited roles (roles_delete), the old owner keeps a role (roles_add)
    name: 'project_update with the new owner in roles_delete',
    flow: 'project_update',
    async setup(w) {
      await createProject(w);
      const categoryOwner = { user_uuid: uuid(13, 'b'), username: 'category_owner' };
      w.site.seedUser(categoryOwner);
      return makeInput(w, 'project_update', P1, {
        project_title: 'Project One',
        parent_uuid: uuid(99, 'd'),
        owner_username: categoryOwner.username,
        owner_uuid: categoryOwner.user_uuid,
        owner_role_pk: 1,
        old_owner_username: OWNER.username,
        old_owner_uuid: OWNER.user_uuid,
        roles_add: [{ project_uuid: P1, username: OWNER.username }],
        roles_delete: [{ project_uuid: P1, username: categoryOwner.username }, { project_uuid: P1, username: OWNER.username }],
        settings: {},
      });
    },
    async check(w) {
      expect((await w.store.groupMembers(projectGroup(P1))).sort()).toEqual(['category_owner', OWNER.username]);
      expect(w.site.state().roles[`${P1}/${uuid(13, 'b')}`].role_pk).toBe(1);
    },
  },
  {
    name: 'role_update',
    flow: 'role_update',
    async setup(w) {
      await createProject(w);
      return makeInput(w, 'role_update', P1, { username: ALICE.username, user_uuid: ALICE.user_uuid, role_pk: 3 });
    },
    async check(w) {
      expect(await w.store.groupMembers(projectGroup(P1))).toContain(ALICE.username);
      expect(w.site.state().roles[`${P1}/${ALICE.user_uuid}`].role_pk).toBe(3);
    },
  },
  {
    name: 'role_delete',
    flow: 'role_delete',
    async setup(w) {
      await createProject(w);
      await ok(w, makeInput(w, 'role_update', P1, { username: ALICE.username, user_uuid: ALICE.user_uuid, role_pk: 3 }));
      // entries naming the user directly: their landing zone, and a file moved before sample data dropped them
      await createSheet(w);
      await createZone(w);
      await putZoneFiles(w, ZONE_FILES);
      await w.store.setAccess(`${zonePath(w)}/c.txt`, ALICE.username, 'write');
      const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
      await put(w, `${sample}/old.txt`, 'old');
      await w.store.setAccess(`${sample}/old.txt`, ALICE.username, 'read');
      await w.store.createPrincipal(BOB.username, 'rodsuser');
      await w.store.setAccess(`${sample}/old.txt`, BOB.username, 'read');
      return makeInput(w, 'role_delete', P1, { username: ALICE.username, user_uuid: ALICE.user_uuid, role_pk: 3 });
    },
    async check(w) {
      const project = projectPath(layoutBase(w), P1);
      expect((await aclNames(w, project)).filter((n) => n.startsWith(`${ALICE.username}:`))).toEqual([]);
      // others' entries stay
      expect((await w.store.getAccessMany([`${sampleDataPath(layoutBase(w), P1, ASSAY)}/old.txt`], BOB.username))[0]).toBe('read');
      expect((await w.store.getAccessMany([zonePath(w)], SCRIPT_USER))[0]).toBe('write');
      expect(await w.store.groupMembers(projectGroup(P1))).not.toContain(ALICE.username);
      expect(await w.store.getPrincipal(ALICE.username)).not.toBeNull();
      expect(w.site.state().roles[`${P1}/${ALICE.user_uuid}`]).toBeUndefined();
    },
  },
  {
    name: 'role_sync_delete_all',
    flow: 'role_sync_delete_all',
    async setup(w) {
      await createProject(w);
      for (const u of [ALICE, BOB]) {
        await ok(w, makeInput(w, 'role_update', P1, { username: u.username, user_uuid: u.user_uuid, role_pk: 3 }));
      }
      return makeInput(w, 'role_sync_delete_all', P1, { owner_username: OWNER.username });
    },
    async check(w, before) {
      expect(await w.store.groupMembers(projectGroup(P1))).toEqual([OWNER.username]);
      expect(w.site.state()).toEqual(before.site);
    },
  },
  {
    name: 'role_update_irods_batch',
    flow: 'role_update_irods_batch',
    async setup(w) {
      await createProject(w, P1);
      await createProject(w, P2);
      return makeInput(w, 'role_update_irods_batch', 'None', {
        roles_add: [
          { project_uuid: P1, username: 'cat_owner' },
          { project_uuid: P2, username: 'cat_owner' },
        ],
        roles_delete: [{ project_uuid: P2, username: 'category_owner' }],
      });
    },
    async check(w) {
      expect(await w.store.groupMembers(projectGroup(P1))).toContain('cat_owner');
      expect(await w.store.groupMembers(projectGroup(P2))).toContain('cat_owner');
      expect(await w.store.groupMembers(projectGroup(P2))).not.toContain('category_owner');
      expect(await w.store.groupMembers(projectGroup(P1))).toContain('category_owner');
    },
  },
  {
    name: 'public_access_update',
    flow: 'public_access_update',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      await put(w, `${sampleDataPath(layoutBase(w), P1, ASSAY)}/x.txt`, 'x');
      return makeInput(w, 'public_access_update', P1, { path: sampleDataPath(layoutBase(w), P1), access: true });
    },
    async check(w) {
      expect((await w.store.getAccessMany([sampleDataPath(layoutBase(w), P1)], 'public'))[0]).toBe('read');
      expect((await w.store.getAccessMany([`${sampleDataPath(layoutBase(w), P1, ASSAY)}/x.txt`], 'public'))[0]).toBe('read');
    },
  },
  {
    name: 'sheet_colls_create (public)',
    flow: 'sheet_colls_create',
    async setup(w) {
      await createProject(w);
      w.site.seedSheet({ project_uuid: P1 });
      return makeInput(w, 'sheet_colls_create', P1, { colls: ['study_s1', ASSAY, 'study_s2/assay_a2'], public_guest_access: true });
    },
    async check(w) {
      const sample = sampleDataPath(layoutBase(w), P1);
      expect((await w.store.stat(sample))?.inherit).toBe(true);
      expect((await w.store.stat(`${sample}/study_s2/assay_a2`))?.type === 'collection').toBe(true);
      expect((await w.store.getAccessMany([`${sample}/${ASSAY}`], projectGroup(P1)))[0]).toBe('read');
      expect((await w.store.getAccessMany([`${sample}/${ASSAY}`], 'public'))[0]).toBe('read');
      expect(w.site.state().sheets[P1].dir_status).toBe(true);
    },
  },
  {
    name: 'sheet_delete',
    flow: 'sheet_delete',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      await put(w, `${sampleDataPath(layoutBase(w), P1, ASSAY)}/x.txt`, 'x');
      await createZone(w);
      await putZoneFiles(w, ZONE_FILES);
      return makeInput(w, 'sheet_delete', P1, {});
    },
    async check(w) {
      expect((await w.store.stat(sampleDataPath(layoutBase(w), P1)))?.type === 'collection').toBe(false);
      expect((await w.store.stat(landingZoneRoot(layoutBase(w), P1)))?.type === 'collection').toBe(false);
      expect(has(await w.store.dump(), '/trash/')).toBe(true);
      expect(w.site.state().sheets[P1]).toBeUndefined();
    },
  },
  {
    name: 'landing_zone_create',
    flow: 'landing_zone_create',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      w.site.seedZone({ zone_uuid: ZONE_UUID, project_uuid: P1, status: ZoneStatus.CREATING, status_info: ZoneInfo.creating });
      return makeInput(w, 'landing_zone_create', P1, zoneData());
    },
    async check(w) {
      const zone = zonePath(w);
      const root = landingZoneRoot(layoutBase(w), P1);
      expect((await w.store.getAccessMany([root], projectGroup(P1)))[0]).toBe('read');
      expect((await w.store.getAccessMany([userZonesPath(layoutBase(w), P1, ALICE.username)], ALICE.username))[0]).toBe('read');
      expect((await w.store.getAccessMany([zone], ALICE.username))[0]).toBe('own');
      expect((await w.store.getAccessMany([zone], 'script_runner'))[0]).toBe('write');
      expect((await w.store.stat(zone))?.inherit).toBe(true);
      expect((await w.store.getAccessMany([`${zone}/raw/lane1`], ALICE.username))[0]).toBe('own');
      expect(await w.store.getMetadata(zone)).toEqual([{ attribute: 'description', value: 'my zone', unit: '' }]);
      expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'ACTIVE', status_info: ZoneInfo.active });
    },
  },
  {
    name: 'landing_zone_delete',
    flow: 'landing_zone_delete',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      await createZone(w);
      await putZoneFiles(w, ZONE_FILES);
      zoneSubmitted(w, 'landing_zone_delete');
      return makeInput(w, 'landing_zone_delete', P1, {
        zone_title: '20261126_zone',
        zone_uuid: ZONE_UUID,
        assay_path: ASSAY,
        user_name: ALICE.username,
      });
    },
    async check(w) {
      expect((await w.store.stat(zonePath(w)))?.type === 'collection').toBe(false);
      expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'DELETED', status_info: ZoneInfo.deleted });
    },
  },
  {
    name: 'landing_zone_move',
    flow: 'landing_zone_move',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      await createZone(w);
      await putZoneFiles(w, ZONE_FILES);
      // levels that differ from the rest, which a revert must put back exactly
      await w.store.setAccess(`${zonePath(w)}/raw/b.fastq`, SCRIPT_USER, 'own');
      await w.store.setAccess(`${zonePath(w)}/c.txt`, ALICE.username, 'write');
      // a file moved before the zone user's access was removed from sample data
      const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
      await put(w, `${sample}/old/legacy.txt`, 'legacy');
      await w.store.setAccess(`${sample}/old/legacy.txt`, ALICE.username, 'read');
      await w.store.setAccess(`${sample}/old`, SCRIPT_USER, 'write');
      zoneSubmitted(w, 'landing_zone_move');
      return makeInput(w, 'landing_zone_move', P1, moveData({ script_user: SCRIPT_USER }));
    },
    async check(w) {
      const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
      for (const rel of Object.keys(ZONE_FILES)) {
        expect((await w.store.stat(`${sample}/${rel}`))?.type === 'object').toBe(true);
        expect((await w.store.stat(`${sample}/${rel}.md5`))?.type === 'object').toBe(true);
        expect((await w.store.getAccessMany([`${sample}/${rel}`], projectGroup(P1)))[0]).toBe('read');
      }
      // nothing on sample data names the zone user or the script user
      expect(await aclNames(w, sample)).toEqual([`${projectGroup(P1)}:read`, 'rods:own']);
      expect((await w.store.stat(zonePath(w)))?.type === 'collection').toBe(false);
      expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'MOVED', status_info: ZoneInfo.moved(3) });
    },
  },
  {
    name: 'landing_zone_move (validate_only)',
    flow: 'landing_zone_move',
    async setup(w) {
      await createProject(w);
      await createSheet(w);
      await createZone(w);
      await putZoneFiles(w, ZONE_FILES);
      zoneSubmitted(w, 'landing_zone_move', true);
      return makeInput(w, 'landing_zone_move', P1, moveData({ validate_only: true }));
    },
    async check(w, before) {
      expect(await w.store.dump()).toEqual(before.store);
      expect(w.site.state().zones[ZONE_UUID]).toMatchObject({ status: 'ACTIVE', status_info: ZoneInfo.validated(3) });
    },
  },
  {
    name: 'data_delete',
    flow: 'data_delete',
    async setup(w) {
      const sample = await sampleDataWith(w, { 'x.txt': 'x', 'sub/y.txt': 'y', 'keep.txt': 'k' });
      return makeInput(w, 'data_delete', P1, { paths: [`${sample}/x.txt`, `${sample}/sub`, `${sample}/sub/y.txt`] });
    },
    async check(w) {
      const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
      expect((await w.store.stat(`${sample}/x.txt`))?.type === 'object').toBe(false);
      expect((await w.store.stat(`${sample}/sub`))?.type === 'collection').toBe(false);
      expect((await w.store.stat(`${sample}/keep.txt`))?.type === 'object').toBe(true);
    },
  },
  {
    // an earlier trash emptied for good (as `irmtrash` leaves it) keeps its collections: a rollback leaves them too
    name: 'data_delete into a trash holding empty collections',
    flow: 'data_delete',
    async setup(w) {
      const sample = await sampleDataWith(w, { 'x.txt': 'x' });
      await w.store.createCollection(`/${w.store.zone}/trash/home/rods/projects`, { parents: true });
      return makeInput(w, 'data_delete', P1, { paths: [`${sample}/x.txt`] });
    },
    async check(w) {
      const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
      expect(await w.store.stat(`${sample}/x.txt`)).toBeNull();
      expect((await w.store.stat(`/${w.store.zone}/trash/home/rods/projects`))?.type).toBe('collection');
    },
  },
];

/** Project P1 with its sheet's collections and `files` (name: content) in the assay's sample data; returns that path. */
async function sampleDataWith(w: World, files: Record<string, string>): Promise<string> {
  await createProject(w);
  await createSheet(w);
  const sample = sampleDataPath(layoutBase(w), P1, ASSAY);
  for (const [name, content] of Object.entries(files)) await put(w, `${sample}/${name}`, content);
  return sample;
}

/** The script user of the scenarios' zone. */
export const SCRIPT_USER = 'script_runner';

/** Every distinct `name:level` in the ACLs of `path` and everything below it, sorted. */
export async function aclNames(w: World, path: string): Promise<string[]> {
  const dump = await w.store.dump();
  const acl = dump.map((l) => JSON.parse(l)).filter((o) => o.t === 'acl' && (o.path === path || o.path.startsWith(`${path}/`)));
  return [...new Set(acl.map((o) => `${o.name}:${o.level}`))].sort();
}

export function moveData(extra: Record<string, Json> = {}): Record<string, Json> {
  return {
    zone_title: '20261126_zone',
    zone_uuid: ZONE_UUID,
    assay_path_zone: ASSAY,
    assay_path_samples: ASSAY,
    user_name: ALICE.username,
    ...extra,
  };
}
