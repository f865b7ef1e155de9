/**
 * Data objects: bytes in (staged to a temp file, hashed on the way, placed
 * in the vault inside the write transaction), bytes out, removal, and
 * checksums recomputed by the worker threads.
 *
 * @module
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, ChecksumMismatchError, NotFoundError, StoreError } from '../errors.js';
import type { PutOptions, StoreEntry } from '../types.js';
import type { EntryRow } from './catalog.js';
import { createCollectionIn } from './collections.js';
import { toEntry, type StoreCore } from './core.js';
import { HashError } from './hash-pool.js';
import { DEFAULT_RESOURCE, requireResourceIn, resourceOfVaultId } from './resources.js';
import { ADMIN_USER } from './schema.js';
import type { StagedFile } from './vault.js';

/** A new object ready to be committed: its staged bytes and catalog facts. */
export interface PendingObject {
  path: string;
  staged: StagedFile;
  owner?: string;
  overwrite?: boolean;
}

/** What a worker-pool job needs of a catalog row. */
type VaultRow = Pick<EntryRow, 'path' | 'kind' | 'vault_id'>;

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
      existing = core.read(() => this.checkPut(target, owner, opts.overwrite ?? false));
    } catch (err) {
      if (typeof source !== 'string') source.destroy();
      throw err;
    }
    // an object replaced keeps its resource (resources.ts)
    const resource = existing?.vault_id ? resourceOfVaultId(existing.vault_id) : DEFAULT_RESOURCE;
    const staged = await core.vault.stage(source, opts.onProgress, resource === DEFAULT_RESOURCE ? undefined : resource);
    return this.commitObjects([{ path: target, staged, owner, overwrite: opts.overwrite }]).entries[0];
  }

  private checkPut(target: string, owner: string, overwrite: boolean): EntryRow | undefined {
    const { core } = this;
    core.mustUser(owner);
    core.parentFor(target);
    const existing = core.row(target);
    if (existing) {
      if (existing.kind === 'c') throw new AlreadyExistsError(target, 'collection');
      if (!overwrite) throw new AlreadyExistsError(target, 'object');
    }
    return existing;
  }

  /**
   * Places staged files into the vault and commits their catalog rows in one
   * transaction, after creating `collections` (with parents, owned by the
   * admin); objects become visible together at the commit. `check`, when
   * given, runs first inside that transaction (a caller's permission check,
   * atomic with the commit); what it throws fails the commit. On failure
   * every staged or placed file of the batch is removed. Replaced objects'
   * old files are removed after the commit.
   */
  commitObjects(
    items: readonly PendingObject[],
    collections: readonly string[] = [],
    check?: () => void,
  ): { entries: StoreEntry[]; createdCollections: string[] } {
    const { core } = this;
    const placed = new Set<string>();
    let replaced: string[] = [];
    let createdCollections: string[] = [];
    let entries: StoreEntry[];
    try {
      entries = core.write(() => {
        check?.();
        replaced = [];
        createdCollections = [];
        for (const c of collections) createdCollections.push(...createCollectionIn(core, c, ADMIN_USER, true));
        const rows: EntryRow[] = [];
        const now = new Date().toISOString();
        const checked = items.map((it) => {
          const owner = it.owner ?? ADMIN_USER;
          const existing = this.checkPut(it.path, owner, it.overwrite ?? false);
          return { it, owner, existing };
        });
        // bytes for a resource removed since they were staged have nowhere to go
        for (const { it } of checked) requireResourceIn(core, resourceOfVaultId(it.staged.id));
        const dirs = new Set<string>();
        for (const { it } of checked) {
          if (placed.has(it.staged.tempPath)) continue;
          dirs.add(core.vault.place(it.staged));
          placed.add(it.staged.tempPath);
        }
        core.vault.syncDirs(dirs);
        for (const { it, owner, existing } of checked) {
          const { staged } = it;
          if (existing) {
            core.q.updateObject.run(staged.size, staged.md5, staged.id, now, existing.id);
            if (existing.vault_id) replaced.push(existing.vault_id);
          } else {
            core.insertChild(core.parentFor(it.path), {
              path: it.path,
              kind: 'o',
              owner,
              size: staged.size,
              checksum: staged.md5,
              vault_id: staged.id,
            });
          }
          rows.push(core.row(it.path)!);
        }
        return rows.map(toEntry);
      });
    } catch (err) {
      for (const it of items) {
        if (placed.has(it.staged.tempPath)) core.vault.removeFile(core.vault.filePath(it.staged.id));
        else core.vault.discard(it.staged);
      }
      throw err;
    }
    core.vault.removeIds(replaced);
    return { entries, createdCollections };
  }

  async getObject(path: string): Promise<Readable> {
    const { core } = this;
    const target = core.normalize(path);
    const row = core.read(() => core.mustObject(target));
    const file = core.vault.filePath(row.vault_id!);
    const stream = fs.createReadStream(file);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new NotFoundError(target, 'file', 'vault file missing: run fsck') : err),
      );
    });
    return stream;
  }

  async removeObject(path: string): Promise<void> {
    const { core } = this;
    const target = core.normalize(path);
    const vaultId = core.write(() => {
      const row = core.mustObject(target);
      core.deleteRow(row);
      return row.vault_id;
    });
    if (vaultId) core.vault.removeIds([vaultId]);
  }

  async checksum(path: string, opts: { verify?: boolean } = {}): Promise<string> {
    const { core } = this;
    const target = core.normalize(path);
    const row = core.read(() => core.mustObject(target));
    if (opts.verify) {
      const [actual] = await this.hashRows([row]);
      if (actual !== row.checksum) throw new ChecksumMismatchError(target, row.checksum ?? '', actual);
    }
    return row.checksum ?? '';
  }

  async computeChecksums(paths: readonly string[]): Promise<string[]> {
    return this.hashRows(this.objectVaultRows(paths));
  }

  async readObjectHeads(paths: readonly string[], maxBytes: number): Promise<string[]> {
    return this.onVaultFiles(this.objectVaultRows(paths), (files) => this.core.pool.readHeads(files, maxBytes));
  }

  /**
   * The vault rows of many objects, in input order, from one catalog query:
   * a statement per path costs more on this thread than the hash workers
   * need per file, and this thread shares the cores with them.
   */
  private objectVaultRows(paths: readonly string[]): VaultRow[] {
    const { core } = this;
    const targets = paths.map((p) => core.normalize(p));
    const found = new Map<string, VaultRow>();
    core.read(() => {
      core.assertOpen();
      for (const row of core.q.vaultRows.iterate(JSON.stringify(targets))) found.set(row.path, row);
    });
    return targets.map((t) => {
      const row = found.get(t);
      if (!row || row.kind !== 'o') throw new NotFoundError(t, 'object');
      return row;
    });
  }

  private hashRows(rows: readonly VaultRow[]): Promise<string[]> {
    return this.onVaultFiles(rows, (files) => this.core.pool.hashFiles(files, this.core.vault.directWrites));
  }

  /** Runs a worker-pool job over the rows' vault files, naming the logical path on failure. */
  private async onVaultFiles<T>(rows: readonly VaultRow[], job: (files: string[]) => Promise<T>): Promise<T> {
    const { vault } = this.core;
    try {
      return await job(rows.map((r) => vault.filePath(r.vault_id!)));
    } catch (err) {
      if (err instanceof HashError) {
        const row = rows.find((r) => vault.filePath(r.vault_id!) === err.file);
        const path = row?.path ?? err.file;
        if (err.code === 'ENOENT') throw new NotFoundError(path, 'file', 'vault file missing: run fsck');
        throw new StoreError('STORE_UNAVAILABLE', path, err.message);
      }
      throw err;
    }
  }
}
