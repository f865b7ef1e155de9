/**
 * project_update: title, description and parent metadata; on an owner change
 * the group membership moves to the new owner; inherited roles are added or
 * removed; on the site the project fields, the owner roles and the settings.
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { PROJECT_META, projectGroup, projectPath } from './layout.js';
import { layoutOf } from './plan.js';
import { parseRoleUsers } from './roles.js';
import { bool, int, obj, projectUuid, str, userName } from './validate.js';

export const projectUpdate = defineFlow({
  name: 'project_update',
  modes: ['sync'],
  required: [
    'project_title',
    'parent_uuid',
    'owner_username',
    'owner_uuid',
    'owner_role_pk',
    'old_owner_username',
    'old_owner_uuid',
    'settings',
  ],
  parse(input, deps) {
    const d = input.flowData;
    const uuid = projectUuid(input);
    return {
      uuid,
      path: projectPath(layoutOf(deps), uuid),
      group: projectGroup(uuid),
      title: str(d, 'project_title'),
      description: d.project_description === undefined ? undefined : str(d, 'project_description'),
      readme: d.project_readme === undefined ? undefined : str(d, 'project_readme'),
      publicGuestAccess: d.public_guest_access === undefined ? undefined : bool(d, 'public_guest_access'),
      parentUuid: str(d, 'parent_uuid'),
      owner: userName(str(d, 'owner_username'), 'owner_username'),
      ownerUuid: str(d, 'owner_uuid'),
      ownerRolePk: int(d, 'owner_role_pk'),
      oldOwner: userName(str(d, 'old_owner_username'), 'old_owner_username'),
      oldOwnerUuid: str(d, 'old_owner_uuid'),
      rolesAdd: parseRoleUsers(d, 'roles_add'),
      rolesDelete: parseRoleUsers(d, 'roles_delete'),
      settings: obj(d, 'settings'),
    };
  },
  async build(plan, p) {
    const meta = (name: string, attribute: string, value: string | null) =>
      store.setMetadata(name, { path: p.path, attribute, value, unit: '' });
    const member = (name: string, user: string) => store.addGroupMember(name, { group: p.group, user });
    const nonMember = (name: string, user: string) => store.removeGroupMember(name, { group: p.group, user });
    plan.add(meta('Update project title metadata', PROJECT_META.title, p.title));
    if (p.description !== undefined) {
      plan.add(meta('Update project description metadata', PROJECT_META.description, p.description === '' ? null : p.description));
    }
    plan.add(meta('Update project parent metadata', PROJECT_META.parentUuid, p.parentUuid));
    const ownerChanged = p.owner !== p.oldOwner;
    if (ownerChanged) {
      plan.addOnce(store.createUser(`Create user "${p.owner}" for new owner`, { name: p.owner, user_type: 'rodsuser' }));
      plan.add(member(`Add new owner "${p.owner}" to project user group`, p.owner));
      plan.add(nonMember(`Remove old owner "${p.oldOwner}" from project user group`, p.oldOwner));
    }
    for (const user of p.rolesAdd) {
      plan.addOnce(store.createUser(`Create user "${user}" for inherited role`, { name: user, user_type: 'rodsuser' }));
      plan.add(member(`Add user "${user}" to project user group`, user));
    }
    // An owner transfer can list the new owner in roles_delete (an inherited category owner who now owns
    // the project directly); SODAR Taskflow v0.6.2 removed them after adding them. The flow knows two users
    // who must stay in the group whatever roles_delete says: the owner, and users the same request adds
    // (the demoted old owner keeping a role). A direct member the site left out of roles_add is the site's
    // to keep out of roles_delete: flow_data does not list direct members.
    const keep = new Set([p.owner, ...p.rolesAdd]);
    for (const user of p.rolesDelete.filter((u) => !keep.has(u))) {
      plan.add(nonMember(`Remove user "${user}" from project user group`, user));
    }
    const url = plan.sodarUrl;
    const current = await plan.projectFields(p.uuid);
    if (current) {
      const fields = {
        title: p.title,
        parent_uuid: p.parentUuid,
        // a field neither given nor reported gets what the original service sent (SODAR always sends them)
        description: p.description ?? current.description ?? '',
        readme: p.readme ?? current.readme ?? '',
        public_guest_access: p.publicGuestAccess ?? current.public_guest_access ?? false,
      };
      plan.add(site.updateProject('Update project', { sodar_url: url, project_uuid: p.uuid, fields }));
    }
    // SODAR Core (v0.7.2 to v0.10.12) refuses a second owner of a project (RoleAssignment._validate_owner:
    // role/set answers 500), so the old owner's role goes first, as in SODAR Taskflow v0.6.2. Reverted in
    // reverse order, the new owner's role is put back before the old owner's: no step holds two owners.
    if (ownerChanged && p.oldOwnerUuid !== p.ownerUuid) {
      plan.add(site.deleteRole('Remove old owner role', { sodar_url: url, project_uuid: p.uuid, user_uuid: p.oldOwnerUuid }));
    }
    plan.add(site.setRole('Set owner role', { sodar_url: url, project_uuid: p.uuid, user_uuid: p.ownerUuid, role_pk: p.ownerRolePk }));
    if (Object.keys(p.settings).length > 0) {
      plan.add(site.setSettings('Set project settings', { sodar_url: url, project_uuid: p.uuid, settings: p.settings }));
    }
  },
});
