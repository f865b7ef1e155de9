/**
 * Test-only hook for crash tests: `TASKFLOW_TEST_FREEZE_AT=<flow>:<start|done>:<index>`
 * (a negative index counts from the end) makes the first matching run write
 * `TASKFLOW_TEST_FROZEN run=<id> task=<index>` to stderr and then block the
 * process for good, so a test can SIGKILL it at exactly that point without
 * guessing with sleeps. Honoured only when the service is in test mode.
 *
 * @module
 */
import { writeSync } from 'node:fs';
import { RunEvents } from '../engine/index.js';

/** The environment variable of the hook. */
export const FREEZE_ENV = 'TASKFLOW_TEST_FREEZE_AT';
/** The line prefix written when frozen. */
export const FROZEN_MARKER = 'TASKFLOW_TEST_FROZEN';

interface FreezePoint {
  flow: string;
  event: 'start' | 'done';
  index: number;
}

function parseFreezePoint(value: string | undefined): FreezePoint | undefined {
  if (!value) return undefined;
  const m = /^([\w-]+):(start|done):(-?\d+)$/.exec(value.trim());
  if (!m) throw new Error(`${FREEZE_ENV} must look like <flow>:<start|done>:<index>, got "${value}"`);
  return { flow: m[1], event: m[2] as 'start' | 'done', index: Number(m[3]) };
}

/** Builds per-run events that freeze the process at the configured point, or undefined when off. */
export class FreezeHook {
  private fired = false;

  private constructor(private readonly point: FreezePoint) {}

  /** The hook from the environment; undefined unless set and in test mode. */
  static fromEnv(testMode: boolean, env: NodeJS.ProcessEnv = process.env): FreezeHook | undefined {
    const point = parseFreezePoint(env[FREEZE_ENV]);
    return testMode && point ? new FreezeHook(point) : undefined;
  }

  /** Events to pass to this run, or undefined when the hook does not apply to it. */
  eventsFor(flowName: string, runId: string, taskCount: number): RunEvents | undefined {
    if (this.fired || flowName !== this.point.flow) return undefined;
    const index = this.point.index < 0 ? taskCount + this.point.index : this.point.index;
    const events = new RunEvents();
    events.on(`task:${this.point.event}`, (e: { index: number }) => {
      if (this.fired || e.index !== index) return;
      this.fired = true;
      writeSync(2, `${FROZEN_MARKER} run=${runId} task=${index} of=${taskCount}\n`);
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (;;) Atomics.wait(cell, 0, 0);
    });
    return events;
  }
}
