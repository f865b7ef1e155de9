/**
 * Site authorization as an attacker tries it: each refusal is a 403 that says
 * who may do it, submits nothing and changes no row. The rules follow SODAR
 * Core v0.10.12 (projectroles/rules.py, serializers.py, views_api.py) and
 * sodar-server v0.13.4 (landingzones/rules.py, views_api.py), made stricter
 * where the issue asks: moving a project needs its owner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dumpDb } from '../../src/host/db/index.js';
import { injectSite, type InjectSite } from '../support/host-inject-site.js';

let site: InjectSite;
beforeEach(async () => {
  site = await injectSite();
});
afterEach(async () => {
  await site.close();
});

interface TestUser {
  sodar_uuid: string;
  username: string;
  token: string;
}

/** Every row but the timeline (a refused request may leave no trace there either, but is not asked to). */
const rows = (): Promise<string[]> => dumpDb(site.db, ['timeline_events', 'timeline_statuses']);

async function user(name: string): Promise<TestUser> {
  const res = await site.call('POST', 'project/api/users/create', { username: name });
  expect(res.status).toBe(201);
  return res.json;
}

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await site.call('POST', 'project/api/create', body);
  expect(res.status, res.text).toBe(201);
  return res.json.sodar_uuid;
}

async function grant(project: string, who: TestUser, role: string): Promise<string> {
  const res = await site.call('POST', `project/api/roles/create/${project}`, { role, user: who.sodar_uuid });
  expect(res.status, res.text).toBe(201);
  return res.json.sodar_uuid;
}

async function roleUuid(project: string, username: string): Promise<string> {
  const got = await site.call('GET', `project/api/retrieve/${project}`);
  const role = Object.values(got.json.roles as Record<string, any>).find((r) => r.user.username === username);
  return role.sodar_uuid;
}

/**
 * Category "Cat" (admin) holds project "Proj" owned by olga with dan as
 * delegate; dan owns category "DanCat", a sibling of "Cat" under "Top".
 */
async function world(): Promise<{ top: string; cat: string; proj: string; danCat: string; olga: TestUser; dan: TestUser }> {
  const olga = await user('olga');
  const dan = await user('dan');
  const top = await create({ title: 'Top', type: 'CATEGORY' });
  const cat = await create({ title: 'Cat', type: 'CATEGORY', parent: top });
  const danCat = await create({ title: 'DanCat', type: 'CATEGORY', parent: top, owner: dan.sodar_uuid });
  const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat, owner: olga.sodar_uuid });
  await grant(proj, dan, 'project delegate');
  return { top, cat, proj, danCat, olga, dan };
}

/** The 403 of a project the user may not see, the same whatever it is. */
const BARE_403 = /^You do not have permission to perform this action\.$/;

/** Runs `attempt`, expects a 403 whose detail matches `detail`, and nothing submitted or changed. */
async function refused(attempt: () => Promise<{ status: number; json: any }>, detail: RegExp): Promise<void> {
  const before = await rows();
  const submits = site.backend.submits.length;
  const res = await attempt();
  expect(res.status).toBe(403);
  expect(res.json.detail).toMatch(detail);
  expect(site.backend.submits.length).toBe(submits);
  expect(await rows()).toEqual(before);
}

