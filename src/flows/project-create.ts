/**
 * project_create: the project's collections, metadata, group and owner in the
 * store; the owner's role and the project settings on the site.
 *
 * @module
 */
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
  async build(plan, p) {
    await plan.createCollections('Create project root collection', [p.root]);
    await plan.createCollections('Create project collection', [p.path]);
    await plan.setMetadata('Set project title metadata', p.path, PROJECT_META.title, p.title);
    if (p.description !== '') {
      await plan.setMetadata('Set project description metadata', p.path, PROJECT_META.description, p.description);
    }
    await plan.setMetadata('Set project parent metadata', p.path, PROJECT_META.parentUuid, p.parentUuid);
    await plan.createGroup('Create project user group', p.group);
    await plan.setAccess('Set project user group read access', p.path, p.group, 'read', false);
    await plan.createUser(`Create user "${p.owner}" for owner`, p.owner);
    await plan.addGroupMember(`Add owner "${p.owner}" to project user group`, p.group, p.owner);
    for (const user of p.rolesAdd) {
      await plan.createUser(`Create user "${user}" for inherited role`, user);
      await plan.addGroupMember(`Add user "${user}" to project user group`, p.group, user);
    }
    await plan.setRole('Set owner role', p.uuid, p.ownerUuid, p.ownerRolePk);
    await plan.setSettings('Set project settings', p.uuid, p.settings);
  },
});
