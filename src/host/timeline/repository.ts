/**
 * Timeline events and their status history.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { TimelineStatus } from '../constants.js';
import { first, now } from '../db/rows.js';
import type { Db } from '../db/types.js';

/** A timeline event with its status history. */
export interface TimelineEvent {
  uuid: string;
  project_uuid: string | null;
  app: string;
  user_uuid: string | null;
  event_name: string;
  description: string;
  extra_data: string;
  created: string;
}

export interface TimelineStatusRow {
  event_uuid: string;
  seq: number;
  status_type: TimelineStatus;
  status_desc: string;
  extra_data: string;
  created: string;
}

/** Adds an event with its first status. */
export async function addEvent(
  db: Db,
  e: { projectUuid: string | null; app: string; userUuid: string | null; eventName: string; description: string; extraData?: unknown; status: TimelineStatus; statusDesc?: string },
): Promise<TimelineEvent> {
  const event: TimelineEvent = {
    uuid: randomUUID(),
    project_uuid: e.projectUuid,
    app: e.app,
    user_uuid: e.userUuid,
    event_name: e.eventName,
    description: e.description,
    extra_data: JSON.stringify(e.extraData ?? {}),
    created: now(),
  };
  await db.exec(
    'INSERT INTO timeline_events (uuid, project_uuid, app, user_uuid, event_name, description, extra_data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [event.uuid, event.project_uuid, event.app, event.user_uuid, event.event_name, event.description, event.extra_data, event.created],
  );
  await addEventStatus(db, event.uuid, e.status, e.statusDesc ?? '');
  return event;
}

export async function getEvent(db: Db, uuid: string): Promise<TimelineEvent | undefined> {
  return first(await db.query<TimelineEvent & Record<string, unknown>>('SELECT * FROM timeline_events WHERE uuid = ?', [uuid]));
}

/** Appends a status to an event's history. */
export async function addEventStatus(db: Db, eventUuid: string, status: TimelineStatus, desc: string, extraData: unknown = {}): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx.query<{ n: number | null }>('SELECT MAX(seq) AS n FROM timeline_statuses WHERE event_uuid = ?', [eventUuid]);
    const seq = Number(rows[0]?.n ?? 0) + 1;
    await tx.exec(
      'INSERT INTO timeline_statuses (event_uuid, seq, status_type, status_desc, extra_data, created) VALUES (?, ?, ?, ?, ?, ?)',
      [eventUuid, seq, status, desc, JSON.stringify(extraData), now()],
    );
  });
}

export async function eventStatuses(db: Db, eventUuid: string): Promise<TimelineStatusRow[]> {
  return db.query<TimelineStatusRow & Record<string, unknown>>(
    'SELECT * FROM timeline_statuses WHERE event_uuid = ? ORDER BY seq',
    [eventUuid],
  );
}

export async function listEvents(db: Db, projectUuid: string): Promise<TimelineEvent[]> {
  return db.query<TimelineEvent & Record<string, unknown>>(
    'SELECT * FROM timeline_events WHERE project_uuid = ? ORDER BY created, uuid',
    [projectUuid],
  );
}
