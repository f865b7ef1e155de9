/**
 * role_update_irods_batch: users created and added to, or removed from, the
 * groups of many projects at once (inherited category roles). No project lock.
 *
 * @module
 */
import { defineFlow } from './define.js';
import { projectGroup } from './layout.js';
import { parseProjectRoles } from './roles.js';

export const roleUpdateIrodsBatch = defineFlow({
  name: 'role_update_irods_batch',
  modes: ['sync'],
  required: ['roles_add', 'roles_delete'],
  needsLock: () => false,
  parse(input) {
    return { add: parseProjectRoles(input.flowData, 'roles_add'), remove: parseProjectRoles(input.flowData, 'roles_delete') };
  },
  async build(plan, p) {
    for (const r of p.add) {
      const group = projectGroup(r.projectUuid);
      await plan.createUser(`Create user "${r.user}"`, r.user);
      await plan.addGroupMember(`Add user "${r.user}" to group "${group}"`, group, r.user);
    }
    for (const r of p.remove) {
      const group = projectGroup(r.projectUuid);
      await plan.removeGroupMember(`Remove user "${r.user}" from group "${group}"`, group, r.user);
    }
  },
});
