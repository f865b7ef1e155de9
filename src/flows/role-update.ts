/**
 * role_update: the user in the store and in the project group; the role on the site.
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { projectGroup } from './layout.js';
import { int, projectUuid, str, userName } from './validate.js';

export const roleUpdate = defineFlow({
  name: 'role_update',
  modes: ['sync'],
  required: ['username', 'user_uuid', 'role_pk'],
  parse(input) {
    const d = input.flowData;
    const uuid = projectUuid(input);
    return {
      uuid,
      group: projectGroup(uuid),
      user: userName(str(d, 'username'), 'username'),
      userUuid: str(d, 'user_uuid'),
      rolePk: int(d, 'role_pk'),
    };
  },
  build(plan, p) {
    plan.addOnce(store.createUser(`Create user "${p.user}"`, { name: p.user, user_type: 'rodsuser' }));
    plan.add(store.addGroupMember(`Add user "${p.user}" to project user group`, { group: p.group, user: p.user }));
    plan.add(
      site.setRole('Set user role', { sodar_url: plan.sodarUrl, project_uuid: p.uuid, user_uuid: p.userUuid, role_pk: p.rolePk }),
    );
  },
});
