/**
 * Validation of a landing zone before its move (protocol section 5): every
 * file has its `<file>.md5` and every `.md5` its file; the MD5 in each
 * companion (first token) equals the catalog checksum and, when verifying,
 * the MD5 recomputed from the bytes (on the store's worker threads).
 *
 * @module
 */
import { relativePath } from '../store/paths.js';
import type { DataStore } from '../store/types.js';

/** Suffix of checksum companion files. */
export const MD5_SUFFIX = '.md5';
/** Most file names listed in one validation message. */
const LIST_MAX = 20;
/** Bytes of a companion file read: the MD5 is its first token. */
const MD5_READ_LIMIT = 4096;
/** Files checked per store call: bounds what one call's answer holds, large enough to keep the hash workers busy. */
const CHECK_BATCH = 1024;
/** Batches submitted ahead: enough that the workers always have queued work. */
const BATCHES_IN_FLIGHT = 3;

/** The zone failed validation; the message lists what is wrong, paths relative to the zone. */
export class ZoneValidationError extends Error {
  override name = 'ZoneValidationError';
  constructor(
    message: string,
    /** Relative paths at fault. */
    readonly paths: string[],
  ) {
    super(message);
  }
}

function listNames(paths: readonly string[]): string {
  const shown = paths.slice(0, LIST_MAX).join(', ');
  return paths.length > LIST_MAX ? `${shown} and ${paths.length - LIST_MAX} more` : shown;
}

/** Splits a zone listing into data files and companions. */
export function splitZoneFiles(objectPaths: readonly string[]): { files: string[]; md5s: string[] } {
  const files: string[] = [];
  const md5s: string[] = [];
  for (const p of objectPaths) (p.endsWith(MD5_SUFFIX) ? md5s : files).push(p);
  return { files, md5s };
}

function firstToken(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

/** The MD5 in each companion (its first token), in input order: one bulk read off the main thread. */
async function readCompanions(store: DataStore, companions: readonly string[]): Promise<string[]> {
  return (await store.readObjectHeads(companions, MD5_READ_LIMIT)).map(firstToken);
}

/**
 * Validates the zone at `zonePath`. Returns the number of data files (without
 * companions). Throws {@link ZoneValidationError} naming what is missing or
 * does not match.
 */
export async function checkLandingZone(
  store: DataStore,
  zonePath: string,
  opts: { verify: boolean },
): Promise<{ files: number }> {
  const rel = (p: string) => relativePath(p, zonePath);
  // one listing gives the paths and the catalog checksums
  const catalog = new Map<string, string | null>();
  for (const e of await store.list(zonePath, { recursive: true })) if (e.type === 'object') catalog.set(e.path, e.checksum);
  const { files, md5s } = splitZoneFiles([...catalog.keys()]);
  // the catalog map answers membership: no second set of every path for a large zone
  const noMd5 = files.filter((f) => !catalog.has(f + MD5_SUFFIX));
  const noFile = md5s.filter((m) => {
    const file = m.slice(0, -MD5_SUFFIX.length);
    return file.endsWith(MD5_SUFFIX) || !catalog.has(file);
  });
  if (noMd5.length > 0 || noFile.length > 0) {
    const parts: string[] = [];
    if (noMd5.length > 0) parts.push(`missing .md5 file for ${noMd5.length} file(s): ${listNames(noMd5.map(rel))}`);
    if (noFile.length > 0) parts.push(`missing data file for ${noFile.length} .md5 file(s): ${listNames(noFile.map(rel))}`);
    throw new ZoneValidationError(`Landing zone validation failed: ${parts.join('; ')}`, [...noMd5, ...noFile].map(rel));
  }

  // In batches, so the store's answers for a huge zone are never all held at
  // once. A few batches are in flight: the store's per-path work for the next
  // batch runs on this thread while the workers hash the current one, and the
  // workers never wait between batches.
  const bad: string[] = [];
  const details: string[] = [];
  const checkBatch = (batch: readonly string[]) =>
    Promise.all([
      readCompanions(store, batch.map((f) => f + MD5_SUFFIX)),
      opts.verify ? store.computeChecksums(batch) : Promise.resolve(undefined),
    ]);
  const inFlight: { batch: string[]; answer: ReturnType<typeof checkBatch> }[] = [];
  const enqueue = (start: number) => {
    const batch = files.slice(start, start + CHECK_BATCH);
    const answer = checkBatch(batch);
    // a later batch may fail while an earlier one is awaited: handled when its turn comes
    answer.catch(() => undefined);
    inFlight.push({ batch, answer });
  };
  let next = 0;
  for (; next < files.length && inFlight.length < BATCHES_IN_FLIGHT; next += CHECK_BATCH) enqueue(next);
  while (inFlight.length > 0) {
    const { batch, answer } = inFlight.shift()!;
    const [expected, actual] = await answer;
    if (next < files.length) {
      enqueue(next);
      next += CHECK_BATCH;
    }
    batch.forEach((f, i) => {
      const want = expected[i];
      const have = catalog.get(f) ?? null;
      let problem: string | undefined;
      if (!/^[0-9a-f]{32}$/.test(want)) problem = `invalid MD5 in ${rel(f)}${MD5_SUFFIX}`;
      else if (have !== want) problem = `${rel(f)} (expected ${want}, catalog ${have ?? 'none'})`;
      else if (actual && actual[i] !== want) problem = `${rel(f)} (expected ${want}, file bytes ${actual[i]})`;
      if (problem) {
        bad.push(rel(f));
        details.push(problem);
      }
    });
  }
  if (bad.length > 0) {
    throw new ZoneValidationError(
      `Landing zone validation failed: checksums do not match for ${bad.length} file(s): ${listNames(details)}`,
      bad,
    );
  }
  return { files: files.length };
}
