/**
 * The embedded store: SQLite catalog + vault folder.
 *
 * @module
 */
export { EmbeddedStore, type EmbeddedStoreOptions, type PendingObject } from './store.js';
export type { PutTreeOptions, PutTreeResult } from './put-tree.js';
