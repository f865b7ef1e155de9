/**
 * sheet_colls_create: the sample data collection (inheriting, project group
 * read), one collection per study/assay, public read for guest projects; the
 * site learns the directories exist.
 *
 * @module
 */
import * as site from '../tasks/site-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { PUBLIC_GROUP, projectGroup, sampleDataPath } from './layout.js';
import { layoutOf } from './plan.js';
import { bool, childPath, projectUuid, stringList } from './validate.js';

export const sheetCollsCreate = defineFlow({
  name: 'sheet_colls_create',
  modes: ['sync'],
  required: ['colls'],
  parse(input, deps) {
    const layout = layoutOf(deps);
    const uuid = projectUuid(input);
    const sample = sampleDataPath(layout, uuid);
    return {
      uuid,
      sample,
      group: projectGroup(uuid),
      colls: [...new Set(stringList(input.flowData, 'colls').map((c) => childPath(sample, c, 'colls', layout.zone)))],
      public: bool(input.flowData, 'public_guest_access'),
    };
  },
  build(plan, p) {
    plan.add(store.createCollections('Create collection for sample data', { paths: [p.sample] }));
    plan.add(store.setInheritance('Set inheritance for sample data collection', { path: p.sample, inherit: true }));
    plan.add(store.setAccess('Set project user group read access', { path: p.sample, name: p.group, level: 'read', recursive: true }));
    for (const c of p.colls) plan.add(store.createCollections(`Create collection ${c}`, { paths: [c] }));
    if (p.public) plan.add(store.setAccess('Set public read access', { path: p.sample, name: PUBLIC_GROUP, level: 'read', recursive: true }));
    plan.add(site.setDirStatus('Set sample sheet directory status', { sodar_url: plan.sodarUrl, project_uuid: p.uuid, dir_status: true }));
  },
});
