/**
 * project_create: the project's collections, metadata, group and owner in the
 * store; the owner's role and the project settings on the site.
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { PROJECT_META, projectGroup, projectPath, projectRoot } from './layout.js';
import { layoutOf } from './plan.js';
import { int, obj, projectUuid, str, userName } from './validate.js';
import { parseRoleUsers } from './roles.js';

export const projectCreate = defineFlow({
  name: 'project_create',
  modes: ['sync'],
  required: ['project_title', 'parent_uuid', 'owner_username', 'owner_uuid', 'owner_role_pk'],
  parse(input, deps) {
    const d = input.flowData;
    const uuid = projectUuid(input);
    return {
      uuid,
      root: projectRoot(layoutOf(deps)),
      path: projectPath(layoutOf(deps), uuid),
      group: projectGroup(uuid),
      title: str(d, 'project_title'),
      description: str(d, 'project_description'),
      parentUuid: str(d, 'parent_uuid'),
      owner: userName(str(d, 'owner_username'), 'owner_username'),
      ownerUuid: str(d, 'owner_uuid'),
      ownerRolePk: int(d, 'owner_role_pk'),
      rolesAdd: parseRoleUsers(d, 'roles_add'),
      settings: obj(d, 'settings'),
    };
  },
  build(plan, p) {
    const meta = (name: string, attribute: string, value: string) =>
      store.setMetadata(name, { path: p.path, attribute, value, unit: '' });
    plan.add(store.createCollections('Create project root collection', { paths: [p.root] }));
    plan.add(store.createCollections('Create project collection', { paths: [p.path] }));
    plan.add(meta('Set project title metadata', PROJECT_META.title, p.title));
    if (p.description !== '') plan.add(meta('Set project description metadata', PROJECT_META.description, p.description));
    plan.add(meta('Set project parent metadata', PROJECT_META.parentUuid, p.parentUuid));
    plan.add(store.createGroup('Create project user group', { name: p.group }));
    plan.add(store.setAccess('Set project user group read access', { path: p.path, name: p.group, level: 'read', recursive: false }));
    plan.addOnce(store.createUser(`Create user "${p.owner}" for owner`, { name: p.owner, user_type: 'rodsuser' }));
    plan.add(store.addGroupMember(`Add owner "${p.owner}" to project user group`, { group: p.group, user: p.owner }));
    for (const user of p.rolesAdd) {
      plan.addOnce(store.createUser(`Create user "${user}" for inherited role`, { name: user, user_type: 'rodsuser' }));
      plan.add(store.addGroupMember(`Add user "${user}" to project user group`, { group: p.group, user }));
    }
    const url = plan.sodarUrl;
    plan.add(site.setRole('Set owner role', { sodar_url: url, project_uuid: p.uuid, user_uuid: p.ownerUuid, role_pk: p.ownerRolePk }));
    if (Object.keys(p.settings).length > 0) {
      plan.add(site.setSettings('Set project settings', { sodar_url: url, project_uuid: p.uuid, settings: p.settings }));
    }
  },
});
