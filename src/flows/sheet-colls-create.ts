/**
 * sheet_colls_create: the sample data collection (inheriting, project group
 * read), one collection per study/assay, public read for guest projects; the
 * site learns the directories exist.
 *
 * @module
 */
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
  async build(plan, p) {
    await plan.createCollections('Create collection for sample data', [p.sample]);
    await plan.setInheritance('Set inheritance for sample data collection', p.sample, true);
    await plan.setAccess('Set project user group read access', p.sample, p.group, 'read', true);
    for (const c of p.colls) await plan.createCollections(`Create collection ${c}`, [c]);
    if (p.public) await plan.setAccess('Set public read access', p.sample, PUBLIC_GROUP, 'read', true);
    await plan.setDirStatus('Set sample sheet directory status', p.uuid, true);
  },
});
