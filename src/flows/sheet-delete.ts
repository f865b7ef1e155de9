/**
 * sheet_delete: sample data and landing zones to the trash, then the sheet off
 * the site (last: the site cannot restore a sheet).
 *
 * @module
 */
import { defineFlow } from './define.js';
import { landingZoneRoot, sampleDataPath } from './layout.js';
import { layoutOf } from './plan.js';
import { projectUuid } from './validate.js';

export const sheetDelete = defineFlow({
  name: 'sheet_delete',
  modes: ['sync'],
  required: [],
  parse(input, deps) {
    const uuid = projectUuid(input);
    return { uuid, sample: sampleDataPath(layoutOf(deps), uuid), zones: landingZoneRoot(layoutOf(deps), uuid) };
  },
  async build(plan, p) {
    if (await plan.deps.store.collectionExists(p.sample)) await plan.trash('Remove sample data collection', p.sample);
    if (await plan.deps.store.collectionExists(p.zones)) await plan.trash('Remove landing zones collection', p.zones);
    plan.addFinal(plan.deleteSheet('Delete sample sheet', p.uuid));
  },
});
