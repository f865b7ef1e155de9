/**
 * role_update_irods_batch: users created and added to, or removed from, the
 * groups of many projects at once (inherited category roles). No project lock.
 *
 * @module
 */
import * as store from '../tasks/store-tasks.js';
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
  build(plan, p) {
    for (const r of p.add) {
      const group = projectGroup(r.projectUuid);
      plan.addOnce(store.createUser(`Create user "${r.user}"`, { name: r.user, user_type: 'rodsuser' }));
      plan.add(store.addGroupMember(`Add user "${r.user}" to group "${group}"`, { group, user: r.user }));
    }
    for (const r of p.remove) {
      const group = projectGroup(r.projectUuid);
      plan.add(store.removeGroupMember(`Remove user "${r.user}" from group "${group}"`, { group, user: r.user }));
    }
  },
});
