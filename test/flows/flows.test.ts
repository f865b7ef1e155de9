import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flowNames, getFlow } from '../../src/flows/index.js';
import { makeInput, openWorld, runInput, snapshot, type World } from './harness.js';
import { P1, scenarios } from './scenarios.js';

let w: World;
beforeEach(async () => {
  w = await openWorld();
});
afterEach(async () => w.close());

describe('flows', () => {
  it('has the thirteen flows of protocol section 5', () => {
    expect(flowNames).toHaveLength(13);
    for (const s of scenarios) expect(getFlow(s.flow)).toBeDefined();
    expect(new Set(scenarios.map((s) => s.flow)).size).toBe(13);
  });

  for (const s of scenarios) {
    it(`${s.name}: changes the store and the site as specified`, async () => {
      const input = await s.setup(w);
      const before = await snapshot(w);
      const result = await runInput(w, input);
      expect(result.error).toBeUndefined();
      expect(result.status).toBe('completed');
      await s.check(w, before);
    });
  }
});

describe('flows with TASKFLOW_IRODS_ROOT_PATH', () => {
  it('creates the project below the root path and keeps flow_data paths inside it', async () => {
    await w.close();
    w = await openWorld({ TASKFLOW_IRODS_ROOT_PATH: 'sodar/root' });
    const s = scenarios.find((x) => x.flow === 'project_create')!;
    const r = await runInput(w, await s.setup(w));
    expect(r.status).toBe('completed');
    const project = `/omicsZone/sodar/root/projects/${P1.slice(0, 2)}/${P1}`;
    expect((await w.store.stat(project))?.type === 'collection').toBe(true);
    const def = getFlow('data_delete')!;
    const input = makeInput(w, 'data_delete', P1, { paths: [`/omicsZone/projects/${P1.slice(0, 2)}/${P1}/x`] });
    await expect(def.validate(input, w.deps)).rejects.toThrow(/not inside the project collection/);
  });
});
