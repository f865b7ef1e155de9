/**
 * Tasks calling back the host site (the `sodar` target, protocol section 3).
 * Every task carries its callback base URL (`sodar_url`) so a run can be
 * reverted from the journal alone; each prepare asks the site for what its
 * change replaces (the undo value, journaled before the change).
 *
 * @module
 */
import type { Json, RevertOutcome } from '../engine/types.js';
import { SiteCallError, type SiteClient } from '../site/client.js';
import { jsonSettingValue, SETTINGS_PREFIX } from '../site/protocol.js';
import { Target, type TaskContext } from './context.js';
import { defineTask } from './define.js';

/** Site endpoints (protocol section 3): the one place for these paths. */
export const Endpoint = {
  projectGet: 'project/taskflow/get',
  projectUpdate: 'project/taskflow/update',
  roleGet: 'project/taskflow/role/get',
  roleSet: 'project/taskflow/role/set',
  roleDelete: 'project/taskflow/role/delete',
  settingsGet: 'project/taskflow/settings/get',
  settingsSet: 'project/taskflow/settings/set',
  timelineStatusSet: 'timeline/taskflow/status/set',
  zoneStatusSet: 'landingzones/taskflow/status/set',
  dirsGet: 'samplesheets/taskflow/dirs/get',
  dirsSet: 'samplesheets/taskflow/dirs/set',
  sheetDelete: 'samplesheets/taskflow/delete',
} as const;

/** Project fields the site keeps for taskflow. */
export type ProjectFields = {
  title: string;
  description: string;
  parent_uuid: string;
  readme: string;
  public_guest_access: boolean;
};

/**
 * The project fields a site reports. SODAR Core 0.10's `project/taskflow/get`
 * reports only title and description (and the uuid); our reference site
 * reports all of them.
 */
export type ReportedProject = Partial<ProjectFields>;

/** Every project field, in the order the update sends them. */
export const PROJECT_FIELDS: readonly (keyof ProjectFields)[] = ['title', 'parent_uuid', 'description', 'readme', 'public_guest_access'];

/** Null when the site answers 404, else the answer. */
async function orNotFound<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof SiteCallError && err.status === 404) return null;
    throw err;
  }
}

/** The user's role pk in the project, or null when none. */
export async function getRole(site: SiteClient, url: string, projectUuid: string, userUuid: string): Promise<number | null> {
  const r = await orNotFound(
    site.postJson<{ role_pk: number }>(url, Endpoint.roleGet, { project_uuid: projectUuid, user_uuid: userUuid }),
  );
  return r === null ? null : Number(r.role_pk);
}

async function putRole(site: SiteClient, url: string, projectUuid: string, userUuid: string, rolePk: number | null): Promise<void> {
  if (rolePk === null) {
    await orNotFound(site.post(url, Endpoint.roleDelete, { project_uuid: projectUuid, user_uuid: userUuid }));
  } else {
    await site.post(url, Endpoint.roleSet, { project_uuid: projectUuid, user_uuid: userUuid, role_pk: rolePk });
  }
}

/** The project's taskflow fields the site reports (a field it leaves out is absent). */
export async function getProject(site: SiteClient, url: string, projectUuid: string): Promise<ReportedProject> {
  const p = await site.postJson<Record<string, Json>>(url, Endpoint.projectGet, { project_uuid: projectUuid });
  const out: ReportedProject = {};
  if ('title' in p) out.title = String(p.title ?? '');
  if ('description' in p) out.description = String(p.description ?? '');
  if ('parent_uuid' in p) out.parent_uuid = p.parent_uuid === null ? '' : String(p.parent_uuid);
  if ('readme' in p) out.readme = String(p.readme ?? '');
  if ('public_guest_access' in p) {
    out.public_guest_access = p.public_guest_access === true || p.public_guest_access === 'true' || p.public_guest_access === 'True';
  }
  return out;
}

/** The fields of every project field the site did not report. */
export function unreportedFields(reported: ReportedProject): (keyof ProjectFields)[] {
  return PROJECT_FIELDS.filter((k) => reported[k] === undefined);
}

