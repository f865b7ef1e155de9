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
/** Companion files read at once. */
const READ_CONCURRENCY = 32;
/** Bytes of a companion file read: the MD5 is its first token. */
const MD5_READ_LIMIT = 4096;

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

async function readFirstToken(store: DataStore, path: string): Promise<string> {
  const stream = await store.getObject(path);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(b);
    size += b.length;
    if (size >= MD5_READ_LIMIT) break;
  }
  if (size >= MD5_READ_LIMIT) stream.destroy();
  const text = Buffer.concat(chunks).subarray(0, MD5_READ_LIMIT).toString('utf8');
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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
  const { files, md5s } = splitZoneFiles(await store.listObjectPaths(zonePath));
  const md5Set = new Set(md5s);
  const fileSet = new Set(files);
  const noMd5 = files.filter((f) => !md5Set.has(f + MD5_SUFFIX));
  const noFile = md5s.filter((m) => !fileSet.has(m.slice(0, -MD5_SUFFIX.length)));
  if (noMd5.length > 0 || noFile.length > 0) {
    const parts: string[] = [];
    if (noMd5.length > 0) parts.push(`missing .md5 file for ${noMd5.length} file(s): ${listNames(noMd5.map(rel))}`);
    if (noFile.length > 0) parts.push(`missing data file for ${noFile.length} .md5 file(s): ${listNames(noFile.map(rel))}`);
    throw new ZoneValidationError(`Landing zone validation failed: ${parts.join('; ')}`, [...noMd5, ...noFile].map(rel));
  }

  const catalog = new Map<string, string | null>();
  for (const e of await store.list(zonePath, { recursive: true })) if (e.type === 'object') catalog.set(e.path, e.checksum);
  // companions are read while the worker threads hash the files
  const [expected, actual] = await Promise.all([
    mapLimited(files, READ_CONCURRENCY, (f) => readFirstToken(store, f + MD5_SUFFIX)),
    opts.verify && files.length > 0 ? store.computeChecksums(files) : Promise.resolve(undefined),
  ]);

  const bad: string[] = [];
  const details: string[] = [];
  files.forEach((f, i) => {
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
  if (bad.length > 0) {
    throw new ZoneValidationError(
      `Landing zone validation failed: checksums do not match for ${bad.length} file(s): ${listNames(details)}`,
      bad,
    );
  }
  return { files: files.length };
}
