/**
 * Data objects: bytes in (staged to a temp file, hashed on the way, placed
 * in the vault inside the write transaction; or, for a small object, kept
 * in the catalog by that transaction), bytes out, removal, and checksums
 * recomputed by the worker threads.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { AlreadyExistsError, ChecksumMismatchError, NotFoundError, StoreError } from '../errors.js';
import type { PutOptions, StoreEntry } from '../types.js';
import type { EntryKey, EntryRow, PrincipalRow } from './catalog.js';
import { createCollectionIn } from './collections.js';
import { parentPath } from '../paths.js';
import { parentKeyOf, requireUserKind, type StoreCore } from './core.js';
import { HashError } from './hash-pool.js';
import { DEFAULT_RESOURCE, requireResourceIn, resourceOfVaultId } from './resources.js';
import { ADMIN_USER } from './schema.js';
import { isStagedBytes, vaultFileMissing, type ObjectSource, type Staged } from './vault.js';

/** A new object ready to be committed: its staged bytes and catalog facts. */
export interface PendingObject {
  path: string;
  staged: Staged;
  owner?: string;
  overwrite?: boolean;
  /**
   * Registers the object as intermediate, held by this process
   * (process-holders.ts): bytes of its own are still to come, and if the
   * holder ends first the object is a crash leftover (intermediate-objects.ts).
   */
  heldBy?: string;
}

/**
 * What a commit finds at a new object's path before writing: the entry
 * there, and the key of the collection it goes into (undefined when there
 * is none, or for a path right below the root).
 */
export interface PutTarget {
  existing: EntryRow | undefined;
  parent: EntryKey | undefined;
}

/** {@link PutTarget} and the kind of the new object's owner (null: no such principal). */
interface PutFacts extends PutTarget {
  ownerKind: PrincipalRow['kind'] | null;
}

/** An object's path and where its bytes are. */
type SourceRow = { path: string; source: ObjectSource };

/** A readable stream of an object's bytes; NotFound naming `path` when its vault file is missing. */
export async function openSource(source: ObjectSource, path: string): Promise<Readable> {
  if (source.bytes) return Readable.from([source.bytes], { objectMode: false });
  const stream = fs.createReadStream(source.file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? vaultFileMissing(path) : err),
    );
  });
  return stream;
}

/** The data object calls of the embedded store. */
export class Objects {
  constructor(private readonly core: StoreCore) {}

  async putObject(path: string, source: Readable | string, opts: PutOptions = {}): Promise<StoreEntry> {
    const { core } = this;
    const target = core.normalize(path);
    const owner = opts.owner ?? ADMIN_USER;
    // Fail before streaming when the call cannot succeed; checked again on commit.
    let existing: EntryRow | undefined;
    try {
      existing = core.read(() => this.checkPut(target, owner, opts.overwrite ?? false).existing);
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw err;
    }
    // an object replaced keeps its resource (resources.ts)
    const resource = existing?.vault_id ? resourceOfVaultId(existing.vault_id) : DEFAULT_RESOURCE;
    const staged = await core.vault.stage(source, { onProgress: opts.onProgress, resource: resource === DEFAULT_RESOURCE ? undefined : resource });
    return this.commitObjects([{ path: target, staged, owner, overwrite: opts.overwrite }]).entries[0];
  }

  /** Throws unless a put may go to `target` now; the object there (if any) and the collection it goes into. */
  private checkPut(target: string, owner: string, overwrite: boolean): { existing: EntryRow | undefined; parent: EntryKey } {
    return this.putRules(target, owner, overwrite, this.putFacts(target, owner));
  }

  /**
   * What a put to `target` owned by `owner` finds: the entry at the path,
   * the parent's key (undefined for none, or the zone root's parent) and
   * whether the owner is a user. One statement reads all three; the whole
   * row of the entry only when there is one (a put replacing an object).
   */
  private putFacts(target: string, owner: string): PutFacts {
    const { core } = this;
    core.assertOpen();
    const parent = parentPath(target);
    const [id, parentId, parentKind, parentInherit, ownerKind] = core.q.putFacts.get(target, parent, owner)!;
    return {
      existing: id === null ? undefined : core.row(target),
      parent: parentKeyOf(parent, parentId, parentKind, parentInherit),
      ownerKind,
    };
  }

