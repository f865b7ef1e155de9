/**
 * One log line for a burst of like events. A server refuses connections
 * when it is full, which is when it can least afford a line per refusal,
 * and a flood of connections would otherwise fill the log as fast as the
 * flood comes. So the first event of a burst is logged at once, and the
 * rest are counted: one line per interval while the burst lasts, and one
 * when the server closes.
 *
 * @module
 */

/** How often a burst's count is logged while it lasts. */
export const BURST_LOG_INTERVAL_MS = 10_000;

/** Logs bursts of one kind of event; see the module. */
export class BurstLog {
  private counted = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param emit logs one line standing for `count` events: 1 for a burst's
   *   first, the number counted since the last line for the others
   * @param intervalMs how long a burst's events are counted before the count is logged
   */
  constructor(
    private readonly emit: (count: number) => void,
    private readonly intervalMs = BURST_LOG_INTERVAL_MS,
  ) {}

  /** One event: logged now when none came in the last interval, else counted. */
  note(): void {
    if (this.timer) {
      this.counted++;
      return;
    }
    this.emit(1);
    this.arm();
  }

  /** Logs what is counted and not logged yet; the next event starts a new burst. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.logCounted();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    // a quiet server's exit must not wait for the end of an interval
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    // nothing came in the whole interval: the burst is over
    if (this.counted === 0) return;
    this.logCounted();
    this.arm();
  }

  private logCounted(): void {
    if (this.counted === 0) return;
    const count = this.counted;
    this.counted = 0;
    this.emit(count);
  }
}
