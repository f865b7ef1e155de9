/**
 * role_sync_delete_all: every member but the owner out of the project group
 * (the first step of a sync, which then adds the current roles back).
 *
 * @module
 */
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { projectGroup } from './layout.js';
import { projectUuid, str, userName } from './validate.js';

export const roleSyncDeleteAll = defineFlow({
  name: 'role_sync_delete_all',
  modes: ['sync'],
  required: ['owner_username'],
  parse(input) {
    const uuid = projectUuid(input);
    return { group: projectGroup(uuid), owner: userName(str(input.flowData, 'owner_username'), 'owner_username') };
  },
  async build(plan, p) {
    if (!plan.irods || (await plan.deps.store.getPrincipal(p.group))?.kind !== 'group') return;
    for (const user of await plan.deps.store.groupMembers(p.group)) {
      if (user === p.owner) continue;
      plan.add(store.removeGroupMember(`Remove user "${user}" from project user group`, { group: p.group, user }));
    }
  },
});
