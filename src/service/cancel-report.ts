/**
 * Telling the site that a waiting async run was cancelled: its timeline
 * event becomes `CANCEL` (a status SODAR's timeline has) and a landing zone
 * returns to the status it had before the submit. Never throws.
 *
 * @module
 */
import type { Logger } from 'pino';
import { ZoneInfo, ZoneStatus } from '../flows/zone-status.js';
import type { FlowInput } from '../flows/types.js';
import type { SiteClient } from '../site/client.js';
import { Endpoint } from '../tasks/site-tasks.js';
import { Target } from '../tasks/context.js';
import { errorText } from './messages.js';

/** The timeline text of a cancelled run. */
export const CANCELLED_TEXT = 'Cancelled while waiting in line; nothing was changed';

/**
 * The zone status a zone flow's waiting run leaves behind when cancelled:
 * the status before the submit, as far as the service can tell. A move or
 * delete starts from ACTIVE or FAILED (the site allows both) and the
 * service never sees which; ACTIVE is true of both once the run is gone
 * (the zone's files are there and writable), though a FAILED zone's reason
 * is lost. A zone whose creation never ran is NOT CREATED.
 */
const ZONE_BEFORE: Record<string, { status: string; info: string }> = {
  landing_zone_move: { status: ZoneStatus.ACTIVE, info: ZoneInfo.active },
  landing_zone_delete: { status: ZoneStatus.ACTIVE, info: ZoneInfo.active },
  landing_zone_create: { status: ZoneStatus.NOT_CREATED, info: CANCELLED_TEXT },
};

/** Reports a cancelled waiting run to the site. */
export async function reportCancelled(site: SiteClient, input: FlowInput, log: Logger): Promise<void> {
  const warn = (what: string, err: unknown): void =>
    log.warn({ flow: input.flowName, project: input.projectUuid, err: errorText(err) }, `${what} callback failed`);
  if (input.timelineUuid !== undefined) {
    await site
      .post(input.sodarUrl, Endpoint.timelineStatusSet, {
        event_uuid: input.timelineUuid,
        status_type: 'CANCEL',
        status_desc: CANCELLED_TEXT,
        extra_data: '{}',
      })
      .catch((err: unknown) => warn('timeline', err));
  }
  const zone = ZONE_BEFORE[input.flowName];
  const zoneUuid = input.flowData.zone_uuid;
  if (zone && typeof zoneUuid === 'string' && zoneUuid !== '' && input.targets.includes(Target.site)) {
    await site
      .post(input.sodarUrl, Endpoint.zoneStatusSet, { zone_uuid: zoneUuid, status: zone.status, status_info: zone.info, flow_name: input.flowName })
      .catch((err: unknown) => warn('zone status', err));
  }
}
