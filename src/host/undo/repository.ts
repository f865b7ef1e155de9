/**
 * Pending undos: the site changes its rows before it submits a flow, and
 * must take the change back when the flow fails, also when the process dies
 * while the flow runs. So the way back is stored as data, in the same
 * transaction as the change, under the timeline event of that change, and
 * stays until the flow's outcome is known: from the flow's answer, from the
 * service's timeline report (its recovery reports interrupted runs), at
 * the next start when the event already ended, or from the service's runs
 * and fences (service-outcomes.ts) when no report came.
 *
 * @module
 */
import { first, fromBool, now } from '../db/rows.js';
import type { Db } from '../db/types.js';
import { deleteProjectCascade, updateProject, type Project } from '../projects/repository.js';
import { replaceSettings } from '../projects/settings.js';
import { deleteRole, restoreAssignment, type Assignment } from '../roles/repository.js';
import { deleteZone, restoreZoneStatus, type Zone } from '../zones/repository.js';
import type { TimelineStatus } from '../constants.js';

/**
 * How to put the site's rows back, one kind per change the site makes
 * before a flow.
 */
export type Undo =
  /** A project was created: remove it with everything below it. */
  | { kind: 'project_delete'; project_uuid: string }
  /** A project's fields and settings changed: write them back. */
  | { kind: 'project_restore'; project: Project; settings: Record<string, unknown> }
  /**
   * Roles of `users` in the project changed (set, changed, removed, owner
   * transfer): they get exactly `assignments` back (same uuids), none when absent.
   */
  | { kind: 'roles_restore'; project_uuid: string; users: string[]; assignments: Assignment[] }
  /** The sheet's collections status before a flow that sets it. */
  | { kind: 'sheet_dirs_restore'; project_uuid: string; irods_status: boolean }
  /** A landing zone was inserted for its creation flow: remove it. */
  | { kind: 'zone_delete'; zone_uuid: string }
  /** A landing zone's status was set for its flow: set the one it had back. */
  | { kind: 'zone_restore'; zone: Zone };

/**
 * Zone flows are async: once the service took the run, the flow itself sets
 * the zone's status (also on failure), so a reported outcome only ends the
 * pending undo. The others run sync, and a failure means the flow left the
 * store as it was, so the site's rows must follow.
 */
const FLOW_REPORTS_OWN_FAILURE: ReadonlySet<Undo['kind']> = new Set(['zone_delete', 'zone_restore']);

/** Puts the rows back as `undo` says. Run it inside a transaction. */
export async function applyUndo(db: Db, undo: Undo): Promise<void> {
  switch (undo.kind) {
    case 'project_delete':
      return deleteProjectCascade(db, undo.project_uuid);
    case 'project_restore':
      await updateProject(db, undo.project);
      return replaceSettings(db, undo.project.uuid, undo.settings);
    case 'roles_restore':
      for (const u of undo.users) await deleteRole(db, undo.project_uuid, u);
      for (const a of undo.assignments) await restoreAssignment(db, a);
      return;
    case 'sheet_dirs_restore':
      await db.exec('UPDATE investigations SET irods_status = ? WHERE project_uuid = ?', [fromBool(undo.irods_status), undo.project_uuid]);
      return;
    case 'zone_delete':
      return deleteZone(db, undo.zone_uuid);
    case 'zone_restore':
      return restoreZoneStatus(db, undo.zone);
  }
}

/**
 * Records how to take back the change made in the same transaction `tx`,
 * under timeline event `eventUuid`; `onOk`: what the site does once the flow
 * succeeded (an owner transfer gives the old owner the role they keep only
 * then), done when the record is settled OK, also after a crash.
 */
export async function recordUndo(tx: Db, eventUuid: string, projectUuid: string | null, undo: Undo, onOk?: Undo): Promise<void> {
  await tx.exec('INSERT INTO pending_undos (event_uuid, project_uuid, kind, data, on_ok, created) VALUES (?, ?, ?, ?, ?, ?)', [
    eventUuid,
    projectUuid,
    undo.kind,
    JSON.stringify(undo),
    onOk ? JSON.stringify(onOk) : null,
    now(),
  ]);
}

/** The undo pending under event `eventUuid` (and what to do on success), if any. */
export async function pendingUndo(db: Db, eventUuid: string): Promise<{ undo: Undo; onOk?: Undo } | undefined> {
  const row = first(await db.query<{ data: string; on_ok: string | null }>('SELECT data, on_ok FROM pending_undos WHERE event_uuid = ?', [eventUuid]));
  if (!row) return undefined;
  return { undo: JSON.parse(row.data) as Undo, ...(row.on_ok ? { onOk: JSON.parse(row.on_ok) as Undo } : {}) };
}

/** Event uuids with a pending undo, oldest first. */
export async function pendingUndoEvents(db: Db): Promise<string[]> {
  return (await db.query<{ event_uuid: string }>('SELECT event_uuid FROM pending_undos ORDER BY created, event_uuid')).map((r) => r.event_uuid);
}

/**
 * Ends the undo pending under `eventUuid` as the flow ended: `failed` puts
 * the rows back first, `ok` does what was recorded for success. Nothing when none is pending (settled already). Give
 * it a transaction, so the rows and the pending row change together.
 */
export async function settleUndo(tx: Db, eventUuid: string, outcome: 'ok' | 'failed'): Promise<void> {
  const pending = await pendingUndo(tx, eventUuid);
  if (!pending) return;
  const step = outcome === 'failed' ? pending.undo : pending.onOk;
  if (step) await applyUndo(tx, step);
  await tx.exec('DELETE FROM pending_undos WHERE event_uuid = ?', [eventUuid]);
}

/**
 * Settles the undo pending under an event that just got status `status`
 * from the service (or had it when the site started): OK keeps the change,
 * FAILED and CANCEL take it back, unless the flow reports its own failure
 * (zones); other statuses leave it pending.
 */
export async function settleUndoByStatus(tx: Db, eventUuid: string, status: TimelineStatus): Promise<void> {
  if (status !== 'OK' && status !== 'FAILED' && status !== 'CANCEL') return;
  const pending = await pendingUndo(tx, eventUuid);
  if (!pending) return;
  await settleUndo(tx, eventUuid, status === 'OK' || FLOW_REPORTS_OWN_FAILURE.has(pending.undo.kind) ? 'ok' : 'failed');
}

/**
 * Settles every pending undo whose event has already ended (its newest
 * status is final): the service's report was recorded, but the process died
 * before the undo was settled with it, or an earlier version recorded it.
 * For the site's start, before it serves. Returns how many it settled.
 */
export async function settleEndedUndos(db: Db): Promise<number> {
  let settled = 0;
  for (const eventUuid of await pendingUndoEvents(db)) {
    await db.transaction(async (tx) => {
      const last = first(
        await tx.query<{ status_type: TimelineStatus }>('SELECT status_type FROM timeline_statuses WHERE event_uuid = ? ORDER BY seq DESC LIMIT 1', [eventUuid]),
      );
      if (!last) return;
      await settleUndoByStatus(tx, eventUuid, last.status_type);
      if (!(await pendingUndo(tx, eventUuid))) settled++;
    });
  }
  return settled;
}
