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
 * reason.
 *
 * @module
 */
import { pages } from '../store/pages.js';
import type { DataStore } from '../store/types.js';
import type { AccessSnapshot } from '../tasks/store-tasks.js';
import * as store from '../tasks/store-tasks.js';
import { isCompanion } from '../tasks/zone-check.js';
import { defineFlow, setZoneStatusOnFailure } from './define.js';
import { FlowBuildError } from './errors.js';
import { sampleDataPath } from './layout.js';
import { layoutOf } from './plan.js';
import { bool, relPath, str, userName } from './validate.js';
import { parseZone } from './zone-params.js';
import { ZoneExtra, ZoneInfo, ZoneStatus } from './zone-status.js';

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
  async build(plan, p) {
    const z = p.zone;
    const s = plan.deps.store;
    // the zone user and the script user keep nothing on sample data (see the revoke below)
    const leaving = [...new Set([z.userName, p.scriptUser].filter((n) => n !== ''))];
    // one pass over the zone's ACLs for the snapshots, one in the task: locking the zone for its user and
    // giving the group read (the files keep their ACL when moved: one store call, not one per file)
    const acl =
      plan.irods && !p.validateOnly ? await store.snapshotAccessMany(s, z.path, [...new Set([z.group, ...leaving])], true) : null;
    const listing = plan.irods ? await listZone(s, z.path, leaving, acl) : NOTHING_LISTED;
    const { chunks, relDirs, objects, files } = listing;
    const validating = { status: ZoneStatus.VALIDATING, status_info: ZoneInfo.validating(files) };

    plan.add(
      plan.zoneStatus(z.zoneUuid, ZoneStatus.PREPARING, ZoneInfo.preparing(p.validateOnly), {
        status: ZoneStatus.ACTIVE,
        status_info: ZoneInfo.active,
      }),
    );
    plan.add(
      plan.zoneStatus(z.zoneUuid, validating.status, validating.status_info, {
        status: ZoneStatus.PREPARING,
        status_info: ZoneInfo.preparing(p.validateOnly),
      }),
    );
    plan.add(store.checkZone('Validate landing zone files and checksums', { zone_path: z.path, verify: p.verify }));
    if (p.validateOnly) {
      plan.addFinal(plan.zoneStatus(z.zoneUuid, ZoneStatus.ACTIVE, ZoneInfo.validated(files), validating, ZoneExtra.validated));
      return;
    }

    const userBefore = acl?.[z.userName] ?? null;
    plan.add(
      store.setAccesses(`Set user "${z.userName}" read and project user group read access to landing zone`, {
        path: z.path,
        recursive: true,
        grants: [
          { name: z.userName, level: 'read', before: userBefore },
          { name: z.group, level: 'read', before: acl?.[z.group] ?? null },
        ],
      }),
    );
    plan.add(plan.zoneStatus(z.zoneUuid, ZoneStatus.MOVING, ZoneInfo.moving(files), validating));

    const dirs = [...relDirs].map((d) => (d ? `${p.samplePath}/${d}` : p.samplePath));
    if (dirs.length > 0) await plan.createCollections('Create collections in sample data', dirs);
    // SODAR Taskflow v0.6.2 (flows/landing_zone_move.py) removed the zone user's and then the script user's
    // access on the sample path after the move (SetAccessTask, access "null", recursive). Here each chunk's
    // move drops them from its own objects in the same store transaction, with their previous levels as the
    // undo (a chunk at a time: a 100,000-file zone never has its per-file ACLs in memory at once)...
    chunks.forEach((names, i) => {
      const first = i * MOVE_CHUNK + 1;
      const last = Math.min(objects, (i + 1) * MOVE_CHUNK);
      const revoke = leaving.map((name) => ({ name, before: listing.revokeBefore[i]?.[name] ?? null }));
      plan.add(store.moveObjects(`Move files ${first}-${last} of ${objects}`, { src: z.path, dst: p.samplePath, names, revoke }));
    });
    // ...and, as the original, nothing else on the sample path names them (collections, files moved before)
    if (plan.irods && leaving.length > 0 && (objects > 0 || (await s.collectionExists(p.samplePath)))) {
      const before = await store.snapshotAccessMany(s, p.samplePath, leaving, true);
      plan.add(
        store.setAccesses(`Remove user${p.scriptUser ? ' and script user' : ''} access on sample path`, {
          path: p.samplePath,
          recursive: true,
          grants: leaving.map((name) => ({ name, level: 'null', before: before?.[name] ?? null })),
        }),
      );
    }
    await plan.setAccess(`Remove user "${z.userName}" access to landing zone`, z.path, z.userName, 'null', true, userBefore);
    await plan.trash('Remove landing zone collection', z.path, true);
    plan.addFinal(plan.zoneStatus(z.zoneUuid, ZoneStatus.MOVED, ZoneInfo.moved(files), null, ZoneExtra.moved(files)));
  },
  onFailure: setZoneStatusOnFailure(ZoneStatus.FAILED),
});

/** What {@link listZone} found: the zone's objects in move chunks, their folders and counts. */
interface ZoneListing {
  /** Names relative to the zone, {@link MOVE_CHUNK} per chunk, packed for the move task. */
  chunks: string[];
  /** Folders holding objects, relative to the zone (`''`: the zone itself). */
  relDirs: Set<string>;
  /** Objects, companions included. */
  objects: number;
  /** Data files (without companions). */
  files: number;
  /** Per chunk, the access before the flow of each principal the move revokes, on that chunk's objects. */
  revokeBefore: Array<Record<string, AccessSnapshot>>;
}

/** The listing of a run without the `irods` target. */
const NOTHING_LISTED: ZoneListing = { chunks: [], relDirs: new Set(), objects: 0, files: 0, revokeBefore: [] };

/**
 * Lists the zone once, a page at a time. Names are relative as the store
 * cuts them (the long base paths are kept once, not per file) and packed a
 * chunk at a time: the plan holds them all until the run ends. `acl`: the
 * zone's access snapshots (keyed relative to the zone, like the names), cut
 * per chunk for each of `revoked`.
 */
async function listZone(
  s: DataStore,
  zonePath: string,
  revoked: readonly string[],
  acl: Record<string, AccessSnapshot> | null,
): Promise<ZoneListing> {
  if (!(await s.collectionExists(zonePath))) throw new FlowBuildError(`Landing zone collection not found: ${zonePath}`);
  const found: ZoneListing = { chunks: [], relDirs: new Set(), objects: 0, files: 0, revokeBefore: [] };
  const snaps = acl ? revoked.map((name) => [name, acl[name]] as const) : [];
  let chunk: string[] = [];
  let before: Record<string, AccessSnapshot> = {};
  const startChunk = () => {
    chunk = [];
    before = Object.fromEntries(snaps.map(([name, snap]) => [name, { level: snap.level, except: {} }]));
  };
  startChunk();
  for await (const page of pages((o) => s.listObjectPaths(zonePath, { relative: true, ...o }), (n) => n)) {
    for (const n of page) {
      found.objects++;
      if (!isCompanion(n)) found.files++;
      found.relDirs.add(n.slice(0, Math.max(0, n.lastIndexOf('/'))));
      chunk.push(n);
      for (const [name, snap] of snaps) {
        const level = snap.except[n];
        if (level !== undefined) before[name].except[n] = level;
      }
      if (chunk.length === MOVE_CHUNK) {
        found.chunks.push(store.packNames(chunk));
        found.revokeBefore.push(before);
        startChunk();
      }
    }
  }
  if (chunk.length > 0) {
    found.chunks.push(store.packNames(chunk));
    found.revokeBefore.push(before);
  }
  return found;
}
