/**
 * Runs that meet another run's change between a task's prepare and its
 * apply. Flows without the project lock (the batch role update, zone
 * creation) may run beside others that create the same user or membership;
 * the task that finds its change already made refuses without changing
 * anything, its run fails and rolls back its own changes, and what the other
 * run made stays. The other run is played by a store whose call makes that
 * change first, at exactly that point.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/engine/memory-journal.js';
import { runFlow } from '../../src/engine/runner.js';
import { getFlow } from '../../src/flows/index.js';
import { projectGroup } from '../../src/flows/layout.js';
import type { FlowInput } from '../../src/flows/types.js';
import type { FlowStore } from '../../src/store/types.js';
import { makeInput, openWorld, type World } from './harness.js';
import { BOB, P1, createProject } from './scenarios.js';

let w: World;
beforeEach(async () => {
  w = await openWorld();
  await createProject(w);
});
afterEach(async () => w.close());

/** `input` run against a store that first calls `before` when `method` is called: another run's change, just in time. */
async function runBeside(input: FlowInput, method: 'createPrincipal' | 'addGroupMember' | 'removeGroupMember', before: () => Promise<void>) {
  let once = false;
  const store = new Proxy(w.store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (!once) {
          once = true;
          await before();
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  }) as FlowStore;
  const deps = { ...w.deps, store };
  const def = getFlow(input.flowName)!;
  await def.validate(input, deps);
  const flow = await def.build(input, deps);
  return runFlow(flow, deps, { journal: new MemoryJournal() });
}

it('a batch whose new user another run created meanwhile fails and leaves that user, with its membership, alone', async () => {
  const group = projectGroup(P1);
  const input = makeInput(w, 'role_update_irods_batch', P1, { roles_add: [{ project_uuid: P1, username: 'newbie' }], roles_delete: [] }, { targets: ['irods'] });
  const result = await runBeside(input, 'createPrincipal', async () => {
    await w.store.createPrincipal('newbie', 'rodsuser');
    await w.store.addGroupMember(group, 'newbie');
  });
  expect(result.status).toBe('rolled_back');
  expect(result.error).toMatch(/already exists: newbie.*another run made it meanwhile/);
  expect(await w.store.isGroupMember(group, 'newbie')).toBe(true);
});

it('a role update whose membership another run added meanwhile fails without taking it away', async () => {
  const group = projectGroup(P1);
  await w.store.createPrincipal(BOB.username, 'rodsuser');
  const input = makeInput(w, 'role_update', P1, { username: BOB.username, user_uuid: BOB.user_uuid, role_pk: 3 }, { targets: ['irods'] });
  const before = await w.store.dump();
  const result = await runBeside(input, 'addGroupMember', async () => {
    await w.store.addGroupMember(group, BOB.username);
  });
  expect(result.status).toBe('rolled_back');
  expect(result.error).toMatch(/another run made it meanwhile/);
  // the store as the other run left it: the membership and nothing else changed
  expect(await w.store.isGroupMember(group, BOB.username)).toBe(true);
  await w.store.removeGroupMember(group, BOB.username);
  expect(await w.store.dump()).toEqual(before);
});

it('a batch whose membership removal another run made meanwhile fails without putting the membership back', async () => {
  const group = projectGroup(P1);
  await w.store.createPrincipal(BOB.username, 'rodsuser');
  await w.store.addGroupMember(group, BOB.username);
  const input = makeInput(w, 'role_update_irods_batch', P1, { roles_add: [], roles_delete: [{ project_uuid: P1, username: BOB.username }] }, { targets: ['irods'] });
  const result = await runBeside(input, 'removeGroupMember', async () => {
    await w.store.removeGroupMember(group, BOB.username);
  });
  expect(result.status).toBe('rolled_back');
  expect(result.error).toMatch(/member not found: bob in .*another run removed it meanwhile/);
  expect(await w.store.isGroupMember(group, BOB.username)).toBe(false);
});
