/**
 * A landing zone full of files, made through a running service: the project,
 * its sample data collections and the zone are created by submits, then N
 * files with their `.md5` companions are put into the zone through the
 * embedded store (as an upload would). Used by the recovery test and the
 * zone-move benchmark.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { landingZonePath, sampleDataPath } from '../../src/flows/layout.js';
import { openEmbeddedStore } from '../../src/store/index.js';
import { TEST_SECRET, postJson } from './service-harness.js';
import { projectCreateBody, zoneCreateBody, type ZoneSpec } from './service-flows.js';
import type { TestSite } from './test-site.js';

/** Writes `count` distinct files of `size` bytes plus `.md5` companions into `dir/<assay>` and returns their folder. */
export function writeZoneFiles(dir: string, count: number, size: number): string {
  const root = join(dir, 'upload');
  const block = Buffer.alloc(size);
  for (let i = 0; i < size; i++) block[i] = (i * 131 + 7) & 0xff;
  const perDir = 1000;
  for (let i = 0; i < count; i++) {
    const sub = join(root, `batch_${String(Math.floor(i / perDir)).padStart(4, '0')}`);
    if (i % perDir === 0) mkdirSync(sub, { recursive: true });
    const name = `file_${String(i).padStart(7, '0')}.txt`;
    // distinct bytes per file: the index in the first bytes
    if (size > 0) block.write(String(i).padStart(Math.min(size, 12), '0').slice(0, size), 0, 'latin1');
    writeFileSync(join(sub, name), block);
    writeFileSync(join(sub, `${name}.md5`), `${createHash('md5').update(block).digest('hex')}  ${name}\n`);
  }
  return root;
}

/** The zone every helper here uses, in project `projectUuid`. */
export function defaultZone(): ZoneSpec {
  return { zoneUuid: 'zone-0000-4000-8000-000000000001', zoneTitle: '20261126_120000', userName: 'zone_user', assayPath: 'study_1/assay_1' };
}

/** Creates project, sample data and zone through the service at `serviceUrl`; the site learns of them by seeding. */
export async function createZone(serviceUrl: string, site: TestSite, projectUuid: string, zone: ZoneSpec): Promise<void> {
  site.seedProject({ project_uuid: projectUuid, title: 'Zone project' });
  site.seedSheet({ project_uuid: projectUuid });
  site.seedZone({ zone_uuid: zone.zoneUuid, project_uuid: projectUuid, status: 'CREATING', status_info: '' });
  const steps: Array<[string, Record<string, unknown>]> = [
    ['project_create', projectCreateBody(projectUuid, site.url)],
    [
      'sheet_colls_create',
      {
        ...projectCreateBody(projectUuid, site.url),
        flow_name: 'sheet_colls_create',
        targets: ['irods', 'sodar'],
        flow_data: { colls: [zone.assayPath] },
      },
    ],
    ['landing_zone_create', zoneCreateBody(projectUuid, site.url, zone)],
  ];
  for (const [name, body] of steps) {
    const res = await postJson(`${serviceUrl}/submit`, { ...body, sodar_secret: TEST_SECRET });
    if (res.status !== 200) throw new Error(`${name} failed: ${res.status} ${res.body}`);
  }
}

/** Puts a local folder into the zone collection through a second handle on the store. */
export async function uploadToZone(config: Config, projectUuid: string, zone: ZoneSpec, localDir: string): Promise<number> {
  const store = await openEmbeddedStore(config);
  try {
    const base = { zone: config.irodsZone, rootPath: config.irodsRootPath };
    const result = await store.putTree(localDir, landingZonePath(base, projectUuid, zone));
    return result.files;
  } finally {
    await store.close();
  }
}

/** Zone and sample data paths of the helper's zone. */
export function zonePaths(config: Config, projectUuid: string, zone: ZoneSpec): { zone: string; samples: string } {
  const base = { zone: config.irodsZone, rootPath: config.irodsRootPath };
  return { zone: landingZonePath(base, projectUuid, zone), samples: sampleDataPath(base, projectUuid, zone.assayPath) };
}
