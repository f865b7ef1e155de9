/**
 * The plugin registry's {@link PluginStore} over the site database, and the
 * site's registry: the taskflow backend plugin (with the site's settings)
 * plus the site's project app plugins.
 *
 * @module
 */
import type { Config } from '../config.js';
import { PROJECT_TYPE_PROJECT, ZONE_OPERABLE } from './constants.js';
import type { Db } from './db/types.js';
import { PluginRegistry, TaskflowBackendPlugin, type PluginStore, type ProjectAppPluginPoint, type TaskflowSyncItem } from './plugins/index.js';
import { getAssay, getInvestigation, getUser, listProjects, listZones, sheetCollectionPaths, pluginNames, registerPlugin } from './repo.js';

/** Registered plugins in the `plugins` table. */
export class DbPluginStore implements PluginStore {
  constructor(private readonly db: Db) {}

  /** {@inheritDoc PluginStore.registeredNames} */
  registeredNames(): Promise<string[]> {
    return pluginNames(this.db);
  }

  /** {@inheritDoc PluginStore.register} */
  async register(name: string, type: string, path: string): Promise<void> {
    if ((await pluginNames(this.db)).includes(name)) return;
    await registerPlugin(this.db, name, type, path);
  }
}

/** Sample sheets: projects whose collections exist get sheet_colls_create again. */
export class SampleSheetsPlugin implements ProjectAppPluginPoint {
  readonly type = 'project_app' as const;
  readonly name = 'samplesheets';
  readonly title = 'Sample Sheets';
  readonly path = 'samplesheets.plugins.ProjectAppPlugin';
  readonly description = 'Sample sheets with studies and assays';
  constructor(private readonly db: Db) {}

  async getTaskflowSyncData(): Promise<TaskflowSyncItem[]> {
    const items: TaskflowSyncItem[] = [];
    for (const p of await listProjects(this.db)) {
      if (p.type !== PROJECT_TYPE_PROJECT) continue;
      const inv = await getInvestigation(this.db, p.uuid);
      if (!inv || !inv.irods_status) continue;
      items.push({
        project_uuid: p.uuid,
        flow_name: 'sheet_colls_create',
        flow_data: { colls: await sheetCollectionPaths(this.db, inv.uuid), public_guest_access: p.public_guest_access },
      });
    }
    return items;
  }
}

/** Landing zones: zones that should exist (ACTIVE or FAILED) get landing_zone_create again. */
export class LandingZonesPlugin implements ProjectAppPluginPoint {
  readonly type = 'project_app' as const;
  readonly name = 'landingzones';
  readonly title = 'Landing Zones';
  readonly path = 'landingzones.plugins.ProjectAppPlugin';
  readonly description = 'Landing zones for uploading files into sample data';
  constructor(private readonly db: Db) {}

  async getTaskflowSyncData(): Promise<TaskflowSyncItem[]> {
    const items: TaskflowSyncItem[] = [];
    for (const p of await listProjects(this.db)) {
      if (p.type !== PROJECT_TYPE_PROJECT) continue;
      for (const z of await listZones(this.db, p.uuid)) {
        if (!ZONE_OPERABLE.includes(z.status)) continue;
        const user = await getUser(this.db, z.user_uuid);
        const assay = await getAssay(this.db, z.assay_uuid);
        if (!user || !assay) continue;
        items.push({
          project_uuid: p.uuid,
          flow_name: 'landing_zone_create',
          flow_data: {
            zone_title: z.title,
            zone_uuid: z.uuid,
            user_name: user.username,
            user_uuid: user.uuid,
            assay_path: assay.path,
            description: z.description,
            zone_config: z.configuration,
            colls: [],
          },
        });
      }
    }
    return items;
  }
}

/** The site's plugins: taskflow (using the site's settings), sample sheets, landing zones. */
export function siteRegistry(config: Config, db: Db): PluginRegistry {
  return new PluginRegistry([new TaskflowBackendPlugin(config), new SampleSheetsPlugin(db), new LandingZonesPlugin(db)]);
}
