/**
 * The vault: object bytes as files named by random ids, in 256 shard
 * folders (`vault/<first 2 hex>/<id>`). An object on a storage resource
 * an administrator made (`resources.ts`) has the id `<resource>/<hex>`
 * and its file in that resource's own vault folder,
 * `resources/<resource>/<first 2 hex>/<hex>` beside `vault/`: an id alone
 * says where the file is. New bytes are written to
 * `vault/tmp/<writer>-<id>.part` (the writer process's holder tag,
 * process-holders.ts), hashed while they stream in, synced, and only then
 * renamed to their final name; a temp file whose writer has ended is a crash
 * leftover.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../private-files.js';
import { NotFoundError } from '../errors.js';
import type { HashPool } from './hash-pool.js';
import { endedHoldersIn, holdersDirOf } from './holder-locks.js';
import { thisProcess } from './process-holders.js';

/** The error for an object (`path`: its logical path, or the file's) whose vault file is gone. */
export function vaultFileMissing(path: string): NotFoundError {
  return new NotFoundError(path, 'file', 'vault file missing: run fsck');
}

/** Bytes written to the vault but not yet renamed into place. */
export interface StagedFile {
  id: string;
  tempPath: string;
  size: number;
  md5: string;
}

/**
 * Bytes of a new object small enough for the catalog
 * ({@link Vault.inlineMax}), held in memory until the commit writes them
 * there, in the transaction that commits the object: no file.
 */
export interface StagedBytes {
  id: string;
  size: number;
  md5: string;
  bytes: Buffer;
}

/** Bytes of a new object on their way in: a temp file, or (small ones) in memory. */
export type Staged = StagedFile | StagedBytes;

/** True for staged bytes that go to the catalog rather than a vault file. */
export function isStagedBytes(staged: Staged): staged is StagedBytes {
  return 'bytes' in staged;
}

/**
 * Where an object's bytes are (`StoreCore.sourceOf` tells): in the catalog,
 * read with its row, or in a vault file.
 */
export type ObjectSource = { readonly bytes: Buffer; readonly file?: undefined } | { readonly bytes?: undefined; readonly file: string };

/** Options of {@link Vault.stage}. */
export interface StageOptions {
  /** Called with the byte count so far after each chunk. */
  onProgress?: (bytes: number) => void;
  /** The resource the bytes go to (default: the store vault). */
  resource?: string;
  /** False: a temp file whatever the size (default true: small bytes stay in memory for the catalog). */
  inline?: boolean;
}

/** Options of {@link Vault}. */
export interface VaultOptions {
  /** Largest object {@link Vault.stage} keeps in memory for the catalog (default 0: none). */
  inlineMax?: number;
  /** The folder holding each resource's vault folder (same file system: files are renamed into it). */
  resourcesDir?: string;
  /** The folder of the writers' liveness locks (default: `holders` beside the vault folder). */
  holdersDir?: string;
}

/** A file found in the vault that may be an orphan. */
export interface VaultFile {
  /** Absolute file path. */
  file: string;
  /** The object id, or undefined for a temp file. */
  id?: string;
  /** The writer process (process-holders.ts), temp files only. */
  holder?: string;
}

const TEMP_SUFFIX = '.part';
const READ_CHUNK = 256 * 1024;
/** Ids drawn from one shard before moving to another. */
const SHARD_RUN = 256;
/** Random bytes drawn at once for ids (256 ids' worth). */
const ID_RANDOM_BATCH = 16 * 256;
/** An object id: its hex, prefixed with its resource unless it is in the store's own vault. */
function idOn(hex: string, resource: string | undefined): string {
  return resource === undefined ? hex : `${resource}/${hex}`;
}

/** The holder a temp file's name begins with (see {@link Vault.tempFor}). */
function holderOfTemp(name: string): string {
  return name.split('-')[0]!;
}

/** The vault folder of one store. */
export class Vault {
  readonly tempDir: string;
  /** Objects of at most this many bytes keep them in the catalog, not in a file here (0: none). */
  readonly inlineMax: number;
  /** The folder holding each resource's vault folder. */
  readonly resourcesDir: string;
  /** The folder of the liveness locks of the processes that write here (holder-locks.ts). */
  readonly holdersDir: string;
  private readonly knownShards = new Set<string>();
  /** Temp files this process is writing or holding right now (not crash leftovers). */
  private readonly liveTemps = new Set<string>();

