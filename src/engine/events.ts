/**
 * Progress events of runs, for logs and live status.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { RunResult } from './types.js';

/** Payload of every task event. */
export interface TaskEvent {
  runId: string;
  /** Position of the task in the flow. */
  index: number;
  name: string;
  kind: string;
  /** Execute time (`task:done`, `task:failed`) or revert time (`task:reverted`, `task:revert_failed`). */
  durationMs?: number;
  /** Error message (`task:failed`, `task:revert_failed`). */
  error?: string;
  /** What a revert could not restore (`task:reverted`). */
  note?: string;
}

/** Event names and their arguments. */
export interface RunEventMap {
  'task:start': [TaskEvent];
  'task:done': [TaskEvent];
  'task:failed': [TaskEvent];
  'task:reverted': [TaskEvent];
  'task:revert_failed': [TaskEvent];
  'run:end': [RunResult];
}

/**
 * Typed emitter of run events. The engine builds event payloads only when an
 * event has listeners, so an idle emitter costs nothing per task. Listeners
 * run synchronously inside the run: keep them quick, and do not throw
 * (a throwing listener is caught and ignored so it cannot break a run).
 */
export class RunEvents extends EventEmitter<RunEventMap> {}