/**
 * Current values of the given settings (names with the `settings.` prefix),
 * as settings/get hands them out. SODAR Core 0.10.12
 * (`TaskflowProjectSettingsGetAPIView` over `AppSettingAPI.get_all_settings`)
 * keys them `settings.<app>.<name>`, reports every project setting its apps
 * define (the default where none is set) and sends a dict JSON-encoded; an
 * answer keyed `<app>.<name>` is read as well.
 */
export async function getSettings(
  site: SiteClient,
  url: string,
  projectUuid: string,
  names: readonly string[],
): Promise<Record<string, Json>> {
  const r = await site.postJson<{ settings: Record<string, Json> }>(url, Endpoint.settingsGet, { project_uuid: projectUuid });
  const out: Record<string, Json> = {};
  for (const n of names) {
    const key = n.startsWith(SETTINGS_PREFIX) ? n.slice(SETTINGS_PREFIX.length) : n;
    if (Object.hasOwn(r.settings, n)) out[n] = r.settings[n];
    else if (Object.hasOwn(r.settings, key)) out[n] = r.settings[key];
  }
  return out;
}

/** The sample sheet's directory status, or null when the project has no sheet. */
export async function getDirStatus(site: SiteClient, url: string, projectUuid: string): Promise<boolean | null> {
  const r = await orNotFound(site.postJson<{ dir_status: boolean }>(url, Endpoint.dirsGet, { project_uuid: projectUuid }));
  return r === null ? null : r.dir_status === true;
}

// ---------------------------------------------------------------------- roles

/** Args of {@link setRole}. */
export type SetRoleArgs = {
  sodar_url: string;
  project_uuid: string;
  user_uuid: string;
  role_pk: number;
};

/** Sets a user's role; revert sets the previous role back or deletes the new one. */
export const setRole = defineTask<SetRoleArgs, { previous: number | null }>({
  kind: 'site.setRole',
  target: Target.site,
  async prepare({ site }, a) {
    const previous = await getRole(site, a.sodar_url, a.project_uuid, a.user_uuid);
    return previous === a.role_pk ? undefined : { previous };
  },
  async apply({ site }, a, undo) {
    if (undo === undefined) return;
    await site.post(a.sodar_url, Endpoint.roleSet, { project_uuid: a.project_uuid, user_uuid: a.user_uuid, role_pk: a.role_pk });
  },
  async revert({ site }, a, { previous }) {
    if ((await getRole(site, a.sodar_url, a.project_uuid, a.user_uuid)) === previous) return;
    await putRole(site, a.sodar_url, a.project_uuid, a.user_uuid, previous);
  },
});

/** Args of {@link deleteRole}. */
export type DeleteRoleArgs = { sodar_url: string; project_uuid: string; user_uuid: string };

/** Deletes a user's role (none: nothing to do); revert sets it back. */
export const deleteRole = defineTask<DeleteRoleArgs, { previous: number }>({
  kind: 'site.deleteRole',
  target: Target.site,
  async prepare({ site }, a) {
    const previous = await getRole(site, a.sodar_url, a.project_uuid, a.user_uuid);
    return previous === null ? undefined : { previous };
  },
  async apply({ site }, a, undo) {
    if (undo === undefined) return;
    await site.post(a.sodar_url, Endpoint.roleDelete, { project_uuid: a.project_uuid, user_uuid: a.user_uuid });
  },
  async revert({ site }, a, { previous }) {
    if ((await getRole(site, a.sodar_url, a.project_uuid, a.user_uuid)) === previous) return;
    await putRole(site, a.sodar_url, a.project_uuid, a.user_uuid, previous);
  },
});

// ------------------------------------------------------------ project, settings

/** Args of {@link updateProject}. */
export type UpdateProjectArgs = {
  sodar_url: string;
  project_uuid: string;
  fields: ProjectFields;
};

/** Whether every field `reported` holds equals the one in `target`. */
function agrees(reported: ReportedProject, target: ReportedProject): boolean {
  return PROJECT_FIELDS.every((k) => reported[k] === undefined || target[k] === undefined || reported[k] === target[k]);
}

/** Names the fields a revert could not restore, or nothing when it restored all. */
function shortfall(unreported: readonly string[]): RevertOutcome {
  if (unreported.length === 0) return undefined;
  return {
    note: `project fields not restored, the site did not report their previous values: ${unreported.join(', ')} (left as the update set them)`,
  };
}