  /**
   * @param dir the vault folder
   * @param sync fsync staged files and folders after renames (durability against power loss)
   * @param pool the store's worker threads, which {@link Vault.stageFiles}
   *   copies with; more threads than cores, as each waits for the disk
   * @param directWrites {@link Vault.stageFiles} writes with O_DIRECT, past the page cache
   */
  constructor(
    readonly dir: string,
    readonly syncs: boolean,
    private readonly pool: HashPool,
    readonly directWrites: boolean,
    opts: VaultOptions = {},
  ) {
    this.inlineMax = opts.inlineMax ?? 0;
    this.resourcesDir = opts.resourcesDir ?? join(dirname(dir), 'resources');
    this.holdersDir = opts.holdersDir ?? holdersDirOf(dirname(dir));
    this.tempDir = join(dir, 'tmp');
    fs.mkdirSync(this.tempDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  /** The vault folder of resource `name`. */
  resourceDir(name: string): string {
    return join(this.resourcesDir, name);
  }

  /** Removes resource `name`'s vault folder with what it holds (a resource being removed, holding no object). */
  removeResourceDir(name: string): void {
    const dir = this.resourceDir(name);
    fs.rmSync(dir, { recursive: true, force: true });
    // its shard folders are gone: a resource made again under the name makes them again
    for (const shard of this.knownShards) if (dirname(shard) === dir) this.knownShards.delete(shard);
  }

  private shard = '';
  private shardUses = 0;

  /**
   * A new random object id. Its first two hex digits (the shard) stay the
   * same for a run of ids, so a batch of puts renames into one or two
   * folders and syncs only those; shards still fill evenly over time.
   */
  newId(resource?: string): string {
    if (this.shardUses++ % SHARD_RUN === 0) this.shard = this.randomHex(1);
    return idOn(this.shard + this.randomHex(15), resource);
  }

  /** Random bytes drawn ahead, for ids: one call into the CSPRNG per {@link ID_RANDOM_BATCH} bytes instead of per id. */
  private randomPool = Buffer.alloc(0);
  private randomUsed = 0;

  /** `n` random bytes as hex. */
  private randomHex(n: number): string {
    if (this.randomUsed + n > this.randomPool.length) {
      this.randomPool = randomBytes(ID_RANDOM_BATCH);
      this.randomUsed = 0;
    }
    const at = this.randomUsed;
    this.randomUsed += n;
    return this.randomPool.toString('hex', at, at + n);
  }

  /** The final file of an object id. */
  filePath(id: string): string {
    const slash = id.indexOf('/');
    if (slash === -1) return join(this.dir, id.slice(0, 2), id);
    const hex = id.slice(slash + 1);
    return join(this.resourcesDir, id.slice(0, slash), hex.slice(0, 2), hex);
  }

  /** The temp file for bytes of the new id `id`. */
  private tempFor(id: string): string {
    return join(this.tempDir, `${thisProcess()}-${id.replace('/', '+')}${TEMP_SUFFIX}`);
  }

  /**
   * Takes in `source` (a Readable or a local file path) as bytes of an
   * object on `opts.resource` (default: the store vault), computing its MD5
   * on the way: bytes that end up no larger than {@link Vault.inlineMax}
   * stay in memory (unless `opts.inline` is false), for the commit to keep
   * in the catalog; larger ones go to a temp file, synced when the vault
   * syncs. Never holds more than one chunk beyond that bound in memory. The
   * temp file is removed when anything fails.
   */
  async stage(source: Readable | string, opts: StageOptions = {}): Promise<Staged> {
    const { onProgress } = opts;
    const id = this.newId(opts.resource);
    const tempPath = this.tempFor(id);
    const hash = createHash('md5');
    let size = 0;
    /** The bytes so far while they may stay in the catalog; null once they go to the temp file. */
    let held: Buffer[] | null = this.inlineMax > 0 && opts.inline !== false ? [] : null;
    let out: fsp.FileHandle | undefined;
    const openOut = async (): Promise<fsp.FileHandle> => {
      this.liveTemps.add(tempPath);
      out = await fsp.open(tempPath, 'wx', PRIVATE_FILE_MODE);
      for (const h of held ?? []) await out.write(h);
      held = null;
      return out;
    };
    const take = async (chunk: Buffer, reused: boolean): Promise<void> => {
      hash.update(chunk);
      size += chunk.length;
      if (held && size <= this.inlineMax) held.push(reused ? Buffer.from(chunk) : chunk);
      else await (out ?? (await openOut())).write(chunk);
      onProgress?.(size);
    };
    try {
      if (typeof source === 'string') {
        let input: fsp.FileHandle;
        try {
          input = await fsp.open(source, 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(source, 'file');
          throw err;
        }
        try {
          const buf = Buffer.allocUnsafe(READ_CHUNK);
          for (;;) {
            const { bytesRead } = await input.read(buf, 0, buf.length, null);
            if (bytesRead === 0) break;
            await take(buf.subarray(0, bytesRead), true);
          }
        } finally {
          await input.close();
        }
      } else {
        for await (const data of source) await take(typeof data === 'string' ? Buffer.from(data) : (data as Buffer), false);
      }
      // the id drawn for a temp file goes unused: catalog-kept bytes get a time-ordered one (see orderedId)
      if (held) return this.stagedBytes(held.length === 1 ? held[0]! : Buffer.concat(held), hash.digest('hex'), opts.resource);
      out ??= await openOut();
      if (this.syncs) await out.datasync();
    } catch (err) {
      if (out) {
        await out.close().catch(() => {});
        await fsp.rm(tempPath, { force: true });
        this.liveTemps.delete(tempPath);
      }
      throw err;
    }
    await out!.close();
    return { id, tempPath, size, md5: hash.digest('hex') };
  }

  /** `bytes` (with their MD5) as bytes of a new object on `resource`, to be kept in the catalog: no file. */
  stagedBytes(bytes: Buffer, md5: string, resource?: string): StagedBytes {
    return { id: this.orderedId(resource), size: bytes.length, md5, bytes };
  }

  /**
   * A new object id that sorts after those made before it (in any process,
   * as far as the clocks agree): the milliseconds since 1970 in 12 hex
   * digits, then 20 random ones, 32 in all as {@link newId}'s. For bytes
   * kept in the catalog, which have no file and so no shard to spread:
   * their ids then go in at one place of the catalog's unique index of
   * vault ids instead of a random leaf each, so a small put's commit writes
   * fewer index pages (random inserts split leaves half empty).
   */
  orderedId(resource?: string): string {
    return idOn(Date.now().toString(16).padStart(12, '0') + this.randomHex(10), resource);
  }

  /**
   * Stages several local files at once: the worker threads copy and hash
   * them, and sync them when the vault syncs (each closing what it opened).
   * Returns, in input order, each staged file or the error for that file;
   * nothing is left behind for a failed one.
   */
  async stageFiles(sources: readonly string[]): Promise<Array<StagedFile | Error>> {
    const items = sources.map((src) => {
      const id = this.newId();
      const dest = this.tempFor(id);
      this.liveTemps.add(dest);
      return { src, dest, id };
    });
    let results;
    try {
      results = await this.pool.copyFiles(items, { sync: this.syncs, direct: this.directWrites });
    } catch (err) {
      for (const it of items) {
        this.removeFile(it.dest);
        this.liveTemps.delete(it.dest);
      }
      throw err;
    }
    return results.map((r, i): StagedFile | Error => {
      const { src, dest, id } = items[i];
      if ('error' in r) {
        this.liveTemps.delete(dest);
        return r.code === 'ENOENT' ? new NotFoundError(src, 'file') : new Error(`cannot read ${src}: ${r.error}`);
      }
      return { id, tempPath: dest, size: r.size, md5: r.md5 };
    });
  }

  /**
   * A new temp file for bytes that arrive piece by piece rather than as one
   * stream (the iRODS protocol server's open, write, seek and close): empty,
   * or a copy of the object file `copyOf`. It counts as a live temp, as a
   * staged file does, until {@link Vault.place} or {@link Vault.discard}; the
   * caller fills in size and MD5 of the {@link StagedFile} it places.
   */
  async createTemp(copyOf?: string, resource?: string): Promise<{ id: string; tempPath: string }> {
    const { id, tempPath } = this.reserveTemp(resource);
    try {
      if (copyOf === undefined) {
        await (await fsp.open(tempPath, 'wx', PRIVATE_FILE_MODE)).close();
      } else {
        // a clone where the file system offers one, else a kernel copy: no bytes through this process
        await fsp.copyFile(copyOf, tempPath, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
        await fsp.chmod(tempPath, PRIVATE_FILE_MODE);
      }
    } catch (err) {
      await fsp.rm(tempPath, { force: true });
      this.liveTemps.delete(tempPath);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && copyOf !== undefined) throw vaultFileMissing(copyOf);
      throw err;
    }
    return { id, tempPath };
  }

  /**
   * A new temp file's id and path, counted as live, without creating the
   * file: for bytes kept in memory until they are complete (the iRODS
   * protocol server's small writes), which the caller then writes there
   * itself (exclusively: the path is new). {@link Vault.place} or
   * {@link Vault.discard} ends it as for {@link Vault.createTemp}.
   */
  reserveTemp(resource?: string): { id: string; tempPath: string } {
    const id = this.newId(resource);
    const tempPath = this.tempFor(id);
    this.liveTemps.add(tempPath);
    return { id, tempPath };
  }

  /** Renames a staged file to its final name; returns the shard folder (to be synced). */
  place(staged: StagedFile): string {
    const shard = dirname(this.filePath(staged.id));
    if (!this.knownShards.has(shard)) {
      fs.mkdirSync(shard, { recursive: true, mode: PRIVATE_DIR_MODE });
      this.knownShards.add(shard);
    }
    fs.renameSync(staged.tempPath, this.filePath(staged.id));
    this.liveTemps.delete(staged.tempPath);
    return shard;
  }

  /** Drops staged bytes that will not be placed (a file is removed; bytes in memory need nothing). */
  discard(staged: Staged): void {
    if (isStagedBytes(staged)) return;
    this.removeFile(staged.tempPath);
    this.liveTemps.delete(staged.tempPath);
  }

  /** Makes renames in these folders durable. */
  syncDirs(dirs: Iterable<string>): void {
    if (!this.syncs) return;
    for (const dir of dirs) {
      const fd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /** The holders named by the temp files here now, live or left by ended writers. */
  tempHolders(): string[] {
    return fs.readdirSync(this.tempDir).map(holderOfTemp);
  }

  /** Removes an object's file or a temp file; a missing file is fine. */
  removeFile(file: string): void {
    fs.rmSync(file, { force: true });
  }

  /** Removes object files by id; missing ones are fine. */
  removeIds(ids: Iterable<string>): void {
    for (const id of ids) this.removeFile(this.filePath(id));
  }

  /**
   * Every file in the vault: object files (with their id) and temp files
   * whose writer process is gone (live writers' temps are skipped).
   */
  *scan(): Generator<VaultFile> {
    const ended = endedHoldersIn(this.holdersDir);
    for (const shard of fs.readdirSync(this.dir, { withFileTypes: true })) {
      if (!shard.isDirectory()) {
        yield { file: join(this.dir, shard.name) };
        continue;
      }
      const shardDir = join(this.dir, shard.name);
      if (shard.name === 'tmp') {
        for (const name of fs.readdirSync(shardDir)) {
          const file = join(shardDir, name);
          const holder = holderOfTemp(name);
          if (holder === thisProcess() ? this.liveTemps.has(file) : !ended(holder)) continue;
          yield { file, holder };
        }
        continue;
      }
      for (const name of fs.readdirSync(shardDir)) yield { file: join(shardDir, name), id: name };
    }
    yield* this.scanResources();
  }

  /** Every file in the resources' vault folders, as {@link Vault.scan} reports them. */
  private *scanResources(): Generator<VaultFile> {
    let resources: fs.Dirent[];
    try {
      resources = fs.readdirSync(this.resourcesDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const r of resources) {
      const rDir = join(this.resourcesDir, r.name);
      if (!r.isDirectory()) {
        yield { file: rDir };
        continue;
      }
      for (const shard of fs.readdirSync(rDir, { withFileTypes: true })) {
        const shardDir = join(rDir, shard.name);
        if (!shard.isDirectory()) yield { file: shardDir };
        else for (const name of fs.readdirSync(shardDir)) yield { file: join(shardDir, name), id: `${r.name}/${name}` };
      }
    }
  }
}
