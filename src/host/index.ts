/**
 * The reference host site: a small SODAR-like web app over the taskflow
 * backend (`taskflow site`, `taskflow start`, `taskflow manage ...`).
 *
 * @module
 */
export { startSite, buildSiteApp, siteContext, type RunningSite, type SiteOptions } from './server.js';
export { openDb, dumpDb, describeDb, sqlitePath, type Db, DatabaseUnavailableError } from './db/index.js';
export { syncTaskflow, TaskflowNotEnabledError, SyncProjectError, type SyncSummary } from './synctaskflow.js';
export { DbPluginStore, siteRegistry } from './plugin-store.js';
export { SiteApi, SiteApiError } from './client.js';
export { ensureAdmin, adminTokenPath, readAdminToken, ADMIN_USERNAME } from './admin.js';
export { ensureSecret, secretPath } from './secret.js';
export * from './constants.js';
