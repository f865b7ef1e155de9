/**
 * Walking a listing a page at a time (see {@link PageOptions}): a large
 * subtree read in bounded pieces, so its size never shows in memory.
 *
 * @module
 */
import type { PageOptions } from './types.js';

/**
 * Entries per page of {@link pages} by default: the per-call cost is already
 * small, and a page this size dies young in the heap (larger pages lived
 * long enough to be promoted, and a 200,000-entry walk then left tens of MB
 * of garbage in the old generation).
 */
export const LIST_PAGE = 512;

/**
 * Yields the non-empty pages of a keyset-paged listing in order.
 * `fetch` returns the page after `after` (undefined: the first), of at
 * most `limit` entries; `keyOf` gives an entry's key to continue after.
 * A page shorter than `limit` ends the walk without a further call.
 * `from`: the key to start after (the last of a page read before), if any.
 */
export async function* pages<T>(
  fetch: (page: PageOptions & { limit: number }) => Promise<T[]>,
  keyOf: (entry: T) => string,
  limit = LIST_PAGE,
  from?: string,
): AsyncGenerator<T[], void, undefined> {
  let after = from;
  for (;;) {
    const page = await fetch(after === undefined ? { limit } : { after, limit });
    if (page.length > 0) yield page;
    if (page.length < limit) return;
    after = keyOf(page[page.length - 1]);
  }
}
