/**
 * public_access_update: read access for the `public` group on a path inside
 * the project (sample data of a project open to guests), or none.
 *
 * @module
 */
import * as store from '../tasks/store-tasks.js';
import { defineFlow } from './define.js';
import { PUBLIC_GROUP, projectPath } from './layout.js';
import { layoutOf } from './plan.js';
import { bool, inside, projectUuid, str } from './validate.js';

export const publicAccessUpdate = defineFlow({
  name: 'public_access_update',
  modes: ['sync'],
  required: ['path', 'access'],
  parse(input, deps) {
    const layout = layoutOf(deps);
    const project = projectPath(layout, projectUuid(input));
    return {
      path: inside(str(input.flowData, 'path'), project, 'path', layout.zone),
      access: bool(input.flowData, 'access'),
    };
  },
  build(plan, p) {
    const level = p.access ? 'read' : 'null';
    plan.add(store.setAccess(`Set public group access to ${level}`, { path: p.path, name: PUBLIC_GROUP, level, recursive: true }));
  },
});
