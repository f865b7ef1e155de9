/**
 * role_delete: the user out of the project group; the role off the site.
 *
 * @module
 */
import { defineFlow } from './define.js';
import { projectGroup } from './layout.js';
import { int, projectUuid, str, userName } from './validate.js';

export const roleDelete = defineFlow({
  name: 'role_delete',
  modes: ['sync'],
  required: ['username', 'user_uuid', 'role_pk'],
  parse(input) {
    const d = input.flowData;
    const uuid = projectUuid(input);
    int(d, 'role_pk');
    return { uuid, group: projectGroup(uuid), user: userName(str(d, 'username'), 'username'), userUuid: str(d, 'user_uuid') };
  },
  async build(plan, p) {
    await plan.removeGroupMember(`Remove user "${p.user}" from project user group`, p.group, p.user);
    await plan.deleteRole('Remove user role', p.uuid, p.userUuid);
  },
});
