/**
 * Polling a condition with a deadline: how service tests wait for background
 * work (async runs, callbacks) without sleeping a fixed time.
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves with the first truthy value of `probe`; rejects after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}
