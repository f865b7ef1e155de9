/**
 * landing_zone_move: zone PREPARING, VALIDATING; every file checked against
 * its `.md5` companion (catalog checksum, and the bytes when verifying);
 * validate_only stops there with the zone ACTIVE. Otherwise the zone is
 * locked read-only for its user, MOVING, the needed collections are created
 * under sample data, every object (companions included, they stay with their
 * files as in SODAR's sample data) is moved in chunks (the project group
 * gets read on them first; each chunk's move also drops the zone user's and
 * the script user's access on its objects), the two lose any access left on
 * the sample path, the user's access to the zone is removed, the zone
 * collection goes to the trash, and the zone is MOVED with the file count
 * (last: a moved zone never changes again). Any failure: zone FAILED with the
 * reason. The check counts files checked and each chunk the files moved so
 * far: the run's progress, shown in the zone's status info while it is
 * VALIDATING and MOVING (see zone-progress.ts).
 *
 * @module
 */
import { NotFoundError } from '../store/errors.js';
import { pages } from '../store/pages.js';
import type { FlowStore } from '../store/types.js';
import { ProgressKey } from '../tasks/progress.js';
import * as store from '../tasks/store-tasks.js';
import { isCompanion } from '../tasks/zone-check.js';
import { defineFlow, setZoneStatusOnFailure } from './define.js';
import { FlowBuildError } from './errors.js';
import { sampleDataPath } from './layout.js';
import { layoutOf } from './plan.js';
import { bool, relPath, str, userName } from './validate.js';
import { parseZone } from './zone-params.js';
import { ZoneAtStart, ZoneExtra, ZoneInfo, ZoneStatus } from './zone-status.js';

/** Objects moved by one task: bounds the size of one journaled task and one store transaction. */
export const MOVE_CHUNK = 1000;

export const landingZoneMove = defineFlow({
  name: 'landing_zone_move',
  modes: ['sync', 'async'],
  required: ['zone_title', 'zone_uuid', 'assay_path_zone', 'assay_path_samples', 'user_name'],
  needsLock: (input) => !bool(input.flowData, 'validate_only'),
  parse(input, deps) {
    const layout = layoutOf(deps);
    const zone = parseZone(input, layout, 'assay_path_zone');
    const d = input.flowData;
    const scriptUser = str(d, 'script_user');
    return {
      zone,
      scriptUser: scriptUser === '' ? '' : userName(scriptUser, 'script_user'),
      samplePath: sampleDataPath(layout, zone.projectUuid, relPath(str(d, 'assay_path_samples'), 'assay_path_samples')),
      validateOnly: bool(d, 'validate_only'),
      verify: deps.config.verifyChecksums,
    };
  },
  queue: (input) => (Boolean(input.flowData.validate_only) ? 'validation' : 'run'),
  async build(plan, p) {
    const z = p.zone;
    const s = plan.deps.store;
    // the zone user and the script user keep nothing on sample data (see the revoke below)
    const leaving = [...new Set([z.userName, p.scriptUser].filter((n) => n !== ''))];
    const { chunks, chunkFiles, relDirs, objects, files } = plan.irods ? await listZone(s, z.path) : NOTHING_LISTED;

    const start = ZoneAtStart.move(p.validateOnly);
    plan.zoneFoundAt(start.status, start.info);
    plan.add(plan.zoneStatus(z.zoneUuid, start.status, start.info));
    plan.add(plan.zoneStatus(z.zoneUuid, ZoneStatus.VALIDATING, ZoneInfo.validating(files)));
    plan.add(store.checkZone('Validate landing zone files and checksums', { zone_path: z.path, verify: p.verify }));
    if (p.validateOnly) {
      plan.addClosing(plan.zoneStatus(z.zoneUuid, ZoneStatus.ACTIVE, ZoneInfo.validated(files), { extra: ZoneExtra.validated }));
      return;
    }

    // one pass over the zone's ACLs: locking the zone for its user and giving the group read
    // (the files keep their ACL when moved: one store call, not one per file)
    plan.add(
      store.setAccesses(`Set user "${z.userName}" read and project user group read access to landing zone`, {
        path: z.path,
        recursive: true,
        grants: [
          { name: z.userName, level: 'read' },
          { name: z.group, level: 'read' },
        ],
      }),
    );
    plan.add(plan.zoneStatus(z.zoneUuid, ZoneStatus.MOVING, ZoneInfo.moving(files)));

    const dirs = [...relDirs].map((d) => (d ? `${p.samplePath}/${d}` : p.samplePath));
    if (dirs.length > 0) plan.add(store.createCollections('Create collections in sample data', { paths: dirs }));
    // SODAR Taskflow v0.6.2 (flows/landing_zone_move.py) removed the zone user's and then the script user's
    // access on the sample path after the move (SetAccessTask, access "null", recursive). Here each chunk's
    // move drops them from its own objects in the same store transaction; its prepare reads their levels on
    // that chunk alone (a 100,000-file zone never has its per-file ACLs in memory or in one journal record)...
    // Each chunk counts the data files moved once it is done, for the run's progress and the zone's status info.
    let moved = 0;
    chunks.forEach((names, i) => {
      const first = i * MOVE_CHUNK + 1;
      const last = Math.min(objects, (i + 1) * MOVE_CHUNK);
      moved += chunkFiles[i];
      const progress = { key: ProgressKey.filesMoved, done: moved, total: files };
      plan.add(store.moveObjects(`Move files ${first}-${last} of ${objects}`, { src: z.path, dst: p.samplePath, names, revoke: leaving, progress }));
    });
    // ...and, as the original, nothing else on the sample path names them (collections, files moved before)
    if (plan.irods && leaving.length > 0 && (objects > 0 || (await s.stat(p.samplePath))?.type === 'collection')) {
      plan.add(
        store.setAccesses(`Remove user${p.scriptUser ? ' and script user' : ''} access on sample path`, {
          path: p.samplePath,
          recursive: true,
          grants: leaving.map((name) => ({ name, level: 'null' })),
        }),
      );
    }
    plan.add(
      store.setAccess(`Remove user "${z.userName}" access to landing zone`, { path: z.path, name: z.userName, level: 'null', recursive: true }),
    );
    plan.add(store.trash('Remove landing zone collection', { path: z.path, refuse_objects: true }));
    plan.addClosing(plan.zoneStatus(z.zoneUuid, ZoneStatus.MOVED, ZoneInfo.moved(files), { final: true, extra: ZoneExtra.moved(files) }));
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.FAILED),
});