describe('a delegate cannot take over a project', () => {
  it('refuses a delegate moving the project into a category they own', async () => {
    const { proj, danCat, dan } = await world();
    await refused(
      () => site.call('PATCH', `project/api/update/${proj}`, { parent: danCat }, dan.token),
      /^Only the owner of project "Proj" or a superuser may move it to another category$/,
    );
    // the delegate still updates what delegates may update
    expect((await site.call('PATCH', `project/api/update/${proj}`, { description: 'by dan' }, dan.token)).status).toBe(200);
  });

  it('refuses a delegate moving the project before telling whether the target exists', async () => {
    const { proj, dan } = await world();
    await refused(
      () => site.call('PATCH', `project/api/update/${proj}`, { parent: '00000000-0000-4000-8000-00000000dead' }, dan.token),
      /^Only the owner of project "Proj" or a superuser may move it to another category$/,
    );
  });

  it('refuses a delegate transferring ownership to themselves', async () => {
    const { proj, dan } = await world();
    await refused(
      () => site.call('POST', `project/api/roles/owner-transfer/${proj}`, { new_owner: 'dan', old_owner_role: 'project guest' }, dan.token),
      /^Only the owner of project "Proj" or a superuser may transfer its ownership$/,
    );
  });

  it("refuses a delegate deleting or changing the owner's role", async () => {
    const { proj, dan } = await world();
    const owner = await roleUuid(proj, 'olga');
    await refused(() => site.call('DELETE', `project/api/roles/destroy/${owner}`, undefined, dan.token), /^Only the owner of project "Proj" or a superuser may .*owner/);
    await refused(
      () => site.call('PATCH', `project/api/roles/update/${owner}`, { role: 'project guest' }, dan.token),
      /^Only the owner of project "Proj" or a superuser may .*owner/,
    );
  });

  it('lets the owner move the project only into a category where they may create projects', async () => {
    const { cat, proj, danCat, olga, dan } = await world();
    await refused(() => site.call('PATCH', `project/api/update/${proj}`, { parent: danCat }, olga.token), BARE_403);
    // a guest of the category sees it, so is told what it is and what is missing
    await grant(danCat, olga, 'project guest');
    await refused(
      () => site.call('PATCH', `project/api/update/${proj}`, { parent: danCat }, olga.token),
      /^You may not create projects in category "DanCat": that needs the role of project contributor or above in it$/,
    );
    const inDanCat = await site.call('PATCH', `project/api/roles/update/${await roleUuid(danCat, 'olga')}`, { role: 'project contributor' }, dan.token);
    expect(inDanCat.status).toBe(200);
    const moved = await site.call('PATCH', `project/api/update/${proj}`, { parent: danCat }, olga.token);
    expect(moved.status, moved.text).toBe(200);
    expect(moved.json.parent).toBe(danCat);
    // a superuser moves anything anywhere
    expect((await site.call('PATCH', `project/api/update/${proj}`, { parent: cat })).status).toBe(200);
  });
});

describe('a parent is named only to those who may view it', () => {
  it("refuses an outsider's create or move into a category they cannot see as retrieve does, without its title", async () => {
    const { proj, danCat, olga } = await world();
    const retrieve = await site.call('GET', `project/api/retrieve/${danCat}`, undefined, olga.token);
    expect([retrieve.status, retrieve.json.detail]).toEqual([403, 'You do not have permission to perform this action.']);
    await refused(() => site.call('POST', 'project/api/create', { title: 'Mine', type: 'PROJECT', parent: danCat }, olga.token), BARE_403);
    await refused(() => site.call('POST', 'project/api/create', { title: 'Mine', type: 'CATEGORY', parent: danCat }, olga.token), BARE_403);
    await refused(() => site.call('PATCH', `project/api/update/${proj}`, { parent: danCat }, olga.token), BARE_403);
  });

  it('tells an outsider nothing about the type of a project given as parent, and a member that it is no category', async () => {
    const { proj, dan } = await world();
    const erin = await user('erin');
    await refused(() => site.call('POST', 'project/api/create', { title: 'Mine', type: 'PROJECT', parent: proj }, erin.token), BARE_403);
    const member = await site.call('POST', 'project/api/create', { title: 'Mine', type: 'PROJECT', parent: proj }, dan.token);
    expect([member.status, member.json.detail]).toEqual([400, 'The parent must be a category']);
  });
});

describe('top-level categories are for superusers only', () => {
  it('refuses a category delegate making the category top-level, and its owner too', async () => {
    const { cat, dan, olga } = await world();
    await grant(cat, dan, 'project delegate');
    await refused(() => site.call('PATCH', `project/api/update/${cat}`, { parent: '' }, dan.token), /^Only superusers may place a category at the top level$/);
    await grant(cat, olga, 'project contributor');
    const transfer = await site.call('POST', `project/api/roles/owner-transfer/${cat}`, { new_owner: 'olga', old_owner_role: 'project contributor' });
    expect(transfer.status, transfer.text).toBe(200);
    await refused(() => site.call('PATCH', `project/api/update/${cat}`, { parent: null }, olga.token), /^Only superusers may place a category at the top level$/);
    await refused(
      () => site.call('POST', 'project/api/create', { title: 'Mine', type: 'CATEGORY' }, olga.token),
      /^Only superusers may create top level categories$/,
    );
    const up = await site.call('PATCH', `project/api/update/${cat}`, { parent: '' });
    expect(up.status, up.text).toBe(200);
    expect(up.json.parent).toBeNull();
    // the owner of a top-level category still renames it: its parent does not change
    expect((await site.call('PATCH', `project/api/update/${cat}`, { title: 'Cat 2' }, olga.token)).status).toBe(200);
  });
});

