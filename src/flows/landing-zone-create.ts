/**
 * landing_zone_create: the landing zone root (project group read), the user
 * and their zones collection (user read), the zone collection (inheriting,
 * user own, script user write), its description and subcollections; the
 * zone ACTIVE on the site. Any failure: zone NOT CREATED with the reason.
 *
 * @module
 */
import { zoneCreationLane } from '../locks/keys.js';
import * as store from '../tasks/store-tasks.js';
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
  // the first zones of a project create its landing zone root and give the group read: one at a time,
  // so that a failing one never takes them back from another
  lane: (input) => zoneCreationLane(input.projectUuid),
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
  build(plan, p) {
    const z = p.zone;
    plan.zoneFoundAt(ZoneStatus.CREATING, ZoneInfo.creating);
    plan.add(store.createCollections('Create landing zone root collection', { paths: [p.root] }));
    plan.add(store.setAccess('Set project user group read access to landing zone root', { path: p.root, name: z.group, level: 'read', recursive: false }));
    plan.addOnce(store.createUser(`Create user "${z.userName}"`, { name: z.userName, user_type: 'rodsuser' }));
    plan.add(store.createCollections('Create user collection for landing zones', { paths: [p.userColl] }));
    plan.add(store.setAccess('Set user read access to user collection', { path: p.userColl, name: z.userName, level: 'read', recursive: false }));
    plan.add(store.createCollections('Create landing zone collection', { paths: [z.path] }));
    plan.add(store.setInheritance('Set inheritance for landing zone collection', { path: z.path, inherit: true }));
    plan.add(store.setAccess('Set user owner access to landing zone', { path: z.path, name: z.userName, level: 'own', recursive: true }));
    if (p.scriptUser !== '') {
      plan.addOnce(store.createUser(`Create script user "${p.scriptUser}"`, { name: p.scriptUser, user_type: 'rodsuser' }));
      plan.add(store.setAccess('Set script user write access to landing zone', { path: z.path, name: p.scriptUser, level: 'write', recursive: true }));
    }
    if (p.description !== '') {
      plan.add(store.setMetadata('Set landing zone description metadata', { path: z.path, attribute: ZONE_DESCRIPTION_META, value: p.description, unit: '' }));
    }
    for (const c of p.colls) plan.add(store.createCollections(`Create collection ${c}`, { paths: [c] }));
    // closing: a forced failure stops before it, so a doomed zone is never shown ACTIVE, even briefly
    plan.addClosing(plan.zoneStatus(z.zoneUuid, ZoneStatus.ACTIVE, ZoneInfo.active));
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.NOT_CREATED),
});
