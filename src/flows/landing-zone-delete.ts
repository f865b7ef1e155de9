/**
 * landing_zone_delete: zone DELETING, its collection to the trash, zone
 * DELETED (last: a deleted zone never changes again). Any failure: zone FAILED.
 *
 * @module
 */
import * as store from '../tasks/store-tasks.js';
import { defineFlow, setZoneStatusOnFailure } from './define.js';
import { layoutOf } from './plan.js';
import { parseZone } from './zone-params.js';
import { ZoneAtStart, ZoneInfo, ZoneStatus } from './zone-status.js';

export const landingZoneDelete = defineFlow({
  name: 'landing_zone_delete',
  modes: ['sync', 'async'],
  required: ['zone_title', 'zone_uuid', 'assay_path', 'user_name'],
  needsLock: () => false,
  parse(input, deps) {
    return parseZone(input, layoutOf(deps), 'assay_path');
  },
  async build(plan, z) {
    const start = ZoneAtStart.delete;
    plan.zoneFoundAt(start.status, start.info);
    plan.add(plan.zoneStatus(z.zoneUuid, start.status, start.info));
    // a zone whose creation failed may have no collection: deleting it is still fine
    if (plan.irods && (await plan.deps.store.stat(z.path))?.type === 'collection') {
      plan.add(store.trash('Remove landing zone collection', { path: z.path, refuse_objects: false }));
    }
    plan.addClosing(plan.zoneStatus(z.zoneUuid, ZoneStatus.DELETED, ZoneInfo.deleted, { final: true }));
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.FAILED),
});
