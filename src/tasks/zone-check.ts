/**
 * Validation of a landing zone before its move (protocol section 5): every
 * file has its `<file>.md5` and every `.md5` its file; the MD5 in each
 * companion (first token) equals the catalog checksum and, when verifying,
 * the MD5 recomputed from the bytes (on the store's worker threads).
 *
 * @module
 */
import { LIST_PAGE, pages } from '../store/pages.js';
import type { FlowStore } from '../store/types.js';

/** Suffix of checksum companion files. */
export const MD5_SUFFIX = '.md5';
/** Most file names listed in one validation message. */
const LIST_MAX = 20;
/** Bytes of a companion file read: the MD5 is its first token. */
const MD5_READ_LIMIT = 4096;
/**
 * Files checked per store call. A batch's names, its store answers and the
 * hash workers' messages live until the batch is settled; with larger
 * batches they outlived young-generation collections and were promoted,
 * and the old generation grew by about 1 KB per file of the zone before a
 * full collection. This size dies young, and still gives the hash workers
 * enough to do per message.
 */
const CHECK_BATCH = 256;
/** Batches submitted ahead: enough that the workers always have queued work. */
const BATCHES_IN_FLIGHT = 3;

/** A listing with no (further) pages. */
const NO_PAGES: AsyncIterable<never[]> = { [Symbol.asyncIterator]: async function* () {} };

/** `page` (when not empty), then the pages of `rest`. */
async function* prepend<T>(page: T[], rest: AsyncIterable<T[]>): AsyncGenerator<T[], void, undefined> {
  if (page.length > 0) yield page;
  yield* rest;
}

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

/** Whether an object of a zone is a checksum companion (else a data file). */
export function isCompanion(name: string): boolean {
  return name.endsWith(MD5_SUFFIX);
}

