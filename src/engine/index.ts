/**
 * The engine: flows of reversible tasks, run and reverted with a journal.
 *
 * @module
 */
export * from './types.js';
export {
  EngineError,
  DuplicateTaskKindError,
  UnknownTaskKindError,
  RunNotFoundError,
  RunStateError,
  DuplicateRunError,
  RunCancelledError,
  RunFencedError,
  UndoNotJsonError,
  NothingAppliedError,
  RunEndNotRecordedError,
  RevertDeferredError,
} from './errors.js';
export * from './registry.js';
export * from './flow.js';
export * from './events.js';
export * from './journal.js';
export * from './fences.js';
export * from './memory-journal.js';
export * from './sqlite-journal.js';
export { CHECKPOINT_WORKER_AFTER_COMMITS, WAL_BACKSTOP_PAGES } from './checkpointer.js';
export * from './runner.js';
export * from './run-id.js';
export * from './progress.js';
export * from './recover.js';
