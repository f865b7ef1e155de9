/**
 * Timeline bookkeeping around flows, as SODAR does it: a sync change records
 * an event that ends OK or FAILED with the reason; an async flow's event
 * stays SUBMIT until the service reports back.
 *
 * @module
 */
import type { SiteContext } from './context.js';
import type { Db } from './db/types.js';
import { HttpError, OutcomeUnknownError } from './errors.js';
import { addEvent, addEventStatus, type TimelineEvent } from './repo.js';

/** What an event is about. */
export interface EventInfo {
  projectUuid: string;
  app: string;
  userUuid: string | null;
  eventName: string;
  description: string;
  extraData?: unknown;
}

/** Records an event, runs `fn`, and ends the event OK or FAILED (rethrowing the failure). */
export async function tracked<T>(ctx: SiteContext, info: EventInfo, fn: (event: TimelineEvent) => Promise<T>): Promise<T> {
  const event = await addEvent(ctx.db, { ...info, status: 'SUBMIT', statusDesc: 'Submitted' });
  try {
    const result = await fn(event);
    await addEventStatus(ctx.db, event.uuid, 'OK', 'Sync submit OK');
    return result;
  } catch (err) {
    await failEvent(ctx, event, err);
    throw err;
  }
}

/** Records an event for an async flow: SUBMIT now, the service sets the outcome. `db`: a transaction to record it in. */
export async function asyncEvent(ctx: SiteContext, info: EventInfo, db: Db = ctx.db): Promise<TimelineEvent> {
  return addEvent(db, { ...info, status: 'SUBMIT', statusDesc: 'Async submit' });
}

/**
 * Ends an event whose submit failed before the service took it. A submit
 * the service may have taken ({@link OutcomeUnknownError}) stays open: the
 * service's report, or the site's look at its runs, gives its status.
 */
export async function failEvent(ctx: SiteContext, event: TimelineEvent, err: unknown): Promise<void> {
  if (err instanceof OutcomeUnknownError) return;
  const reason = err instanceof HttpError ? err.detail : err instanceof Error ? err.message : String(err);
  await addEventStatus(ctx.db, event.uuid, 'FAILED', reason);
}
