/**
 * Validation: required fields (missing or empty string fails, empty lists
 * pass), types, request modes, names and the path-in-project rule; lock needs.
 * A refused submit touches nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Json } from '../../src/engine/types.js';
import { FlowValidationError, getFlow } from '../../src/flows/index.js';
import { projectPath, sampleDataPath } from '../../src/flows/layout.js';
import { makeInput, openWorld, snapshot, uuid, type World } from './harness.js';
import { P1, P2, createProject, createSheet, layoutBase, moveData, projectCreateData, zoneData } from './scenarios.js';

let w: World;
beforeEach(async () => {
  w = await openWorld();
});
afterEach(async () => w.close());

/** Minimal valid flow data per flow (project P1). */
function validData(w: World): Record<string, Record<string, Json>> {
  const sample = sampleDataPath(layoutBase(w), P1);
  return {
    project_create: projectCreateData(),
    project_update: {
      project_title: 't',
      parent_uuid: 'p',
      owner_username: 'o',
      owner_uuid: 'ou',
      owner_role_pk: 1,
      old_owner_username: 'o',
      old_owner_uuid: 'ou',
      settings: {},
    },
    role_update: { username: 'u', user_uuid: 'uu', role_pk: 3 },
    role_delete: { username: 'u', user_uuid: 'uu', role_pk: 3 },
    role_sync_delete_all: { owner_username: 'o' },
    role_update_irods_batch: { roles_add: [], roles_delete: [] },
    public_access_update: { path: sample, access: true },
    sheet_colls_create: { colls: [] },
    sheet_delete: {},
    landing_zone_create: zoneData(),
    landing_zone_delete: { zone_title: 'z', zone_uuid: 'zu', assay_path: 'a', user_name: 'u' },
    landing_zone_move: moveData(),
    data_delete: { paths: [] },
  };
}

const REQUIRED: Record<string, string[]> = {
  project_create: ['project_title', 'parent_uuid', 'owner_username', 'owner_uuid', 'owner_role_pk'],
  project_update: [
    'project_title',
    'parent_uuid',
    'owner_username',
    'owner_uuid',
    'owner_role_pk',
    'old_owner_username',
    'old_owner_uuid',
    'settings',
  ],
  role_update: ['username', 'user_uuid', 'role_pk'],
  role_delete: ['username', 'user_uuid', 'role_pk'],
  role_sync_delete_all: ['owner_username'],
  role_update_irods_batch: ['roles_add', 'roles_delete'],
  public_access_update: ['path', 'access'],
  sheet_colls_create: ['colls'],
  sheet_delete: [],
  landing_zone_create: ['zone_title', 'zone_uuid', 'user_name', 'user_uuid', 'assay_path', 'colls'],
  landing_zone_delete: ['zone_title', 'zone_uuid', 'assay_path', 'user_name'],
  landing_zone_move: ['zone_title', 'zone_uuid', 'assay_path_zone', 'assay_path_samples', 'user_name'],
  data_delete: ['paths'],
};

const ASYNC = ['landing_zone_create', 'landing_zone_delete', 'landing_zone_move', 'data_delete'];

function projectOf(flow: string): string {
  return flow === 'role_update_irods_batch' ? 'None' : P1;
}

