/**
 * Putting a local folder into the store: files are staged (copied into the
 * vault, hashed on the way, and synced when the store syncs) by the worker
 * threads in jobs of several files, a few jobs in flight so every worker
 * stays busy while the main thread commits; objects are committed in batches
 * so the catalog does not pay one transaction per file. Memory stays flat:
 * the folder is walked as a stream and at most one batch is pending.
 *
 * @module
 */
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import { joinPath } from '../paths.js';
import type { StoreCore } from './core.js';
import type { Objects, PendingObject } from './objects.js';
import type { StagedFile } from './vault.js';

/** Options of {@link putTree}. */
export interface PutTreeOptions {
  /** Replace existing objects instead of failing. */
  overwrite?: boolean;
  /** Files per staging job sent to a worker thread (default 16). */
  stageBatch?: number;
  /** Staging jobs in flight. Default: two per copying worker thread, so none idles between jobs. */
  concurrency?: number;
  /** Objects per catalog commit (default 256). */
  batchSize?: number;
  /** Called after each staged file with the totals so far. */
  onProgress?: (done: { files: number; bytes: number }) => void;
}

/** What {@link putTree} put. */
export interface PutTreeResult {
  files: number;
  bytes: number;
  /** Collections created (existing ones are not counted). */
  collections: number;
}

type WalkItem = { kind: 'dir' | 'file'; rel: string; local: string };

/**
 * Folders before their contents, depth first, in the order the file system
 * lists them; symlinks followed. Streamed: a folder of 100,000 files costs
 * the same memory as one of ten (its entries are never all held, nor
 * sorted: the catalog sorts anyway).
 */
async function* walk(root: string, rel = ''): AsyncGenerator<WalkItem> {
  const dir = rel === '' ? root : join(root, rel);
  // the iterator closes the folder when the loop ends, also on a throw or an early return
  for await (const d of await fsp.opendir(dir)) {
    const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
    const local = join(dir, d.name);
    let isDir = d.isDirectory();
    let isFile = d.isFile();
    if (d.isSymbolicLink()) {
      const st = await fsp.stat(local);
      isDir = st.isDirectory();
      isFile = st.isFile();
    }
    if (isDir) {
      yield { kind: 'dir', rel: childRel, local };
      yield* walk(root, childRel);
    } else if (isFile) {
      yield { kind: 'file', rel: childRel, local };
    }
  }
}

/** Puts `localDir` recursively into collection `target` (a normalised path). */
export async function putTree(
  objects: Pick<Objects, 'commitObjects'>,
  store: Pick<StoreCore, 'vault' | 'hashWorkers' | 'normalize'>,
  localDir: string,
  target: string,
  opts: PutTreeOptions = {},
): Promise<PutTreeResult> {
  const st = await fsp.stat(localDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new NotFoundError(localDir, 'file', 'not a local folder');
  const stageBatch = opts.stageBatch ?? 16;
  const concurrency = opts.concurrency ?? 2 * store.hashWorkers;
  const batchSize = opts.batchSize ?? 256;
  const result: PutTreeResult = { files: 0, bytes: 0, collections: 0 };
  let colls: string[] = [target];
  let pending: PendingObject[] = [];
  let job: Array<{ path: string; local: string }> = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const flush = () => {
    if (pending.length === 0 && colls.length === 0) return;
    const items = pending;
    const newColls = colls;
    pending = [];
    colls = [];
    result.collections += objects.commitObjects(items, newColls).createdCollections.length;
  };

  const received = (files: typeof job, staged: Array<StagedFile | Error>) => {
    const error = staged.find((r): r is Error => r instanceof Error);
    if (error || failure !== undefined) {
      failure ??= error;
      for (const r of staged) if (!(r instanceof Error)) store.vault.discard(r);
      return;
    }
    staged.forEach((r, i) => {
      const s = r as StagedFile;
      pending.push({ path: files[i].path, staged: s, overwrite: opts.overwrite });
      result.files++;
      result.bytes += s.size;
      opts.onProgress?.({ files: result.files, bytes: result.bytes });
    });
    if (pending.length >= batchSize) {
      try {
        flush();
      } catch (err) {
        failure ??= err;
      }
    }
  };

  const send = () => {
    const files = job;
    job = [];
    const p = store.vault.stageFiles(files.map((f) => f.local)).then(
      (staged) => {
        inFlight.delete(p);
        received(files, staged);
      },
      (err) => {
        inFlight.delete(p);
        failure ??= err;
      },
    );
    inFlight.add(p);
  };

  try {
    for await (const item of walk(localDir)) {
      if (failure !== undefined) break;
      const path = store.normalize(joinPath(target, item.rel));
      if (item.kind === 'dir') {
        colls.push(path);
        continue;
      }
      job.push({ path, local: item.local });
      if (job.length < stageBatch) continue;
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failure !== undefined) break;
      send();
    }
    if (failure === undefined && job.length > 0) send();
  } catch (err) {
    failure ??= err;
  }
  while (inFlight.size > 0) await Promise.race(inFlight);
  if (failure !== undefined) {
    for (const it of pending) store.vault.discard(it.staged);
    throw failure;
  }
  flush();
  return result;
}
