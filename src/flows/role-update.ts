/**
 * role_update: the user in the store and in the project group; the role on the site.
 *
 * @module
 */
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
  async build(plan, p) {
    await plan.createUser(`Create user "${p.user}"`, p.user);
    await plan.addGroupMember(`Add user "${p.user}" to project user group`, p.group, p.user);
    await plan.setRole('Set user role', p.uuid, p.userUuid, p.rolePk);
  },
});