/** What {@link listZone} found: the zone's objects in move chunks, their folders and counts. */
interface ZoneListing {
  /** Names relative to the zone, {@link MOVE_CHUNK} per chunk, packed for the move task. */
  chunks: string[];
  /** Data files (without companions) of each chunk. */
  chunkFiles: number[];
  /** Folders holding objects, relative to the zone (`''`: the zone itself). */
  relDirs: Set<string>;
  /** Objects, companions included. */
  objects: number;
  /** Data files (without companions). */
  files: number;
}

/** The listing of a run without the `irods` target. */
const NOTHING_LISTED: ZoneListing = { chunks: [], chunkFiles: [], relDirs: new Set(), objects: 0, files: 0 };

/**
 * Lists the zone once, a page at a time. Names are relative as the store
 * cuts them (the long base paths are kept once, not per file) and packed a
 * chunk at a time: the plan holds them all until the run ends. A zone that
 * is not a collection fails the build.
 */
async function listZone(s: FlowStore, zonePath: string): Promise<ZoneListing> {
  try {
    return await listZonePages(s, zonePath);
  } catch (err) {
    // the listing refuses what is not a collection: no look at the zone before it
    if (err instanceof NotFoundError && err.path === zonePath) {
      throw new FlowBuildError(`Landing zone collection not found: ${zonePath}`, { cause: err });
    }
    throw err;
  }
}

async function listZonePages(s: FlowStore, zonePath: string): Promise<ZoneListing> {
  const found: ZoneListing = { chunks: [], chunkFiles: [], relDirs: new Set(), objects: 0, files: 0 };
  let chunk: string[] = [];
  let chunkFiles = 0;
  const endChunk = (): void => {
    found.chunks.push(store.packNames(chunk));
    found.chunkFiles.push(chunkFiles);
    chunk = [];
    chunkFiles = 0;
  };
  for await (const page of pages((o) => s.listObjectPaths(zonePath, { relative: true, ...o }), (n) => n)) {
    for (const n of page) {
      found.objects++;
      if (!isCompanion(n)) {
        found.files++;
        chunkFiles++;
      }
      found.relDirs.add(n.slice(0, Math.max(0, n.lastIndexOf('/'))));
      chunk.push(n);
      if (chunk.length === MOVE_CHUNK) endChunk();
    }
  }
  if (chunk.length > 0) endChunk();
  return found;
}
