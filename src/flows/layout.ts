/**
 * The one place for the data store layout of protocol section 4: where a
 * project, its sample data and its landing zones live, and the names of the
 * project and public groups.
 *
 * @module
 */
import { joinPath } from '../store/paths.js';

/** What the layout depends on: the store's zone and the optional root path. */
export interface LayoutBase {
  /** Zone name, e.g. `omicsZone`. */
  zone: string;
  /** Optional path between the zone and `projects` (TASKFLOW_IRODS_ROOT_PATH), '' when none. */
  rootPath: string;
}

/** Name of the collection holding sample data in a project. */
export const SAMPLE_COLL = 'sample_data';
/** Name of the collection holding landing zones in a project. */
export const LANDING_ZONE_COLL = 'landing_zones';
/** The group every public-read path is shared with. */
export const PUBLIC_GROUP = 'public';
/** Prefix of project group names. */
export const PROJECT_GROUP_PREFIX = 'omics_project_';
/** Metadata attributes of a project collection. */
export const PROJECT_META = { title: 'title', description: 'description', parentUuid: 'parent_uuid' } as const;
/** Metadata attribute of a landing zone's description. */
export const ZONE_DESCRIPTION_META = 'description';

/** `/<zone>[/<root path>]/projects` */
export function projectRoot(base: LayoutBase): string {
  const root = base.rootPath.replace(/^\/+|\/+$/g, '');
  return root === '' ? joinPath(`/${base.zone}`, 'projects') : joinPath(`/${base.zone}`, root, 'projects');
}

/** `<project root>/<first 2 chars of uuid>/<uuid>` */
export function projectPath(base: LayoutBase, projectUuid: string): string {
  return joinPath(projectRoot(base), projectUuid.slice(0, 2), projectUuid);
}

/** `<project>/sample_data[/<assay path>]` */
export function sampleDataPath(base: LayoutBase, projectUuid: string, assayPath = ''): string {
  const p = joinPath(projectPath(base, projectUuid), SAMPLE_COLL);
  return assayPath === '' ? p : joinPath(p, assayPath);
}

/** `<project>/landing_zones`: the landing zone root. */
export function landingZoneRoot(base: LayoutBase, projectUuid: string): string {
  return joinPath(projectPath(base, projectUuid), LANDING_ZONE_COLL);
}

/** `<project>/landing_zones/<user name>`: one user's zones. */
export function userZonesPath(base: LayoutBase, projectUuid: string, userName: string): string {
  return joinPath(landingZoneRoot(base, projectUuid), userName);
}

/** A zone's collection name: `<zone title>[_<zone config>]`. */
export function zoneCollName(zoneTitle: string, zoneConfig?: string): string {
  return zoneConfig ? `${zoneTitle}_${zoneConfig}` : zoneTitle;
}

/** `<project>/landing_zones/<user name>/<assay path>/<zone title>[_<zone config>]` */
export function landingZonePath(
  base: LayoutBase,
  projectUuid: string,
  zone: { userName: string; assayPath: string; zoneTitle: string; zoneConfig?: string },
): string {
  const user = userZonesPath(base, projectUuid, zone.userName);
  const name = zoneCollName(zone.zoneTitle, zone.zoneConfig);
  return zone.assayPath === '' ? joinPath(user, name) : joinPath(user, zone.assayPath, name);
}

/** `omics_project_<uuid>` */
export function projectGroup(projectUuid: string): string {
  return `${PROJECT_GROUP_PREFIX}${projectUuid}`;
}

/** `/<zone>/trash` */
export function trashRoot(base: LayoutBase): string {
  return `/${base.zone}/trash`;
}
