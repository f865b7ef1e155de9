/**
 * How the test-only hooks of the service and the site stop a process at an
 * exact point for a crash test, or hold one step until the test lets it go:
 * a line on stderr says where, so a test waits for it instead of sleeping.
 *
 * @module
 */
import { writeSync } from 'node:fs';

/** Writes `line` to stderr, then blocks the process until it is killed. */
export function freezeForGood(line: string): never {
  writeSync(2, `${line}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}

/**
 * Writes `held` to stderr and resolves at the process's next SIGUSR2, once
 * `released` is written: only the caller waits, the process goes on.
 */
export function holdUntilSigusr2(held: string, released: string): Promise<void> {
  const go = new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
  writeSync(2, `${held}\n`);
  return go.then(() => {
    writeSync(2, `${released}\n`);
  });
}
