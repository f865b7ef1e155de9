/**
 * sodar-taskflow: the engine, store, service and backend as a library.
 * Host apps that only talk to the service import `sodar-taskflow/backend`.
 *
 * @module
 */
export * from './config.js';
