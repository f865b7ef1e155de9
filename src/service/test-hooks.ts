/**
 * Test-only hook for crash tests: `TASKFLOW_TEST_FREEZE_AT=<flow>:<start|done>:<index>`
 * (a negative index counts from the end) makes the first matching run write
 * `TASKFLOW_TEST_FROZEN run=<id> task=<index>` to stderr and then block the
 * process for good, so a test can SIGKILL it at exactly that point without
 * guessing with sleeps. Honoured only when the service is in test mode.
 *
 * @module
 */
import { RunEvents } from '../engine/index.js';
import { freezeForGood, holdUntilSigusr2 } from '../test-holds.js';

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
      freezeForGood(`${FROZEN_MARKER} run=${runId} task=${index} of=${taskCount}`);
    });
    return events;
  }
}

/**
 * The flow a hook set to a flow name names (`name` in `env`); undefined when
 * unset. A value that is no flow name stops the process, so a mistyped hook
 * never leaves a test waiting for a freeze that cannot come.
 */
function hookFlow(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const flow = env[name]?.trim();
  if (!flow) return undefined;
  if (!/^[\w-]+$/.test(flow)) throw new Error(`${name} must be a flow name, got "${flow}"`);
  return flow;
}

/** The environment variable of the pre-journal freeze hook. */
export const FREEZE_UNJOURNALED_ENV = 'TASKFLOW_TEST_FREEZE_UNJOURNALED';
/** The line prefix written when a submit is frozen before the journal saw it. */
export const FROZEN_UNJOURNALED_MARKER = 'TASKFLOW_TEST_FROZEN_UNJOURNALED';

/**
 * Test-only hook for lost-submit tests: `TASKFLOW_TEST_FREEZE_UNJOURNALED=<flow>`
 * makes the first valid submit of that flow write
 * `TASKFLOW_TEST_FROZEN_UNJOURNALED flow=<flow>` to stderr and block the
 * process for good once the submit was read whole and validated, before
 * the journal records anything of it, so a test can SIGKILL the service
 * there. Honoured only in test mode.
 */
export class UnjournaledFreezeHook {
  private fired = false;

  private constructor(private readonly flow: string) {}

  /** The hook from the environment; undefined unless set and in test mode. */
  static fromEnv(testMode: boolean, env: NodeJS.ProcessEnv = process.env): UnjournaledFreezeHook | undefined {
    const flow = hookFlow(env, FREEZE_UNJOURNALED_ENV);
    return testMode && flow !== undefined ? new UnjournaledFreezeHook(flow) : undefined;
  }

  /** Blocks the process for good when `flowName` is the hook's flow (the first time). */
  before(flowName: string): void {
    if (this.fired || flowName !== this.flow) return;
    this.fired = true;
    freezeForGood(`${FROZEN_UNJOURNALED_MARKER} flow=${flowName}`);
  }
}

/** The environment variable of the pause hook. */
export const PAUSE_ENV = 'TASKFLOW_TEST_PAUSE_AT';
/** The line prefix written when a run pauses; the run goes on at the process's next SIGUSR2. */
export const PAUSED_MARKER = 'TASKFLOW_TEST_PAUSED';
/** The line prefix written when the paused run goes on. */
export const RESUMED_MARKER = 'TASKFLOW_TEST_RESUMED';

interface PausePoint {
  flow: string;
  /** A task index (negative: from the end), or the kind of the first task of that kind. */
  at: number | string;
}

function parsePausePoint(value: string | undefined): PausePoint | undefined {
  if (!value) return undefined;
  const m = /^([\w-]+):(-?\d+|[\w.]+)$/.exec(value.trim());
  if (!m) throw new Error(`${PAUSE_ENV} must look like <flow>:<task index or kind>, got "${value}"`);
  return { flow: m[1], at: /^-?\d+$/.test(m[2]) ? Number(m[2]) : m[2] };
}

/**
 * Test-only hook for progress tests: `TASKFLOW_TEST_PAUSE_AT=<flow>:<index|kind>`
 * holds the first matching run once that task (by index, or the first of
 * that kind) is applied, writes `TASKFLOW_TEST_PAUSED run=<id> task=<index>
 * of=<count>` to stderr, and lets it go on when the process gets SIGUSR2
 * (`TASKFLOW_TEST_RESUMED run=<id>`). Unlike the freeze hook only the run
 * waits: the process keeps serving requests and sending callbacks, so a test
 * sees what a run shows part-way without guessing with sleeps. Honoured only
 * in test mode.
 */
export class PauseHook {
  private fired = false;

  private constructor(private readonly point: PausePoint) {}

  /** The hook from the environment; undefined unless set and in test mode. */
  static fromEnv(testMode: boolean, env: NodeJS.ProcessEnv = process.env): PauseHook | undefined {
    const point = parsePausePoint(env[PAUSE_ENV]);
    return testMode && point ? new PauseHook(point) : undefined;
  }

  /** The runner's `afterTask` for this run, or undefined when the hook does not apply to it. */
  afterTaskFor(flowName: string, runId: string, kinds: readonly string[]): ((index: number) => Promise<void> | void) | undefined {
    if (this.fired || flowName !== this.point.flow) return undefined;
    const at = this.point.at;
    const index = typeof at === 'number' ? (at < 0 ? kinds.length + at : at) : kinds.indexOf(at);
    if (index < 0) return undefined;
    return (i) => {
      if (this.fired || i !== index) return;
      this.fired = true;
      return holdUntilSigusr2(`${PAUSED_MARKER} run=${runId} task=${index} of=${kinds.length}`, `${RESUMED_MARKER} run=${runId}`);
    };
  }
}

/** The environment variable of the report hook. */
export const HOLD_REPORT_ENV = 'TASKFLOW_TEST_HOLD_REPORT';
/** The line prefix written when a run's report is held; it goes out at the process's next SIGUSR2. */
export const REPORT_HELD_MARKER = 'TASKFLOW_TEST_REPORT_HELD';
/** The line prefix written when the held report goes out. */
export const REPORT_RELEASED_MARKER = 'TASKFLOW_TEST_REPORT_RELEASED';

/**
 * Test-only hook for report tests: `TASKFLOW_TEST_HOLD_REPORT=<flow>` holds
 * the first async run of that flow once its final record is durable, before
 * its outcome is reported to the site: it writes `TASKFLOW_TEST_REPORT_HELD
 * run=<id>` to stderr and reports at the process's next SIGUSR2
 * (`TASKFLOW_TEST_REPORT_RELEASED run=<id>`). The process lives on (its
 * owner lease renewed), so a test can SIGKILL it exactly between the final
 * record and the report, or let a peer look at a live owner's unreported
 * run. Honoured only in test mode.
 */
export class ReportHook {
  private fired = false;

  private constructor(private readonly flow: string) {}

  /** The hook from the environment; undefined unless set and in test mode. */
  static fromEnv(testMode: boolean, env: NodeJS.ProcessEnv = process.env): ReportHook | undefined {
    const flow = hookFlow(env, HOLD_REPORT_ENV);
    return testMode && flow !== undefined ? new ReportHook(flow) : undefined;
  }

  /** Resolves when run `runId` of `flowName` may be reported (at once unless the hook holds it). */
  beforeReport(flowName: string, runId: string): Promise<void> | undefined {
    if (this.fired || flowName !== this.flow) return undefined;
    this.fired = true;
    return holdUntilSigusr2(`${REPORT_HELD_MARKER} run=${runId}`, `${REPORT_RELEASED_MARKER} run=${runId}`);
  }
}
