/**
 * Access control: per-principal levels on collections and objects, the
 * inheritance flag, and paged listings of a subtree's ACLs.
 *
 * @module
 */
import { NotFoundError } from '../errors.js';
import type { AccessCounts, AccessLevel, AclEntry, PageOptions } from '../types.js';
import { subtreeRange, type EntryKey, type PageParams } from './catalog.js';
import { checkLevel, pageParams, type StoreCore } from './core.js';
import { LEVEL_NAMES } from './schema.js';

const levelOf = (code: number): AccessLevel => LEVEL_NAMES[code] ?? 'null';

/** The access calls of the embedded store. */
export class Access {
  constructor(private readonly core: StoreCore) {}

  async setAccess(path: string, name: string, level: AccessLevel, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.setAccesses(path, [{ name, level }], opts);
  }

  async setAccesses(path: string, grants: ReadonlyArray<{ name: string; level: AccessLevel }>, opts: { recursive?: boolean } = {}): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const levels = grants.map((g) => checkLevel(g.level));
    core.write(() => {
      const row = core.mustKey(target);
      // a collection without children has no subtree to change: one probe instead of a statement per grant
      const recursive = opts.recursive === true && row.kind === 'c' && core.q.firstChild.get(row.id) !== undefined;
      const [lo, hi] = subtreeRange(target);
      grants.forEach(({ name }, k) => {
        if (!core.q.principal.get(name)) throw new NotFoundError(name, 'principal');
        const n = levels[k];
        if (n === 0) {
          core.q.deleteAcl.run(row.id, name);
          if (recursive) core.q.deleteAclSubtree.run(name, lo, hi);
        } else {
          core.q.upsertAcl.run(row.id, name, n);
          if (recursive) core.q.upsertAclSubtree.run({ name, level: n, lo, hi });
        }
      });
    });
  }

  async accessCounts(path: string, names: readonly string[], opts: { recursive?: boolean } = {}): Promise<AccessCounts> {
    const { core } = this;
    const { q } = core;
    const target = core.normalize(path);
    return core.read(() => {
      const row = core.keyOf(target);
      if (!row) return { entries: 0, levels: names.map(() => ({ null: 0, read: 0, write: 0, own: 0 })) };
      const [lo, hi] = subtreeRange(target);
      const below = opts.recursive === true && row.kind === 'c' ? q.subtreeCount.get(lo, hi)! : 0;
      const levels = names.map((name) => {
        const counts: Record<AccessLevel, number> = { null: 0, read: 0, write: 0, own: 0 };
        counts[levelOf(q.aclLevel.get(row.id, name)?.level ?? 0)]++;
        // an empty subtree (a landing zone before its upload, or after its move) needs no second look
        if (below > 0) for (const r of q.subtreeLevelCounts.iterate({ name, lo, hi })) counts[levelOf(r.level)] += r.n;
        counts.null = 1 + below - counts.read - counts.write - counts.own;
        return counts;
      });
      return { entries: 1 + below, levels };
    });
  }

  async setAccessMany(paths: readonly string[], name: string, level: AccessLevel): Promise<void> {
    const { core } = this;
    const targets = [...new Set(paths.map((p) => core.normalize(p)))];
    const n = checkLevel(level);
    core.write(() => {
      if (!core.q.principal.get(name)) throw new NotFoundError(name, 'principal');
      const json = JSON.stringify(targets);
      if (core.q.countAtPaths.get(json) !== targets.length) for (const t of targets) core.mustKey(t);
      if (n === 0) core.q.deleteAclAtPaths.run({ name, paths: json });
      else core.q.upsertAclAtPaths.run({ name, level: n, paths: json });
    });
  }

  async getAcl(path: string): Promise<AclEntry[]> {
    const target = this.core.normalize(path);
    return this.core.read(() => this.aclOf(target));
  }

  async listAcls(
    path: string,
    opts: { recursive?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; acl: AclEntry[] }>> {
    const target = this.core.normalize(path);
    const { q } = this.core;
    return this.rootedPage(
      target,
      opts,
      () => ({ path: target, acl: this.aclOf(target) }),
      function* (page) {
        // one row per ACL entry (a null name for an empty ACL), grouped by path
        let last: { path: string; acl: AclEntry[] } | undefined;
        for (const r of q.subtreeAclPage.iterate(page)) {
          if (last?.path !== r.path) {
            if (last) yield last;
            last = { path: r.path, acl: [] };
          }
          if (r.name !== null) last.acl.push({ name: r.name, kind: r.kind ?? 'user', level: LEVEL_NAMES[r.level!] as AclEntry['level'] });
        }
        if (last) yield last;
      },
    );
  }

  /**
   * One page of a listing that opens with `target` itself (it sorts before
   * everything below it) and, when recursive, goes on through its subtree,
   * in one snapshot. `root` gives the root's item (undefined: none), `below`
   * the subtree's items for the page's bounds; the root counts against the
   * page's limit. Empty when `target` does not exist.
   */
  private rootedPage<T>(
    target: string,
    opts: { recursive?: boolean } & PageOptions,
    root: (row: EntryKey) => T | undefined,
    below: (page: PageParams) => Iterable<T>,
  ): T[] {
    const { core } = this;
    const page = pageParams(target, opts);
    return core.read(() => {
      const row = core.keyOf(target);
      if (!row) return [];
      const out: T[] = [];
      // the root is on a first page, or on one that starts before it
      if (opts.after === undefined || Buffer.compare(Buffer.from(opts.after), Buffer.from(target)) < 0) {
        const item = root(row);
        if (item !== undefined) out.push(item);
      }
      if (!opts.recursive || row.kind !== 'c') return out;
      if (page.limit > 0) page.limit -= out.length;
      if (page.limit === 0) return out;
      for (const item of below(page)) out.push(item);
      return out;
    });
  }

  /** The entries where `name` is not at `level`, with the level it has (the listing under {@link listAccess}). */
  private async accessOtherThan(
    path: string,
    name: string,
    level: AccessLevel,
    opts: { recursive?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; level: AccessLevel }>> {
    const target = this.core.normalize(path);
    const n = checkLevel(level);
    const { q } = this.core;
    return this.rootedPage(
      target,
      opts,
      (row) => {
        const own = q.aclLevel.get(row.id, name)?.level ?? 0;
        return own === n ? undefined : { path: target, level: levelOf(own) };
      },
      (page) =>
        Array.from(q.subtreeLevelExceptionsPage.iterate({ ...page, name, level: n }), (r) => ({
          path: r.path,
          level: levelOf(r.level),
        })),
    );
  }

  /**
   * The entries where `name` holds access (not `null`): the listing with
   * `null` as the exception level.
   */
  async listAccess(
    path: string,
    name: string,
    opts: { recursive?: boolean } & PageOptions = {},
  ): Promise<Array<{ path: string; level: Exclude<AccessLevel, 'null'> }>> {
    return (await this.accessOtherThan(path, name, 'null', opts)) as Array<{ path: string; level: Exclude<AccessLevel, 'null'> }>;
  }

  private aclOf(target: string): AclEntry[] {
    const { core } = this;
    return core.q.acl.all(core.mustKey(target).id).map((a) => ({
      name: a.name,
      kind: a.kind ?? 'user',
      level: LEVEL_NAMES[a.level] as AclEntry['level'],
    }));
  }

  async getAccessMany(paths: readonly string[], name: string): Promise<AccessLevel[]> {
    const { core } = this;
    const targets = paths.map((p) => core.normalize(p));
    // one query for the chunk: a statement per path cost more than the lookups themselves
    const found = new Map<string, number>();
    core.read(() => {
      core.assertOpen();
      for (const r of core.q.levelsAtPaths.iterate({ name, paths: JSON.stringify(targets) })) found.set(r.path, r.level);
    });
    return targets.map((t) => {
      const level = found.get(t);
      if (level === undefined) throw new NotFoundError(t);
      return levelOf(level);
    });
  }

  async setInheritance(path: string, inherit: boolean, opts: { recursive?: boolean } = {}): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    core.write(() => {
      const row = core.mustKey(target, 'collection');
      core.q.setInherit.run(inherit ? 1 : 0, row.id);
      if (opts.recursive) core.q.setInheritSubtree.run(inherit ? 1 : 0, ...subtreeRange(target));
    });
  }
}
