/**
 * A run's zone status callbacks, and the progress shown between them: while
 * the zone is VALIDATING or MOVING (see {@link ZONE_PROGRESS}), the count its
 * tasks report is sent as the status info of the same status (SODAR's
 * format, {@link ZoneInfo.progress}), at most once per interval and once at
 * 100%. Every callback of the run goes through here one at a time, so a slow
 * progress callback can never land after a later status, and none is sent
 * after the run's last status (a finished zone never changes).
 *
 * @module
 */
import type { SiteClient } from '../site/client.js';
import type { ProgressKey, TaskProgress } from '../tasks/progress.js';
import { postZoneStatus, type ZoneStatusCall } from '../tasks/site-tasks.js';
import { STATUS_INFO_MAX, ZONE_PROGRESS, ZoneInfo } from './zone-status.js';

/** Options of {@link ZoneProgress}. */
export interface ZoneProgressOptions {
  /** Least time between a zone's status callback (or a progress one) and its next progress callback: TASKFLOW_ZONE_PROGRESS_INTERVAL. */
  intervalMs: number;
  /** Told of a progress callback that failed; the run goes on (see {@link ZoneProgress}). */
  onError?: (err: unknown, call: ZoneStatusCall) => void;
}

/** A status whose text shows progress, and the count it shows. */
interface ProgressBase {
  call: ZoneStatusCall;
  key: ProgressKey;
}

/** A count not sent yet, with the status it belongs to. */
interface Pending {
  base: ProgressBase;
  done: number;
  total: number;
}

/**
 * One run's zone status and progress callbacks.
 *
 * Progress callbacks are no part of the run's undo, and one that fails is
 * reported to `onError` and forgotten: it only changes a text the zone's
 * next status overwrites anyway (the next step's, the final one, or the
 * revert's), so failing, and rolling back, a move of a hundred thousand
 * files because a site missed one progress update would cost far more than
 * the update is worth. Status callbacks fail as before (their task fails).
 */
export class ZoneProgress implements TaskProgress {
  /** The status the run set last, when its text shows progress, and the count it shows. */
  private base: ProgressBase | undefined;
  /** Done of the last progress callback sent since that status. */
  private sentDone = -1;
  private pending: Pending | undefined;
  /** When the last callback (status or progress) was sent. */
  private lastAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly site: SiteClient,
    private readonly opts: ZoneProgressOptions,
  ) {}

  count(key: ProgressKey, done: number, total: number): void {
    const base = this.base;
    if (base === undefined || key !== base.key || total <= 0 || done <= this.sentDone) return;
    if (this.pending !== undefined && done <= this.pending.done) return;
    this.pending = { base, done: Math.min(done, total), total };
    if (this.pending.done === total && this.timer !== undefined) {
      // 100% goes as soon as the callback in flight (if any) has ended, not at the interval
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  async zoneStatus(call: ZoneStatusCall): Promise<void> {
    this.base = undefined;
    await this.settle(true);
    await postZoneStatus(this.site, call);
    this.lastAt = performance.now();
    this.sentDone = -1;
    const key = ZONE_PROGRESS[call.status];
    if (key !== undefined && !this.closed) this.base = { call, key };
  }

  /**
   * The run has ended: sends no more progress, and resolves once the
   * callback in flight (if any) has ended. Whatever status the run's end
   * reports comes after this.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.base = undefined;
    await this.settle(false);
  }

  /** Waits for the callback in flight; a pending 100% is sent first when `sendFull`, anything else pending is dropped. */
  private async settle(sendFull: boolean): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.pending;
    if (p !== undefined && !(sendFull && p.done === p.total)) this.pending = undefined;
    while (this.inFlight !== undefined || this.pending !== undefined) {
      if (this.inFlight === undefined) this.send(this.pending!);
      await this.inFlight;
    }
  }

  /** Sends the pending count now or once the interval has passed, one callback at a time. */
  private schedule(): void {
    const p = this.pending;
    if (p === undefined || this.inFlight !== undefined || this.timer !== undefined) return;
    const wait = p.done === p.total ? 0 : this.lastAt + this.opts.intervalMs - performance.now();
    if (wait <= 0) {
      this.send(p);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  private send(p: Pending): void {
    // the status comes with the count: settle() sends a pending 100% after zoneStatus() has cleared the base
    const { base } = p;
    this.pending = undefined;
    const call: ZoneStatusCall = {
      sodar_url: base.call.sodar_url,
      zone_uuid: base.call.zone_uuid,
      flow_name: base.call.flow_name,
      status: base.call.status,
      status_info: ZoneInfo.progress(base.call.status_info, p.done, p.total).slice(0, STATUS_INFO_MAX),
    };
    this.sentDone = p.done;
    this.lastAt = performance.now();
    this.inFlight = postZoneStatus(this.site, call)
      .catch((err: unknown) => {
        try {
          this.opts.onError?.(err, call);
        } catch {
          // a logger's failure changes nothing here
        }
      })
      .finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
  }
}
