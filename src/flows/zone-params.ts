/**
 * Reading a landing zone's identity from flow data: its uuid, user, assay path
 * and title (+ configuration), checked as path segments, and its collection.
 *
 * @module
 */
import type { Json } from '../engine/types.js';
import type { FlowInput } from './types.js';
import { landingZonePath, projectGroup, projectPath, type LayoutBase } from './layout.js';
import { name, projectUuid, relPath, str, userName as checkUserName } from './validate.js';

/** A landing zone as flows see it. */
export interface ZoneParams {
  projectUuid: string;
  projectPath: string;
  group: string;
  zoneUuid: string;
  userName: string;
  zoneTitle: string;
  zoneConfig: string;
  /** The zone's collection. */
  path: string;
}

/** Reads the zone fields; `assayField` names the flow's field for the zone's assay path. */
export function parseZone(input: FlowInput, layout: LayoutBase, assayField: string): ZoneParams {
  const d: Record<string, Json> = input.flowData;
  const uuid = projectUuid(input);
  const userName = checkUserName(str(d, 'user_name'), 'user_name');
  const zoneTitle = name(str(d, 'zone_title'), 'zone_title');
  const config = str(d, 'zone_config');
  const zoneConfig = config === '' ? '' : name(config, 'zone_config');
  const assayPath = relPath(str(d, assayField), assayField);
  name(`${zoneTitle}${zoneConfig ? `_${zoneConfig}` : ''}`, 'zone_title');
  return {
    projectUuid: uuid,
    projectPath: projectPath(layout, uuid),
    group: projectGroup(uuid),
    zoneUuid: str(d, 'zone_uuid'),
    userName,
    zoneTitle,
    zoneConfig,
    path: landingZonePath(layout, uuid, { userName, assayPath, zoneTitle, zoneConfig }),
  };
}
