/**
 * role_delete: the user out of the project group, every ACL entry naming the
 * user under the project removed (their landing zones, files moved before
 * sample data dropped them), the role off the site. A removed member keeps
 * no access to anything of the project.
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { projectGroup, projectPath } from './layout.js';
import { layoutOf } from './plan.js';
import { int, projectUuid, str, userName } from './validate.js';

export const roleDelete = defineFlow({
  name: 'role_delete',
  modes: ['sync'],
  required: ['username', 'user_uuid', 'role_pk'],
  parse(input, deps) {
    const d = input.flowData;
    const uuid = projectUuid(input);
    int(d, 'role_pk');
    return {
      uuid,
      path: projectPath(layoutOf(deps), uuid),
      group: projectGroup(uuid),
      user: userName(str(d, 'username'), 'username'),
      userUuid: str(d, 'user_uuid'),
    };
  },
  async build(plan, p) {
    plan.add(store.removeGroupMember(`Remove user "${p.user}" from project user group`, { group: p.group, user: p.user }));
    // the revert puts back each entry: the undo holds the user's entries under the project, compactly
    if (plan.irods && (await plan.deps.store.stat(p.path))?.type === 'collection') {
      plan.add(store.setAccess(`Remove user "${p.user}" access under the project collection`, { path: p.path, name: p.user, level: 'null', recursive: true }));
    }
    plan.add(site.deleteRole('Remove user role', { sodar_url: plan.sodarUrl, project_uuid: p.uuid, user_uuid: p.userUuid }));
  },
});