/**
 * Updates the project's title, parent, description, readme and public
 * access. Revert restores what the site reported before the update; a field
 * it did not report (SODAR Core 0.10 reports only title and description)
 * keeps the value the update set, since the site needs every field in an
 * update, and the revert's note names it.
 */
export const updateProject = defineTask<UpdateProjectArgs, { previous: ReportedProject }>({
  kind: 'site.updateProject',
  target: Target.site,
  async prepare({ site }, a) {
    const previous = await getProject(site, a.sodar_url, a.project_uuid);
    // a field the site does not report may differ: only a full report can show there is nothing to do
    return unreportedFields(previous).length === 0 && agrees(previous, a.fields) ? undefined : { previous };
  },
  async apply({ site }, a, undo) {
    if (undo === undefined) return;
    await site.post(a.sodar_url, Endpoint.projectUpdate, { project_uuid: a.project_uuid, ...a.fields });
  },
  async revert({ site }, a, { previous }) {
    // Only a reported field shows whether the update happened (a crash may have come before it).
    // Unreported fields are sent as the update set them, not cleared: the site needs every field.
    if (!agrees(await getProject(site, a.sodar_url, a.project_uuid), previous)) {
      await site.post(a.sodar_url, Endpoint.projectUpdate, { project_uuid: a.project_uuid, ...a.fields, ...previous });
    }
    return shortfall(unreportedFields(previous));
  },
});

/** Args of {@link setSettings}. */
export type SetSettingsArgs = {
  sodar_url: string;
  project_uuid: string;
  /** `{"settings.<app>.<name>": value}` */
  settings: Record<string, Json>;
};

/**
 * Sets project app settings; revert sets the previous values back. A
 * setting the site did not report before (a SODAR site reports all it
 * defines) cannot be taken back: it keeps the value set, and the revert's
 * note names it.
 */
export const setSettings = defineTask<SetSettingsArgs, { previous: Record<string, Json> }>({
  kind: 'site.setSettings',
  target: Target.site,
  async prepare({ site }, a) {
    const names = Object.keys(a.settings);
    if (names.length === 0) return undefined;
    // a JSON setting (one the update gives a dict or list) is kept decoded: a SODAR site would parse its
    // JSON string again when it is set back, a site that stores what it is sent would keep the string
    const previous: Record<string, Json> = {};
    for (const [n, v] of Object.entries(await getSettings(site, a.sodar_url, a.project_uuid, names))) previous[n] = jsonSettingValue(v, a.settings[n]) as Json;
    return { previous };
  },
  async apply({ site }, a, undo) {
    if (undo === undefined) return;
    await site.post(a.sodar_url, Endpoint.settingsSet, { project_uuid: a.project_uuid, settings: a.settings });
  },
  async revert({ site }, a, { previous }) {
    if (Object.keys(previous).length > 0) await site.post(a.sodar_url, Endpoint.settingsSet, { project_uuid: a.project_uuid, settings: previous });
    const unreported = Object.keys(a.settings).filter((n) => !Object.hasOwn(previous, n));
    if (unreported.length === 0) return undefined;
    return { note: `settings not restored, the site did not report their previous values: ${unreported.join(', ')} (left as the update set them)` };
  },
});

// -------------------------------------------------------------- landing zones

/** A zone status with its text. */
export type ZoneStatusValue = { status: string; status_info: string };

/** Args of {@link setZoneStatus}. */
export type SetZoneStatusArgs = {
  sodar_url: string;
  zone_uuid: string;
  flow_name: string;
  status: string;
  status_info: string;
  /**
   * Status to set back on revert (the site cannot be asked for the current
   * one: the flow knows the status it found); null: nothing to set back (a
   * closing status, or the status the zone already had).
   */
  revert_to: ZoneStatusValue | null;
  /** Fields sent along with the status (e.g. `file_count`), as the original did. */
  extra?: Record<string, number>;
};

/** One zone status callback: the zone, its new status and text, the flow, the extra fields. */
export type ZoneStatusCall = {
  sodar_url: string;
  zone_uuid: string;
  flow_name: string;
  status: string;
  status_info: string;
  extra?: Record<string, number>;
};