function firstToken(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

/** The MD5 in each companion (its first token), in input order: one bulk read off the main thread. */
async function readCompanions(store: FlowStore, companions: readonly string[]): Promise<string[]> {
  return (await store.readObjectHeads(companions, MD5_READ_LIMIT)).map(firstToken);
}

/** Options of {@link checkLandingZone}. */
export interface ZoneCheckOptions {
  /** Recompute each file's MD5 from its bytes too. */
  verify: boolean;
  /** Told `checked` of `total` data files as their checksums are checked (a batch at a time, and once all are). */
  onProgress?: (checked: number, total: number) => void;
}

/**
 * Validates the zone at `zonePath`. Returns the number of data files (without
 * companions). Throws {@link ZoneValidationError} naming what is missing or
 * does not match.
 *
 * Works a page of the catalog at a time, so a zone of any size costs the
 * same memory: a first pass over the object names pairs files with their
 * companions, a second over the catalog entries checks the checksums. Only
 * what is at fault (and files whose companion is not listed yet, normally
 * a handful) is held across pages.
 */
export async function checkLandingZone(
  store: FlowStore,
  zonePath: string,
  opts: ZoneCheckOptions,
): Promise<{ files: number }> {
  let files = 0;
  // A file is a prefix of its companion, so it sorts first: when the companion
  // is listed, its file was listed already if it exists. Files wait here, in
  // listing order, until their companion shows up; those left have none.
  const waiting = new Set<string>();
  const noFile: string[] = [];
  // The first page comes with the checksums: a zone listed whole in it (most
  // zones, an empty one too) needs no second listing for the checksum pass.
  const first = await store.listObjectChecksums(zonePath, { relative: true, limit: LIST_PAGE });
  const whole = first.length < LIST_PAGE;
  const names = whole ? NO_PAGES : pages((page) => store.listObjectPaths(zonePath, { relative: true, ...page }), (n) => n, LIST_PAGE, first.at(-1)?.path);
  for await (const page of prepend(first.map((o) => o.path), names)) {
    for (const name of page) {
      if (!isCompanion(name)) {
        files++;
        waiting.add(name);
      } else if (!waiting.delete(name.slice(0, -MD5_SUFFIX.length))) {
        // no file, or a "file" that is a companion itself (`x.md5.md5`)
        noFile.push(name);
      }
    }
  }
  if (waiting.size > 0 || noFile.length > 0) {
    const noMd5 = [...waiting];
    const parts: string[] = [];
    if (noMd5.length > 0) parts.push(`missing .md5 file for ${noMd5.length} file(s): ${listNames(noMd5)}`);
    if (noFile.length > 0) parts.push(`missing data file for ${noFile.length} .md5 file(s): ${listNames(noFile)}`);
    throw new ZoneValidationError(`Landing zone validation failed: ${parts.join('; ')}`, [...noMd5, ...noFile]);
  }

  // In batches, so the store's answers for a huge zone are never all held at
  // once. A few batches are in flight: the listing and the store's per-path
  // work for the next batch run on this thread while the workers hash the
  // current one, and the workers never wait between batches. Names stay
  // relative (short) and pages carry only name and checksum: what a batch
  // holds while in flight is what survives young-generation collections
  // into the old one, so it is kept small.
  const bad: string[] = [];
  const details: string[] = [];
  let checked = 0;
  const checkBatch = (names: readonly string[]) =>
    Promise.all([
      readCompanions(store, names.map((n) => `${zonePath}/${n}${MD5_SUFFIX}`)),
      opts.verify ? store.computeChecksums(names.map((n) => `${zonePath}/${n}`)) : Promise.resolve(undefined),
    ]);
  type Batch = { names: string[]; checksums: (string | null)[] };
  const inFlight: { batch: Batch; answer: ReturnType<typeof checkBatch> }[] = [];
  const submit = (batch: Batch) => {
    const answer = checkBatch(batch.names);
    // a later batch may fail while an earlier one is awaited: handled when its turn comes
    answer.catch(() => undefined);
    inFlight.push({ batch, answer });
  };
  const settleOldest = async () => {
    const { batch, answer } = inFlight.shift()!;
    const [expected, actual] = await answer;
    batch.names.forEach((name, i) => {
      const want = expected[i];
      const have = batch.checksums[i];
      let problem: string | undefined;
      if (!/^[0-9a-f]{32}$/.test(want)) problem = `invalid MD5 in ${name}${MD5_SUFFIX}`;
      else if (have !== want) problem = `${name} (expected ${want}, catalog ${have ?? 'none'})`;
      else if (actual && actual[i] !== want) problem = `${name} (expected ${want}, file bytes ${actual[i]})`;
      if (problem) {
        bad.push(name);
        details.push(problem);
      }
    });
    checked += batch.names.length;
    // files uploaded between the two passes (a validate-only zone stays writable) make the total grow
    opts.onProgress?.(checked, Math.max(files, checked));
  };
  let batch: Batch = { names: [], checksums: [] };
  const objects = whole ? prepend(first, NO_PAGES) : pages((page) => store.listObjectChecksums(zonePath, { relative: true, ...page }), (o) => o.path);
  for await (const page of objects) {
    for (const o of page) {
      if (isCompanion(o.path)) continue;
      batch.names.push(o.path);
      batch.checksums.push(o.checksum);
      if (batch.names.length < CHECK_BATCH) continue;
      submit(batch);
      batch = { names: [], checksums: [] };
      if (inFlight.length >= BATCHES_IN_FLIGHT) await settleOldest();
    }
  }
  if (batch.names.length > 0) submit(batch);
  while (inFlight.length > 0) await settleOldest();
  // a zone without data files still reports that all of them (none) are checked
  if (checked === 0) opts.onProgress?.(0, files);
  if (bad.length > 0) {
    throw new ZoneValidationError(
      `Landing zone validation failed: checksums do not match for ${bad.length} file(s): ${listNames(details)}`,
      bad,
    );
  }
  return { files };
}
