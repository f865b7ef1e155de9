/**
 * The whole state a host system keeps, for all-or-nothing checks of the
 * site and the service together.
 *
 * @module
 */
import { loadConfig } from '../../src/config.js';
import { dumpDb, openDb } from '../../src/host/db/index.js';
import { openStore } from '../../src/store/index.js';

/**
 * The site's rows (not the timeline, which records what happened) and the
 * whole store of the data folder `dataDir`, read with nothing running.
 */
export async function hostState(dataDir: string): Promise<{ site: string[]; store: string[] }> {
  const config = loadConfig({ TASKFLOW_DATA_DIR: dataDir });
  const db = await openDb(config);
  const store = await openStore(config);
  try {
    return { site: await dumpDb(db, ['timeline_events', 'timeline_statuses']), store: await store.dump() };
  } finally {
    await store.close();
    await db.close();
  }
}
