/**
 * The reads the pages need beyond the REST API's: a page of a project's
 * timeline (newest first) and of its zones, each with what a row shows,
 * in a fixed number of queries whatever the page size.
 *
 * @module
 */
import type { Db, SqlValue } from '../db/types.js';
import type { TimelineEvent, TimelineStatusRow, User, Zone } from '../repo.js';

/** How many rows a page of the timeline or the zone list shows. */
export const PAGE_SIZE = 25;

/** One page of rows and where it is. */
export interface Page<T> {
  rows: T[];
  page: number;
  pages: number;
  total: number;
}

/** `page` (1-based, from a query string) made a whole number within 1..pages. */
export function pageNumber(raw: unknown): number {
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : 1;
  return Math.max(1, n);
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** A timeline event with its statuses (oldest first) and the user's name. */
export interface EventRow extends TimelineEvent {
  statuses: TimelineStatusRow[];
  last: TimelineStatusRow | undefined;
  username: string;
}

/** Page `page` of the project's timeline, newest event first. */
export async function timelinePage(db: Db, projectUuid: string, page: number): Promise<Page<EventRow>> {
  const total = Number((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM timeline_events WHERE project_uuid = ?', [projectUuid]))[0]?.n ?? 0);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const p = Math.min(page, pages);
  const events = await db.query<TimelineEvent & Record<string, unknown>>(
    'SELECT * FROM timeline_events WHERE project_uuid = ? ORDER BY created DESC, uuid DESC LIMIT ? OFFSET ?',
    [projectUuid, PAGE_SIZE, (p - 1) * PAGE_SIZE],
  );
  const ids = events.map((e) => e.uuid);
  const statuses = ids.length
    ? await db.query<TimelineStatusRow & Record<string, unknown>>(`SELECT * FROM timeline_statuses WHERE event_uuid IN (${marks(ids)}) ORDER BY event_uuid, seq`, ids)
    : [];
  const names = await usernames(db, events.map((e) => e.user_uuid));
  const rows = events.map((e) => {
    const own = statuses.filter((s) => s.event_uuid === e.uuid);
    return { ...e, statuses: own, last: own[own.length - 1], username: (e.user_uuid && names.get(e.user_uuid)) || '' };
  });
  return { rows, page: p, pages, total };
}

/** A zone row with its owner's name and assay title. */
export interface ZoneRow extends Zone {
  username: string;
  assayTitle: string;
}

/** Page `page` of the project's zones `user` may see (`own`: theirs only), newest first. */
export async function zonePage(db: Db, projectUuid: string, user: User, scope: 'all' | 'own', page: number): Promise<Page<ZoneRow>> {
  const where = scope === 'all' ? 'project_uuid = ?' : 'project_uuid = ? AND user_uuid = ?';
  const params: SqlValue[] = scope === 'all' ? [projectUuid] : [projectUuid, user.uuid];
  const total = Number((await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM landing_zones WHERE ${where}`, params))[0]?.n ?? 0);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const p = Math.min(page, pages);
  const zones = await db.query<Zone & Record<string, unknown>>(`SELECT * FROM landing_zones WHERE ${where} ORDER BY modified DESC, uuid DESC LIMIT ? OFFSET ?`, [
    ...params,
    PAGE_SIZE,
    (p - 1) * PAGE_SIZE,
  ]);
  const names = await usernames(db, zones.map((z) => z.user_uuid));
  const assayIds = [...new Set(zones.map((z) => z.assay_uuid))];
  const assays = assayIds.length ? await db.query<{ uuid: string; title: string }>(`SELECT uuid, title FROM assays WHERE uuid IN (${marks(assayIds)})`, assayIds) : [];
  const titles = new Map(assays.map((a) => [a.uuid, a.title]));
  return { rows: zones.map((z) => ({ ...z, username: names.get(z.user_uuid) ?? '', assayTitle: titles.get(z.assay_uuid) ?? '' })), page: p, pages, total };
}

async function usernames(db: Db, uuids: readonly (string | null)[]): Promise<Map<string, string>> {
  const ids = [...new Set(uuids.filter((u): u is string => !!u))];
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ uuid: string; username: string }>(`SELECT uuid, username FROM users WHERE uuid IN (${marks(ids)})`, ids);
  return new Map(rows.map((r) => [r.uuid, r.username]));
}
