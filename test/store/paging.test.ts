/**
 * Paged listings (`list`, `listObjectPaths`, `listObjectChecksums`,
 * `listAcls` with `after` and `limit`): a walk of any page size gives
 * exactly the unpaged listing, in the catalog's byte order, and continues
 * correctly when entries come and go between pages.
 */
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedStore } from '../../src/store/embedded/store.js';
import { pages } from '../../src/store/pages.js';
import type { PageOptions } from '../../src/store/types.js';
import { storePerTest } from '../support/store-helpers.js';

const C = '/testZone/home/c';

let s: EmbeddedStore;
storePerTest(async (opened) => {
  s = opened.store;
  await s.createCollection(C);
});

const put = (path: string) => s.putObject(path, Readable.from([Buffer.from(path)]));

/** Names whose byte order (UTF-8, the catalog's) differs from JavaScript's string order, and a file's neighbours. */
const TRICKY = ['f', 'f-1', 'f.md5', 'f.a', 'F', '~', 'é', '\u{1F600}', '\uFFFD'];

/** Sorted as the catalog sorts: by the bytes of the UTF-8 path. */
const byteSorted = (paths: string[]) => [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Every page of a walk with page size `limit`, by the `after` of each last entry. */
async function walk<T>(fetch: (page: PageOptions & { limit: number }) => Promise<T[]>, keyOf: (e: T) => string, limit: number) {
  const got: T[][] = [];
  for await (const page of pages(fetch, keyOf, limit)) got.push(page);
  return got;
}

async function fillTree(): Promise<void> {
  await s.createCollection(`${C}/sub/deep`, { parents: true });
  await s.createCollection(`${C}/empty`);
  for (const n of TRICKY) await put(`${C}/${n}`);
  for (const n of ['b', 'a']) await put(`${C}/sub/${n}`);
  await put(`${C}/sub/deep/x`);
}

describe('paged list', () => {
  beforeEach(fillTree);

  it('walks the subtree in byte order with any page size, each page full but the last', async () => {
    const all = (await s.list(C, { recursive: true })).map((e) => e.path);
    expect(all).toEqual(byteSorted(all));
    expect(all).not.toEqual([...all].sort());
    for (const limit of [1, 2, 3, 5, all.length - 1, all.length, all.length + 1]) {
      const got = await walk((o) => s.list(C, { recursive: true, ...o }), (e) => e.path, limit);
      expect(got.flat().map((e) => e.path)).toEqual(all);
      expect(got.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(got.at(-1)!.length).toBeLessThanOrEqual(limit);
    }
  });

  it('pages the direct children only when not recursive, entries as unpaged', async () => {
    const all = await s.list(C);
    expect(all.map((e) => e.path)).toEqual(byteSorted([...TRICKY, 'sub', 'empty'].map((n) => `${C}/${n}`)));
    const got = await walk((o) => s.list(C, o), (e) => e.path, 4);
    expect(got.flat()).toEqual(all);
  });

  it('starts after `after`, whether or not that path exists', async () => {
    const all = (await s.list(C, { recursive: true })).map((e) => e.path);
    expect((await s.list(C, { recursive: true, after: `${C}/f`, limit: 2 })).map((e) => e.path)).toEqual(
      all.slice(all.indexOf(`${C}/f`) + 1).slice(0, 2),
    );
    // a path between two entries, and one after the whole subtree
    expect((await s.list(C, { recursive: true, after: `${C}/sub/aa` })).map((e) => e.path)).toEqual([
      `${C}/sub/b`,
      `${C}/sub/deep`,
      `${C}/sub/deep/x`,
      `${C}/~`,
      `${C}/é`,
      `${C}/\uFFFD`,
      `${C}/\u{1F600}`,
    ]);
    expect(await s.list(C, { recursive: true, after: `${C}0` })).toEqual([]);
    expect(await s.list(C, { recursive: true, after: '/' })).toHaveLength(all.length);
  });

  it('sees entries added after the page boundary and misses none when earlier ones go', async () => {
    const first = await s.list(C, { recursive: true, limit: 3 });
    const after = first.at(-1)!.path;
    await s.removeObject(after);
    await put(`${C}/sub/c`);
    await put(`${C}/E`); // sorts before the boundary: not seen by the rest of the walk
    const rest: string[] = [];
    for await (const page of pages((o) => s.list(C, { recursive: true, ...o, after: o.after ?? after }), (e) => e.path, 2)) {
      rest.push(...page.map((e) => e.path));
    }
    const now = (await s.list(C, { recursive: true })).map((e) => e.path);
    expect(rest).toEqual(now.slice(now.findIndex((p) => Buffer.compare(Buffer.from(p), Buffer.from(after)) > 0)));
    expect(rest).toContain(`${C}/sub/c`);
    expect(rest).not.toContain(`${C}/E`);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      await expect(s.list(C, { limit })).rejects.toThrow(RangeError);
      await expect(s.listObjectPaths(C, { limit })).rejects.toThrow(RangeError);
      await expect(s.listAcls(C, { limit })).rejects.toThrow(RangeError);
    }
  });

  it('fails NotFound for a missing collection, as unpaged', async () => {
    await expect(s.list(`${C}/none`, { recursive: true, limit: 2 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('paged listObjectPaths', () => {
  beforeEach(fillTree);

  it('walks every object below, absolute or relative, without collections', async () => {
    const all = await s.listObjectPaths(C);
    expect(all).toEqual(byteSorted([...TRICKY, 'sub/a', 'sub/b', 'sub/deep/x'].map((n) => `${C}/${n}`)));
    const relative = await s.listObjectPaths(C, { relative: true });
    expect(relative.map((n) => `${C}/${n}`)).toEqual(all);
    for (const limit of [1, 4, all.length, all.length + 3]) {
      expect((await walk((o) => s.listObjectPaths(C, o), (p) => p, limit)).flat()).toEqual(all);
      expect((await walk((o) => s.listObjectPaths(C, { relative: true, ...o }), (p) => p, limit)).flat()).toEqual(relative);
    }
  });

  it('takes `after` in the form it returns', async () => {
    expect(await s.listObjectPaths(C, { relative: true, after: 'sub/a', limit: 2 })).toEqual(['sub/b', 'sub/deep/x']);
    expect(await s.listObjectPaths(C, { after: `${C}/sub/a`, limit: 2 })).toEqual([`${C}/sub/b`, `${C}/sub/deep/x`]);
    expect(await s.listObjectPaths(`${C}/sub`, { relative: true, after: 'a' })).toEqual(['b', 'deep/x']);
  });

  it('cuts non-ASCII names right (the base path is counted in characters)', async () => {
    await s.createCollection(`${C}/\u{1F600}é`);
    await put(`${C}/\u{1F600}é/ü\u{1F600}`);
    expect(await s.listObjectPaths(`${C}/\u{1F600}é`, { relative: true })).toEqual(['ü\u{1F600}']);
  });
});

describe('listObjectChecksums', () => {
  beforeEach(fillTree);

  it("lists listObjectPaths' objects with their catalog checksums, paged like it", async () => {
    const entries = (await s.list(C, { recursive: true })).filter((e) => e.type === 'object');
    const all = await s.listObjectChecksums(C);
    expect(all).toEqual(entries.map((e) => ({ path: e.path, checksum: e.checksum })));
    expect(all.every((o) => /^[0-9a-f]{32}$/.test(o.checksum ?? ''))).toBe(true);
    const relative = await s.listObjectChecksums(C, { relative: true });
    expect(relative.map((o) => o.path)).toEqual(await s.listObjectPaths(C, { relative: true }));
    expect(relative.map((o) => o.checksum)).toEqual(all.map((o) => o.checksum));
    for (const limit of [1, 4, all.length, all.length + 3]) {
      expect((await walk((o) => s.listObjectChecksums(C, o), (e) => e.path, limit)).flat()).toEqual(all);
      expect((await walk((o) => s.listObjectChecksums(C, { relative: true, ...o }), (e) => e.path, limit)).flat()).toEqual(relative);
    }
  });

  it('takes `after` in the form it returns, and cuts non-ASCII names right', async () => {
    const names = async (opts: Parameters<EmbeddedStore['listObjectChecksums']>[1], path = C) =>
      (await s.listObjectChecksums(path, opts)).map((o) => o.path);
    expect(await names({ relative: true, after: 'sub/a', limit: 2 })).toEqual(['sub/b', 'sub/deep/x']);
    expect(await names({ after: `${C}/sub/a`, limit: 2 })).toEqual([`${C}/sub/b`, `${C}/sub/deep/x`]);
    await s.createCollection(`${C}/\u{1F600}é`);
    await put(`${C}/\u{1F600}é/ü\u{1F600}`);
    expect(await names({ relative: true }, `${C}/\u{1F600}é`)).toEqual(['ü\u{1F600}']);
  });

  it('refuses a bad limit and fails NotFound for a missing collection', async () => {
    await expect(s.listObjectChecksums(C, { limit: 0 })).rejects.toThrow(RangeError);
    await expect(s.listObjectChecksums(`${C}/none`, { limit: 2 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(s.listObjectChecksums(`${C}/f`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('paged listAcls', () => {
  beforeEach(async () => {
    await fillTree();
    await s.createPrincipal('u', 'rodsuser');
    await s.setAccess(`${C}/sub`, 'u', 'write', { recursive: true });
  });

  it('gives the root first, on the first page only, then the subtree; pages join to the unpaged listing', async () => {
    const all = await s.listAcls(C, { recursive: true });
    expect(all[0].path).toBe(C);
    expect(all.map((e) => e.path)).toEqual([C, ...(await s.list(C, { recursive: true })).map((e) => e.path)]);
    expect(all.find((e) => e.path === `${C}/sub/deep/x`)!.acl).toEqual([
      { name: 'rods', kind: 'user', level: 'own' },
      { name: 'u', kind: 'user', level: 'write' },
    ]);
    for (const limit of [1, 2, 3, all.length, all.length + 1]) {
      const got = await walk((o) => s.listAcls(C, { recursive: true, ...o }), (e) => e.path, limit);
      expect(got.flat()).toEqual(all);
      expect(got.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    }
    expect(await s.listAcls(C, { recursive: true, limit: 1 })).toEqual([all[0]]);
  });

  it('includes the root only when `after` sorts before it', async () => {
    const all = await s.listAcls(C, { recursive: true });
    expect(await s.listAcls(C, { recursive: true, after: C })).toEqual(all.slice(1));
    expect(await s.listAcls(C, { recursive: true, after: '/testZone/home/b', limit: 2 })).toEqual(all.slice(0, 2));
    expect(await s.listAcls(C, { after: C })).toEqual([]);
    expect(await s.listAcls(C, { limit: 1 })).toEqual([all[0]]);
    expect(await s.listAcls(`${C}/f`, { recursive: true, limit: 5 })).toEqual([all.find((e) => e.path === `${C}/f`)]);
  });

  it('is empty for a missing path', async () => {
    expect(await s.listAcls(`${C}/none`, { recursive: true, limit: 2 })).toEqual([]);
  });
});

describe('pages', () => {
  it('stops on a short page without asking again, and after an empty one on an exact multiple', async () => {
    const items = ['a', 'b', 'c', 'd'];
    const asked: Array<string | undefined> = [];
    const fetch = async ({ after, limit }: PageOptions & { limit: number }) => {
      asked.push(after);
      const from = after === undefined ? 0 : items.indexOf(after) + 1;
      return items.slice(from, from + limit);
    };
    expect(await walk(fetch, (x) => x, 3)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(asked).toEqual([undefined, 'c']);
    asked.length = 0;
    expect(await walk(fetch, (x) => x, 2)).toEqual([['a', 'b'], ['c', 'd']]);
    expect(asked).toEqual([undefined, 'b', 'd']);
  });
});