  /** {@link checkPut}'s rules over what {@link putFacts} found. */
  private putRules(target: string, owner: string, overwrite: boolean, found: PutFacts): { existing: EntryRow | undefined; parent: EntryKey } {
    const { core } = this;
    // core.mustUser's rule, over what was read already
    requireUserKind(owner, found.ownerKind);
    // parentFor's errors, in its order, without reading the parent again
    if (found.parent === undefined || found.parent.kind !== 'c') core.parentFor(target);
    const { existing } = found;
    if (existing) {
      if (existing.kind === 'c') throw new AlreadyExistsError(target, 'collection');
      if (!overwrite) throw new AlreadyExistsError(target, 'object');
    }
    return { existing, parent: found.parent! };
  }

  /**
   * Places staged files into the vault and commits their catalog rows in one
   * transaction, after creating `collections` (with parents, owned by the
   * admin); objects become visible together at the commit. `check`, when
   * given, runs first inside that transaction (a caller's permission check,
   * atomic with the commit), given what the commit found at each item's
   * path (read once, for both); what it throws fails the commit. On failure
   * every staged or placed file of the batch is removed. Replaced objects'
   * old files are removed after the commit.
   */
  commitObjects(
    items: readonly PendingObject[],
    collections: readonly string[] = [],
    check?: (found: readonly PutTarget[]) => void,
  ): { entries: StoreEntry[]; createdCollections: string[] } {
    const { core } = this;
    const placed = new Set<string>();
    let replaced: string[] = [];
    let createdCollections: string[] = [];
    let entries: StoreEntry[];
    try {
      entries = core.write(() => {
        // arrays here are built by push, not map(): map() makes a packed array
        // when the builtin runs it and a holey one when optimised code inlines
        // it, so code reading them met a new hidden class, and was thrown
        // away, each time this function changed tier (as at a new connection)
        let found: PutFacts[] | undefined;
        if (check) {
          found = [];
          for (const it of items) found.push(this.putFacts(it.path, it.owner ?? ADMIN_USER));
          check(found);
        }
        // the rules below reuse the check's reading unless collections made since change what it found
        const reuse = found && collections.length === 0 ? found : undefined;
        replaced = [];
        createdCollections = [];
        for (const c of collections) createdCollections.push(...createCollectionIn(core, c, ADMIN_USER, true));
        const entries: StoreEntry[] = [];
        const now = new Date().toISOString();
        const checked: Array<{ it: PendingObject; owner: string; existing: EntryRow | undefined; parent: EntryKey }> = [];
        for (let i = 0; i < items.length; i++) {
          const it = items[i]!;
          const owner = it.owner ?? ADMIN_USER;
          const overwrite = it.overwrite ?? false;
          const { existing, parent } = reuse ? this.putRules(it.path, owner, overwrite, reuse[i]!) : this.checkPut(it.path, owner, overwrite);
          checked.push({ it, owner, existing, parent });
        }
        // bytes for a resource removed since they were staged have nowhere to go
        for (const { it } of checked) requireResourceIn(core, resourceOfVaultId(it.staged.id));
        const dirs = new Set<string>();
        for (const { it } of checked) {
          const { staged } = it;
          if (isStagedBytes(staged) || placed.has(staged.tempPath)) continue;
          dirs.add(core.vault.place(staged));
          placed.add(staged.tempPath);
        }
        core.vault.syncDirs(dirs);
        for (const { it, owner, existing, parent } of checked) {
          const { staged } = it;
          let id: number;
          if (existing) {
            // the trigger drops catalog-kept old bytes; a vault file goes after the commit
            if (existing.vault_id && core.q.hasObjectBytes.get(existing.id) === 0) replaced.push(existing.vault_id);
            core.q.updateObject.run(staged.size, staged.md5, staged.id, now, existing.id);
            id = existing.id;
          } else {
            // the parent checked above: an earlier item of the batch never replaces a collection
            ({ id } = core.insertChild(parent, {
              path: it.path,
              kind: 'o',
              owner,
              size: staged.size,
              checksum: staged.md5,
              vault_id: staged.id,
              modified: now,
            }));
          }
          if (isStagedBytes(staged)) core.q.insertObjectBytes.run(id, staged.id, staged.bytes);
          if (it.heldBy !== undefined) core.q.insertIntermediate.run(id, staged.id, it.heldBy);
          // the row as now written, without reading it back
          const row = existing ?? { owner, inherit: 0 };
          entries.push({ path: it.path, type: 'object', owner: row.owner, size: staged.size, checksum: staged.md5, inherit: row.inherit === 1, modified: now });
        }
        return entries;
      });
    } catch (err) {
      for (const { staged } of items) {
        if (!isStagedBytes(staged) && placed.has(staged.tempPath)) core.vault.removeFile(core.vault.filePath(staged.id));
        else core.vault.discard(staged);
      }
      throw err;
    }
    core.vault.removeIds(replaced);
    return { entries, createdCollections };
  }