async function refused(flow: string, data: Record<string, Json>, opts: Parameters<typeof makeInput>[4] = {}) {
  const input = makeInput(w, flow, opts.projectUuid ?? projectOf(flow), data, opts);
  return getFlow(flow)!.validate(input, w.deps).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('validation', () => {
  it('accepts the minimal valid data of every flow (empty lists included)', async () => {
    const data = validData(w);
    for (const flow of Object.keys(REQUIRED)) expect(await refused(flow, data[flow]), flow).toBeUndefined();
  });

  it('refuses every required field missing, null or an empty string', async () => {
    const data = validData(w);
    for (const [flow, fields] of Object.entries(REQUIRED)) {
      for (const field of fields) {
        for (const bad of [undefined, null, '']) {
          const d = { ...data[flow] };
          if (bad === undefined) delete d[field];
          else d[field] = bad;
          const err = await refused(flow, d);
          expect(err, `${flow}.${field}=${String(bad)}`).toBeInstanceOf(FlowValidationError);
          expect((err as FlowValidationError).message).toBe(`Missing or empty field "${field}" in flow_data`);
        }
      }
    }
  });

  it('refuses async for sync-only flows and accepts it where allowed', async () => {
    const data = validData(w);
    for (const flow of Object.keys(REQUIRED)) {
      const err = await refused(flow, data[flow], { requestMode: 'async' });
      if (ASYNC.includes(flow)) expect(err, flow).toBeUndefined();
      else expect((err as Error).message).toBe(`Request mode "async" not supported by flow "${flow}"`);
    }
  });

  it('refuses wrong types', async () => {
    expect(await refused('role_update', { username: 'u', user_uuid: 'uu', role_pk: 'owner' })).toBeInstanceOf(FlowValidationError);
    expect(await refused('data_delete', { paths: 'not-a-list' })).toBeInstanceOf(FlowValidationError);
    expect(await refused('data_delete', { paths: [1] })).toBeInstanceOf(FlowValidationError);
    expect(await refused('public_access_update', { path: '/x', access: 'maybe' })).toBeInstanceOf(FlowValidationError);
    expect(await refused('project_update', { ...validData(w).project_update, settings: [] })).toBeInstanceOf(
      FlowValidationError,
    );
    expect(await refused('role_update_irods_batch', { roles_add: [{ username: 'u' }], roles_delete: [] })).toBeInstanceOf(
      FlowValidationError,
    );
  });

  it('refuses names that would break paths', async () => {
    for (const name of ['../x', 'a/b', '.', '..', 'a\u0000b']) {
      expect(await refused('role_update', { username: name, user_uuid: 'uu', role_pk: 3 }), name).toBeInstanceOf(
        FlowValidationError,
      );
      expect(await refused('landing_zone_create', zoneData({ zone_title: name })), name).toBeInstanceOf(FlowValidationError);
    }
    expect(await refused('landing_zone_create', zoneData({ assay_path: 'a/../../b' }))).toBeInstanceOf(FlowValidationError);
    expect(await refused('landing_zone_create', zoneData({ colls: ['../../escape'] }))).toBeInstanceOf(FlowValidationError);
    expect(await refused('sheet_colls_create', { colls: ['a//b'] })).toBeInstanceOf(FlowValidationError);
    expect(await refused('role_update', { username: 'u', user_uuid: 'uu', role_pk: 3 }, { projectUuid: '../x' })).toBeInstanceOf(
      FlowValidationError,
    );
    expect(await refused('role_update', { username: 'u', user_uuid: 'uu', role_pk: 3 }, { projectUuid: 'None' })).toBeInstanceOf(
      FlowValidationError,
    );
  });

  it('refuses flow_data paths outside the project, touching nothing', async () => {
    await createProject(w, P1);
    await createProject(w, P2);
    await createSheet(w, P1);
    const before = await snapshot(w);
    const project = projectPath(layoutBase(w), P1);
    const other = projectPath(layoutBase(w), P2);
    const zone = `/${w.store.zone}`;
    const tricks = [
      project,
      `${project}/`,
      `${project}/../${P2}`,
      `${project}/sample_data/../../${P2.slice(0, 2)}/${P2}/sample_data`,
      `${project}//sample_data`,
      `${project}/./sample_data`,
      other,
      `${other}/sample_data`,
      zone,
      `${zone}/trash`,
      `${zone}/trash/home/rods`,
      `${zone}/home/rods`,
      `/${w.store.zone}x/projects`,
      `/otherZone${project.slice(zone.length)}/sample_data`,
      'sample_data',
      `${project}x/sample_data`,
      '',
    ];
    for (const path of tricks) {
      const a = await refused('data_delete', { paths: [`${project}/sample_data`, path] });
      expect(a, `data_delete ${JSON.stringify(path)}`).toBeInstanceOf(FlowValidationError);
      const b = await refused('public_access_update', { path, access: true });
      expect(b, `public_access_update ${JSON.stringify(path)}`).toBeInstanceOf(FlowValidationError);
    }
    expect(await refused('data_delete', { paths: [`${project}/sample_data`] })).toBeUndefined();
    expect(await snapshot(w)).toEqual(before);
  });

  it('takes the project lock except where protocol section 5 says not', () => {
    const lock = (flow: string, data: Record<string, Json> = {}) => getFlow(flow)!.needsLock(makeInput(w, flow, P1, data));
    expect(lock('project_create')).toBe(true);
    expect(lock('data_delete')).toBe(true);
    expect(lock('landing_zone_move', moveData())).toBe(true);
    expect(lock('landing_zone_move', moveData({ validate_only: true }))).toBe(false);
    expect(lock('landing_zone_create')).toBe(false);
    expect(lock('landing_zone_delete')).toBe(false);
    expect(lock('role_update_irods_batch')).toBe(false);
    expect(getFlow('data_delete')!.modes).toEqual(['sync', 'async']);
    expect(getFlow('project_create')!.modes).toEqual(['sync']);
    expect(getFlow('nope')).toBeUndefined();
    void uuid;
  });
});
