/**
 * sheet_delete: sample data and landing zones to the trash, then the sheet off
 * the site (last: the site cannot restore a sheet).
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
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
    const s = plan.deps.store;
    if (plan.irods && (await s.stat(p.sample))?.type === 'collection') {
      plan.add(store.trash('Remove sample data collection', { path: p.sample, refuse_objects: false }));
    }
    if (plan.irods && (await s.stat(p.zones))?.type === 'collection') {
      plan.add(store.trash('Remove landing zones collection', { path: p.zones, refuse_objects: false }));
    }
    plan.addClosing(site.deleteSheet('Delete sample sheet', { sodar_url: plan.sodarUrl, project_uuid: p.uuid }));
  },
});