/** Sends one zone status callback. */
export async function postZoneStatus(site: SiteClient, c: ZoneStatusCall): Promise<void> {
  await site.post(c.sodar_url, Endpoint.zoneStatusSet, {
    zone_uuid: c.zone_uuid,
    status: c.status,
    status_info: c.status_info,
    flow_name: c.flow_name,
    ...c.extra,
  });
}

/** A zone status callback of a task: after the run's progress callbacks in flight, when the run has any. */
function sendZoneStatus(ctx: TaskContext, call: ZoneStatusCall): Promise<void> {
  return ctx.progress !== undefined ? ctx.progress.zoneStatus(call) : postZoneStatus(ctx.site, call);
}

/** Sets a landing zone's status; revert sets the status the flow found. */
export const setZoneStatus = defineTask<SetZoneStatusArgs, ZoneStatusValue>({
  kind: 'site.setZoneStatus',
  target: Target.site,
  async prepare(_ctx, a) {
    return a.revert_to ?? undefined;
  },
  async apply(ctx, a) {
    const { sodar_url, zone_uuid, flow_name, status, status_info, extra } = a;
    await sendZoneStatus(ctx, { sodar_url, zone_uuid, flow_name, status, status_info, extra });
  },
  async revert(ctx, a, undo) {
    const { sodar_url, zone_uuid, flow_name } = a;
    await sendZoneStatus(ctx, { sodar_url, zone_uuid, flow_name, status: undo.status, status_info: undo.status_info });
  },
});

// ------------------------------------------------------------- sample sheets

/** Args of {@link setDirStatus}. */
export type SetDirStatusArgs = { sodar_url: string; project_uuid: string; dir_status: boolean };

/** Sets the sample sheet's directory status; revert restores the previous one. */
export const setDirStatus = defineTask<SetDirStatusArgs, { previous: boolean }>({
  kind: 'site.setDirStatus',
  target: Target.site,
  async prepare({ site }, a) {
    const previous = await getDirStatus(site, a.sodar_url, a.project_uuid);
    return previous === a.dir_status ? undefined : { previous: previous ?? false };
  },
  async apply({ site }, a, undo) {
    if (undo === undefined) return;
    await site.post(a.sodar_url, Endpoint.dirsSet, { project_uuid: a.project_uuid, dir_status: a.dir_status });
  },
  async revert({ site }, a, { previous }) {
    const current = await getDirStatus(site, a.sodar_url, a.project_uuid);
    if (current === null || current === previous) return;
    await site.post(a.sodar_url, Endpoint.dirsSet, { project_uuid: a.project_uuid, dir_status: previous });
  },
});

/** Args of {@link deleteSheet}. */
export type DeleteSheetArgs = { sodar_url: string; project_uuid: string };

/**
 * Deletes the project's sample sheet. The site offers no way to restore it,
 * so flows put this task in their closing tail, which a forced failure never
 * reaches; there is nothing to revert.
 */
export const deleteSheet = defineTask<DeleteSheetArgs, Json>({
  kind: 'site.deleteSheet',
  target: Target.site,
  async prepare() {
    return undefined;
  },
  async apply({ site }, a) {
    await site.post(a.sodar_url, Endpoint.sheetDelete, { project_uuid: a.project_uuid });
  },
  async revert() {},
});

// ------------------------------------------------------------------- timeline

/** Args of {@link setTimelineStatus}. */
export type SetTimelineStatusArgs = {
  sodar_url: string;
  event_uuid: string;
  status_type: string;
  status_desc: string;
  extra_data: Record<string, Json>;
};

/** Adds a status to a timeline event. A status history only grows: revert does nothing. */
export const setTimelineStatus = defineTask<SetTimelineStatusArgs, Json>({
  kind: 'site.setTimelineStatus',
  target: Target.site,
  async prepare() {
    return undefined;
  },
  async apply({ site }, a) {
    await site.post(a.sodar_url, Endpoint.timelineStatusSet, {
      event_uuid: a.event_uuid,
      status_type: a.status_type,
      status_desc: a.status_desc,
      extra_data: a.extra_data,
    });
  },
  async revert() {},
});