describe('only the owner or a superuser manages delegate roles', () => {
  it('refuses a delegate granting, changing to or from, and removing the delegate role', async () => {
    const { proj, dan, olga } = await world();
    const erin = await user('erin');
    const bob = await user('bob');
    const DELEGATE_RULE = /^Only the owner of project "Proj" or a superuser may grant, change or remove the delegate role$/;
    await refused(() => site.call('POST', `project/api/roles/create/${proj}`, { role: 'project delegate', user: erin.sodar_uuid }, dan.token), DELEGATE_RULE);
    const bobRole = await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: bob.sodar_uuid }, dan.token);
    expect(bobRole.status).toBe(201);
    await refused(() => site.call('PATCH', `project/api/roles/update/${bobRole.json.sodar_uuid}`, { role: 'project delegate' }, dan.token), DELEGATE_RULE);
    const danRole = await roleUuid(proj, 'dan');
    await refused(() => site.call('PATCH', `project/api/roles/update/${danRole}`, { role: 'project contributor' }, dan.token), DELEGATE_RULE);
    await refused(() => site.call('DELETE', `project/api/roles/destroy/${danRole}`, undefined, dan.token), DELEGATE_RULE);
    // members below the delegate stay the delegate's to manage
    expect((await site.call('PATCH', `project/api/roles/update/${bobRole.json.sodar_uuid}`, { role: 'project guest' }, dan.token)).status).toBe(200);
    expect((await site.call('DELETE', `project/api/roles/destroy/${bobRole.json.sodar_uuid}`, undefined, dan.token)).status).toBe(204);
    // the owner does all of it
    expect((await site.call('PATCH', `project/api/roles/update/${danRole}`, { role: 'project contributor' }, olga.token)).status).toBe(200);
    expect((await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project delegate', user: erin.sodar_uuid }, olga.token)).status).toBe(201);
    expect((await site.call('DELETE', `project/api/roles/destroy/${await roleUuid(proj, 'erin')}`, undefined, olga.token)).status).toBe(204);
  });

  it('refuses a contributor managing members at all', async () => {
    const { proj } = await world();
    const carl = await user('carl');
    const erin = await user('erin');
    await grant(proj, carl, 'project contributor');
    await refused(
      () => site.call('POST', `project/api/roles/create/${proj}`, { role: 'project guest', user: erin.sodar_uuid }, carl.token),
      /^Only the owner or a delegate of project "Proj" or a superuser may manage its members$/,
    );
  });
});

describe('landing zones are seen by those who may see them', () => {
  /** Proj with a sheet and one zone each for olga (owner), dan (delegate) and carl (contributor). */
  async function zones(): Promise<{ proj: string; olga: TestUser; dan: TestUser; carl: TestUser; gus: TestUser; byUser: Map<string, string> }> {
    const w = await world();
    const carl = await user('carl');
    const gus = await user('gus');
    await grant(w.proj, carl, 'project contributor');
    await grant(w.proj, gus, 'project guest');
    const sheet = await site.call('POST', `samplesheets/api/create/${w.proj}`, { studies: [{ title: 'S', assays: [{ title: 'A' }] }] });
    expect(sheet.status).toBe(201);
    expect((await site.call('POST', `samplesheets/api/irods/collections/create/${w.proj}`)).status).toBe(200);
    const study: any = Object.values(sheet.json.studies)[0];
    const assay = (Object.values(study.assays)[0] as any).sodar_uuid as string;
    const byUser = new Map<string, string>();
    for (const u of [w.olga, w.dan, carl]) {
      const z = await site.call('POST', `landingzones/api/create/${w.proj}`, { assay }, u.token);
      expect(z.status, z.text).toBe(201);
      byUser.set(u.username, z.json.sodar_uuid);
    }
    return { proj: w.proj, olga: w.olga, dan: w.dan, carl, gus, byUser };
  }

  const owners = (list: any[]): string[] => list.map((z) => z.user.username).sort();

  it('shows a guest no zone', async () => {
    const { proj, gus, byUser } = await zones();
    const list = await site.call('GET', `landingzones/api/list/${proj}`, undefined, gus.token);
    expect(list.status).toBe(403);
    expect(list.json.detail).toBe('Landing zones of project "Proj" are for its contributors, delegates and owner: guests see none');
    const one = await site.call('GET', `landingzones/api/retrieve/${byUser.get('olga')}`, undefined, gus.token);
    expect(one.status).toBe(403);
  });

  it("shows a contributor their own zones only, and refuses them another's", async () => {
    const { proj, carl, byUser } = await zones();
    const list = await site.call('GET', `landingzones/api/list/${proj}`, undefined, carl.token);
    expect(list.status).toBe(200);
    expect(owners(list.json)).toEqual(['carl']);
    expect((await site.call('GET', `landingzones/api/retrieve/${byUser.get('carl')}`, undefined, carl.token)).status).toBe(200);
    const other = await site.call('GET', `landingzones/api/retrieve/${byUser.get('olga')}`, undefined, carl.token);
    expect(other.status).toBe(403);
    expect(other.json.detail).toBe('Only the owner or a delegate of project "Proj" or a superuser may see or change landing zones of other users');
  });

  it('shows owners, delegates and superusers every zone', async () => {
    const { proj, olga, dan } = await zones();
    for (const token of [olga.token, dan.token, undefined]) {
      const list = await site.call('GET', `landingzones/api/list/${proj}`, undefined, token);
      expect(list.status).toBe(200);
      expect(owners(list.json)).toEqual(['carl', 'dan', 'olga']);
    }
  });
});

