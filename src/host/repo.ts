/**
 * The site's repositories in one import: each aggregate keeps its own in its
 * folder (users, projects, roles, timeline, sheets, zones, plugins). Every
 * function takes the {@link Db} (or a transaction) as first argument, so
 * callers choose the transaction scope.
 *
 * @module
 */
export * from './users/repository.js';
export * from './projects/repository.js';
export * from './projects/settings.js';
export * from './roles/repository.js';
export * from './timeline/repository.js';
export * from './sheets/repository.js';
export * from './zones/repository.js';
export * from './plugins/repository.js';
export * from './undo/repository.js';