  async getObject(path: string): Promise<Readable> {
    const { core } = this;
    const target = core.normalize(path);
    const source = core.read(() => core.sourceOf(core.mustObject(target)));
    return openSource(source, target);
  }

  async removeObject(path: string): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const file = core.write(() => core.deleteObjectRow(core.mustObject(target)));
    if (file) core.vault.removeFile(file);
  }

  async checksum(path: string, opts: { verify?: boolean } = {}): Promise<string> {
    const { core } = this;
    const target = core.normalize(path);
    const { row, source } = core.read(() => {
      const row = core.mustObject(target);
      return { row, source: core.sourceOf(row) };
    });
    if (opts.verify) {
      const [actual] = await this.hashSources([{ path: target, source }]);
      if (actual !== row.checksum) throw new ChecksumMismatchError(target, row.checksum ?? '', actual);
    }
    return row.checksum ?? '';
  }

  async computeChecksums(paths: readonly string[]): Promise<string[]> {
    return this.hashSources(this.objectSources(paths));
  }

  async readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]> {
    return this.onSources(
      this.objectSources(paths),
      (files) => this.core.pool.readHeads(files, maxBytes),
      (bytes) => bytes.toString('utf8', 0, Math.min(bytes.length, maxBytes)),
    );
  }

  /**
   * Where the bytes of many objects are, in input order, from one catalog
   * read: a statement per path costs more on this thread than the hash
   * workers need per file, and this thread shares the cores with them.
   */
  private objectSources(paths: readonly string[]): SourceRow[] {
    const { core } = this;
    const targets = paths.map((p) => core.normalize(p));
    return core.read(() => {
      core.assertOpen();
      const rows = new Map<string, Pick<EntryRow, 'id' | 'path' | 'kind' | 'vault_id'>>();
      for (const row of core.q.vaultRows.iterate(JSON.stringify(targets))) rows.set(row.path, row);
      return targets.map((t) => {
        const row = rows.get(t);
        if (!row || row.kind !== 'o') throw new NotFoundError(t, 'object');
        return { path: t, source: core.sourceOf(row) };
      });
    });
  }

  private hashSources(rows: readonly SourceRow[]): Promise<string[]> {
    return this.onSources(
      rows,
      (files) => this.core.pool.hashFiles(files, this.core.vault.directWrites),
      (bytes) => createHash('md5').update(bytes).digest('hex'),
    );
  }

  /**
   * Answers for each row, in order: the worker-pool `job` over the vault
   * files (naming the logical path on failure), `inCatalog` on this thread
   * for bytes kept in the catalog (at most {@link Vault.inlineMax} each).
   */
  private async onSources(
    rows: readonly SourceRow[],
    job: (files: string[]) => Promise<string[]>,
    inCatalog: (bytes: Buffer) => string,
  ): Promise<string[]> {
    const fileRows = rows.filter((r) => r.source.file !== undefined);
    let fromFiles: string[];
    try {
      fromFiles = fileRows.length === 0 ? [] : await job(fileRows.map((r) => r.source.file!));
    } catch (err) {
      if (err instanceof HashError) {
        const row = fileRows.find((r) => r.source.file === err.file);
        const path = row?.path ?? err.file;
        if (err.code === 'ENOENT') throw vaultFileMissing(path);
        throw new StoreError('STORE_UNAVAILABLE', path, err.message);
      }
      throw err;
    }
    let next = 0;
    return rows.map((r) => (r.source.bytes ? inCatalog(r.source.bytes) : fromFiles[next++]!));
  }
}