describe('what a role in a category gives in the projects below it', () => {
  it("makes a category's owner owner below it, and its delegates, contributors and guests nothing there", async () => {
    const cat = await create({ title: 'Cat', type: 'CATEGORY' });
    const olga = await user('olga');
    const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat, owner: olga.sodar_uuid });
    const [catOwner, gus, carl, dan, erin] = [await user('cato'), await user('gus'), await user('carl'), await user('dan'), await user('erin')];
    // one delegate: SODAR Core v0.10.12 PROJECTROLES_DELEGATE_LIMIT default, categories included
    await grant(cat, catOwner, 'project contributor');
    await grant(cat, gus, 'project guest');
    await grant(cat, carl, 'project contributor');
    await grant(cat, dan, 'project delegate');
    const refusals = {
      guestRetrieves: (await site.call('GET', `project/api/retrieve/${proj}`, undefined, gus.token)).status,
      contributorListsZones: (await site.call('GET', `landingzones/api/list/${proj}`, undefined, carl.token)).status,
      delegateAddsMember: (await site.call('POST', `project/api/roles/create/${proj}`, { role: 'project contributor', user: erin.sodar_uuid }, dan.token)).status,
      delegateUpdates: (await site.call('PATCH', `project/api/update/${proj}`, { title: 'Taken' }, dan.token)).status,
    };
    expect(refusals).toEqual({ guestRetrieves: 403, contributorListsZones: 403, delegateAddsMember: 403, delegateUpdates: 403 });
    // in the category itself their roles count
    expect((await site.call('GET', `project/api/retrieve/${cat}`, undefined, gus.token)).status).toBe(200);
    // the category's owner (the admin, who made it) is owner below it; so is a new owner after a transfer
    const transfer = await site.call('POST', `project/api/roles/owner-transfer/${cat}`, { new_owner: 'cato', old_owner_role: 'project contributor' });
    expect(transfer.status, transfer.text).toBe(200);
    expect((await site.call('PATCH', `project/api/update/${proj}`, { title: 'Renamed by the category owner' }, catOwner.token)).status).toBe(200);
  });

  it('makes every signed-in user a guest of a project with public guest access, and no more', async () => {
    const cat = await create({ title: 'Cat', type: 'CATEGORY' });
    const proj = await create({ title: 'Proj', type: 'PROJECT', parent: cat, public_guest_access: true });
    const gus = await user('gus');
    expect((await site.call('GET', `project/api/retrieve/${proj}`, undefined, gus.token)).status).toBe(200);
    expect((await site.call('GET', `landingzones/api/list/${proj}`, undefined, gus.token)).status).toBe(403);
    expect((await site.call('PATCH', `project/api/update/${proj}`, { title: 'Mine' }, gus.token)).status).toBe(403);
  });
});
