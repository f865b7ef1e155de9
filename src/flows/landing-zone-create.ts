/**
 * landing_zone_create: the landing zone root (project group read), the user
 * and their zones collection (user read), the zone collection (inheriting,
 * user own, script user write), its description and subcollections; the
 * zone ACTIVE on the site. Any failure: zone NOT CREATED with the reason.
 *
 * @module
 */
import { defineFlow, setZoneStatusOnFailure } from './define.js';
import { ZONE_DESCRIPTION_META, landingZoneRoot, userZonesPath } from './layout.js';
import { layoutOf } from './plan.js';
import { childPath, str, stringList, userName } from './validate.js';
import { parseZone } from './zone-params.js';
import { ZoneInfo, ZoneStatus } from './zone-status.js';

export const landingZoneCreate = defineFlow({
  name: 'landing_zone_create',
  modes: ['sync', 'async'],
  required: ['zone_title', 'zone_uuid', 'user_name', 'user_uuid', 'assay_path', 'colls'],
  needsLock: () => false,
  parse(input, deps) {
    const layout = layoutOf(deps);
    const zone = parseZone(input, layout, 'assay_path');
    const d = input.flowData;
    const scriptUser = str(d, 'script_user');
    return {
      zone,
      root: landingZoneRoot(layout, zone.projectUuid),
      userColl: userZonesPath(layout, zone.projectUuid, zone.userName),
      description: str(d, 'description'),
      scriptUser: scriptUser === '' ? '' : userName(scriptUser, 'script_user'),
      colls: [...new Set(stringList(d, 'colls').map((c) => childPath(zone.path, c, 'colls', layout.zone)))],
    };
  },
  async build(plan, p) {
    const z = p.zone;
    await plan.createCollections('Create landing zone root collection', [p.root]);
    await plan.setAccess('Set project user group read access to landing zone root', p.root, z.group, 'read', false);
    await plan.createUser(`Create user "${z.userName}"`, z.userName);
    await plan.createCollections('Create user collection for landing zones', [p.userColl]);
    await plan.setAccess('Set user read access to user collection', p.userColl, z.userName, 'read', false);
    await plan.createCollections('Create landing zone collection', [z.path]);
    await plan.setInheritance('Set inheritance for landing zone collection', z.path, true);
    await plan.setAccess('Set user owner access to landing zone', z.path, z.userName, 'own', true);
    if (p.scriptUser !== '') {
      await plan.createUser(`Create script user "${p.scriptUser}"`, p.scriptUser);
      await plan.setAccess('Set script user write access to landing zone', z.path, p.scriptUser, 'write', true);
    }
    if (p.description !== '') {
      await plan.setMetadata('Set landing zone description metadata', z.path, ZONE_DESCRIPTION_META, p.description);
    }
    for (const c of p.colls) await plan.createCollections(`Create collection ${c}`, [c]);
    // closing status after the forced-failure point: a doomed zone is never shown ACTIVE, even briefly
    plan.addFinal(
      plan.zoneStatus(z.zoneUuid, ZoneStatus.ACTIVE, ZoneInfo.active, {
        status: ZoneStatus.CREATING,
        status_info: ZoneInfo.creating,
      }),
    );
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.NOT_CREATED),
});
