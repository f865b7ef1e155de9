/**
 * landing_zone_delete: zone DELETING, its collection to the trash, zone
 * DELETED (last: a deleted zone never changes again). Any failure: zone FAILED.
 *
 * @module
 */
import { defineFlow, setZoneStatusOnFailure } from './define.js';
import { layoutOf } from './plan.js';
import { parseZone } from './zone-params.js';
import { ZoneInfo, ZoneStatus } from './zone-status.js';

export const landingZoneDelete = defineFlow({
  name: 'landing_zone_delete',
  modes: ['sync', 'async'],
  required: ['zone_title', 'zone_uuid', 'assay_path', 'user_name'],
  needsLock: () => false,
  parse(input, deps) {
    return parseZone(input, layoutOf(deps), 'assay_path');
  },
  async build(plan, z) {
    plan.add(
      plan.zoneStatus(z.zoneUuid, ZoneStatus.DELETING, ZoneInfo.deleting, {
        status: ZoneStatus.ACTIVE,
        status_info: ZoneInfo.active,
      }),
    );
    // a zone whose creation failed may have no collection: deleting it is still fine
    if (await plan.deps.store.collectionExists(z.path)) await plan.trash('Remove landing zone collection', z.path);
    plan.addFinal(plan.zoneStatus(z.zoneUuid, ZoneStatus.DELETED, ZoneInfo.deleted, null));
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.FAILED),
});
