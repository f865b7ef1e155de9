/**
 * Failed sign-ins counted per user name, so that guessing a password through
 * the sign-in page is slow for an attacker and cheap for the site: once a
 * name has failed too often in the window, further tries for it are refused
 * before any password is hashed (argon2id costs a third of a second of a
 * core; refusing first keeps a flood of guesses from taking the site's CPU).
 *
 * Counted by name, not by client address: behind a reverse proxy every
 * request comes from the proxy's address, and one person's mistakes would
 * lock everybody out. The price is that anyone can hold a name's sign-in
 * up for one window by failing on purpose; the window ends it.
 *
 * Counts live in memory: a restart forgets them (a guesser gains one
 * window). Memory is bounded by {@link SignInThrottleOptions.maxNames}; when
 * full, the names that failed longest ago go first.
 *
 * @module
 */

/** Settings of a {@link SignInThrottle}. */
export interface SignInThrottleOptions {
  /** Failed sign-ins of one user name within the window after which its sign-ins are refused. */
  maxFailures: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** Most names remembered at once. */
  maxNames?: number;
  /** The clock (milliseconds); tests pass their own. */
  now?: () => number;
}

/** Counts failed sign-ins; see the module comment. */
export class SignInThrottle {
  /** Failure times per user name, oldest first; never more than `maxFailures` per name. */
  private readonly failures = new Map<string, number[]>();
  private readonly maxNames: number;
  private readonly now: () => number;

  constructor(private readonly opts: SignInThrottleOptions) {
    this.maxNames = opts.maxNames ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until `username` may try a password again (at least 1), or 0 when it may now. */
  retryAfterSeconds(username: string): number {
    const now = this.now();
    const times = this.recent(username, now);
    if (times.length < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((times[0] + this.opts.windowMs - now) / 1000));
  }

  /** Records a failed sign-in of `username`. */
  failed(username: string): void {
    const now = this.now();
    const times = this.recent(username, now);
    times.push(now);
    if (times.length > this.opts.maxFailures) times.shift();
    // re-inserted so that the map's order is the order of last failure, oldest first
    this.failures.delete(username);
    this.failures.set(username, times);
    if (this.failures.size > this.maxNames) this.failures.delete(this.failures.keys().next().value as string);
  }

  /** Forgets the name's failures after a successful sign-in. */
  succeeded(username: string): void {
    this.failures.delete(username);
  }

  /** The name's failures still inside the window. */
  private recent(username: string, now: number): number[] {
    const times = this.failures.get(username) ?? [];
    const start = now - this.opts.windowMs;
    let expired = 0;
    while (expired < times.length && times[expired] <= start) expired++;
    return expired === 0 ? times : times.slice(expired);
  }
}
