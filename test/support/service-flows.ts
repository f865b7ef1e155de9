/**
 * Submit bodies of the flows the service tests and benchmarks use, so their
 * field names live in one place on the test side.
 *
 * @module
 */
import { TEST_SECRET } from './service-harness.js';

/** Common fields of a sync submit to `siteUrl`. */
function base(projectUuid: string, flowName: string, siteUrl: string, targets: string[]): Record<string, unknown> {
  return {
    project_uuid: projectUuid,
    flow_name: flowName,
    request_mode: 'sync',
    targets,
    force_fail: false,
    timeline_uuid: 'None',
    sodar_secret: TEST_SECRET,
    test_mode: true,
    sodar_url: siteUrl,
  };
}

/** `project_create` of a project owned by `owner`. */
export function projectCreateBody(projectUuid: string, siteUrl: string, targets = ['irods'], owner = 'owner_user'): Record<string, unknown> {
  return {
    ...base(projectUuid, 'project_create', siteUrl, targets),
    flow_data: {
      project_title: `Project ${projectUuid.slice(0, 8)}`,
      project_description: 'created by a service test',
      parent_uuid: 'c0000000-0000-4000-8000-00000000cafe',
      owner_username: owner,
      owner_uuid: `uuid-${owner}`,
      owner_role_pk: 1,
      settings: {},
    },
  };
}

/** `role_update` giving `username` a role in the project. */
export function roleUpdateBody(projectUuid: string, siteUrl: string, username: string, targets = ['irods']): Record<string, unknown> {
  return {
    ...base(projectUuid, 'role_update', siteUrl, targets),
    flow_data: { username, user_uuid: `uuid-${username}`, role_pk: 3 },
  };
}

/** A landing zone's identity. */
export interface ZoneSpec {
  zoneUuid: string;
  zoneTitle: string;
  userName: string;
  assayPath: string;
}

/** `landing_zone_create` of a zone with no extra collections. */
export function zoneCreateBody(projectUuid: string, siteUrl: string, zone: ZoneSpec, targets = ['irods', 'sodar']): Record<string, unknown> {
  return {
    ...base(projectUuid, 'landing_zone_create', siteUrl, targets),
    flow_data: {
      zone_title: zone.zoneTitle,
      zone_uuid: zone.zoneUuid,
      user_name: zone.userName,
      user_uuid: `uuid-${zone.userName}`,
      assay_path: zone.assayPath,
      colls: [],
      description: '',
    },
  };
}

/** `landing_zone_move` of the zone into sample data. */
export function zoneMoveBody(
  projectUuid: string,
  siteUrl: string,
  zone: ZoneSpec,
  opts: { validateOnly?: boolean; targets?: string[]; mode?: 'sync' | 'async'; timelineUuid?: string } = {},
): Record<string, unknown> {
  return {
    ...base(projectUuid, 'landing_zone_move', siteUrl, opts.targets ?? ['irods', 'sodar']),
    request_mode: opts.mode ?? 'sync',
    timeline_uuid: opts.timelineUuid ?? 'None',
    flow_data: {
      zone_title: zone.zoneTitle,
      zone_uuid: zone.zoneUuid,
      assay_path_zone: zone.assayPath,
      assay_path_samples: zone.assayPath,
      user_name: zone.userName,
      validate_only: opts.validateOnly ?? false,
    },
  };
}

/** `data_delete` of `paths` (inside the project), async with the timeline event `timelineUuid`. */
export function dataDeleteAsyncBody(projectUuid: string, siteUrl: string, paths: string[], timelineUuid: string): Record<string, unknown> {
  return {
    ...base(projectUuid, 'data_delete', siteUrl, ['irods']),
    request_mode: 'async',
    timeline_uuid: timelineUuid,
    flow_data: { paths },
  };
}
