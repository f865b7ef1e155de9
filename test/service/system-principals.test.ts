/**
 * iRODS's own principals (`rods`, `rodsadmin`, `public`, `client_user`) and
 * project groups are never a flow's user: every field naming a user refuses
 * them with 400 `Error validating flow: ...` naming the field, and nothing
 * changes in the store. (Before, `user_name: "rods"` on a zone move lowered
 * the admin's own access to read.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceFixture, type ServiceFixture } from '../support/service-harness.js';
import { projectCreateBody, roleUpdateBody, zoneCreateBody, zoneMoveBody } from '../support/service-flows.js';
import { createZone, defaultZone } from '../support/service-zone.js';

const PROJECT = 'abab0000-0000-4000-8000-000000000013';
const GROUP = `omics_project_${PROJECT}`;

let fx: ServiceFixture;
beforeAll(async () => {
  fx = await startServiceFixture();
  await createZone(fx.service.url, fx.site, PROJECT, defaultZone());
});
afterAll(async () => {
  await fx?.close();
});

type Body = Record<string, unknown> & { flow_data: Record<string, unknown> };

/** Submits that name `who` in one user field each, with the field's name as flow_data shows it. */
function submits(who: string): Array<[string, Body]> {
  const url = fx.site.url;
  const zone = defaultZone();
  const move = zoneMoveBody(PROJECT, url, zone) as Body;
  const create = zoneCreateBody(PROJECT, url, { ...zone, zoneTitle: 'other_zone' }) as Body;
  const role = roleUpdateBody(PROJECT, url, who) as Body;
  const update: Body = {
    ...projectCreateBody(PROJECT, url),
    flow_name: 'project_update',
    flow_data: {
      project_title: 'Zone project',
      parent_uuid: 'c0000000-0000-4000-8000-00000000cafe',
      owner_username: 'owner_user',
      owner_uuid: 'uuid-owner_user',
      owner_role_pk: 1,
      old_owner_username: 'owner_user',
      old_owner_uuid: 'uuid-owner_user',
      settings: {},
    },
  };
  const batch: Body = { ...role, project_uuid: 'None', flow_name: 'role_update_irods_batch', flow_data: { roles_add: [], roles_delete: [] } };
  return [
    ['user_name', { ...move, flow_data: { ...move.flow_data, user_name: who } }],
    ['script_user', { ...move, flow_data: { ...move.flow_data, script_user: who } }],
    ['user_name', { ...create, flow_data: { ...create.flow_data, user_name: who } }],
    ['script_user', { ...create, flow_data: { ...create.flow_data, script_user: who } }],
    ['username', role],
    ['username', { ...role, flow_name: 'role_delete' }],
    ['owner_username', { ...update, flow_data: { ...update.flow_data, owner_username: who } }],
    ['old_owner_username', { ...update, flow_data: { ...update.flow_data, old_owner_username: who } }],
    ['roles_add[0].username', { ...update, flow_data: { ...update.flow_data, roles_add: [{ project_uuid: PROJECT, username: who }] } }],
    ['roles_delete[0].username', { ...update, flow_data: { ...update.flow_data, roles_delete: [{ project_uuid: PROJECT, username: who }] } }],
    ['roles_delete[0].username', { ...batch, flow_data: { roles_add: [], roles_delete: [{ project_uuid: PROJECT, username: who }] } }],
    ['owner_username', { ...role, flow_name: 'role_sync_delete_all', flow_data: { owner_username: who } }],
  ];
}

describe('system principals as flow users', () => {
  for (const who of ['rods', 'rodsadmin', 'public', 'client_user', GROUP]) {
    it(`refuses "${who}" in every user field, changing nothing`, async () => {
      const store = await fx.service.store();
      const before = await store.dump();
      for (const [field, body] of submits(who)) {
        const res = await fx.submit(body);
        expect({ field, status: res.status }).toEqual({ field, status: 400 });
        expect(res.body).toMatch(/^Error validating flow: /);
        expect(res.body).toContain(`Invalid ${field} "${who}"`);
      }
      expect(await store.dump()).toEqual(before);
    });
  }

  it('still accepts ordinary user names in those fields', async () => {
    const res = await fx.submit(roleUpdateBody(PROJECT, fx.site.url, 'rods_fan'));
    expect(res.status).toBe(200);
  });
});
