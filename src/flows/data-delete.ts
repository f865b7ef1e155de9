/**
 * data_delete: objects or collections inside the project to the trash
 * (restored on rollback). A path inside another listed path goes with it.
 *
 * @module
 */
import { parentPath } from '../store/paths.js';
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { projectPath } from './layout.js';
import { layoutOf } from './plan.js';
import { inside, projectUuid, stringList } from './validate.js';

export const dataDelete = defineFlow({
  name: 'data_delete',
  modes: ['sync', 'async'],
  required: ['paths'],
  parse(input, deps) {
    const layout = layoutOf(deps);
    const project = projectPath(layout, projectUuid(input));
    const paths = [...new Set(stringList(input.flowData, 'paths').map((p) => inside(p, project, 'paths', layout.zone)))];
    const listed = new Set(paths);
    const underListed = (p: string): boolean => {
      for (let q = parentPath(p); q !== '/'; q = parentPath(q)) if (listed.has(q)) return true;
      return false;
    };
    return { paths: paths.filter((p) => !underListed(p)) };
  },
  build(plan, p) {
    for (const path of p.paths) plan.add(store.trash(`Remove ${path}`, { path, refuse_objects: false }));
  },
});
