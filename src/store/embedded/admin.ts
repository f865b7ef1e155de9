/**
 * Tools over the whole embedded store (`taskflow store`, tests, benches):
 * the catalog as comparable lines, and the catalog-vault consistency check
 * (objects whose vault file is missing; vault files, and small objects'
 * catalog-kept bytes, that no object owns; objects a parallel put left
 * intermediate when its server ended).
 *
 * @module
 */
import type Database from 'better-sqlite3';
import type { Avu, FsckReport } from '../types.js';
import type { EntryRow, PrincipalRow } from './catalog.js';
import type { StoreCore } from './core.js';
import { removeEndedHolderLocksOf } from './holder-locks.js';
import { abandonedIntermediates } from './intermediate-objects.js';
import { DEFAULT_RESOURCE, resourceOfVaultId } from './resources.js';
import { LEVEL_NAMES } from './schema.js';

/**
 * Every catalog fact as sorted JSON lines, without timestamps or internal
 * ids: AVU times (and the times of AVUs no item holds) are left out, so
 * equal states built at different moments dump alike.
 */
function dumpCatalog(db: Database.Database): string[] {
  const lines: string[] = [];
  const out = (o: object) => lines.push(JSON.stringify(o));
  for (const e of db.prepare<[], EntryRow>('SELECT * FROM entries').iterate()) {
    if (e.kind === 'c') out({ t: 'collection', path: e.path, owner: e.owner, inherit: e.inherit === 1 });
    else {
      const resource = e.vault_id ? resourceOfVaultId(e.vault_id) : DEFAULT_RESOURCE;
      // the resource only where it is not the store vault, as dumps had no resource before there were others
      out({ t: 'object', path: e.path, owner: e.owner, size: e.size, checksum: e.checksum, ...(resource === DEFAULT_RESOURCE ? {} : { resource }) });
    }
  }
  for (const a of db
    .prepare<[], Avu & { path: string }>('SELECT e.path, a.attribute, a.value, a.unit FROM avus a JOIN entries e ON e.id = a.entry_id')
    .iterate()) {
    out({ t: 'meta', path: a.path, attribute: a.attribute, value: a.value, unit: a.unit });
  }
  for (const a of db
    .prepare<[], { path: string; name: string; level: number }>('SELECT e.path, a.name, a.level FROM acl a JOIN entries e ON e.id = a.entry_id')
    .iterate()) {
    out({ t: 'acl', path: a.path, name: a.name, level: LEVEL_NAMES[a.level] });
  }
  for (const p of db.prepare<[], PrincipalRow>('SELECT * FROM principals').iterate()) {
    // the notes only when set: a principal without them dumps as it did before they were kept
    const notes = { ...(p.info !== '' && { info: p.info }), ...(p.comment !== '' && { comment: p.comment }) };
    out(p.kind === 'user' ? { t: 'user', name: p.name, type: p.user_type, ...notes } : { t: 'group', name: p.name, ...notes });
  }
  for (const m of db.prepare<[], { group_name: string; user_name: string }>('SELECT * FROM members').iterate()) {
    out({ t: 'member', group: m.group_name, user: m.user_name });
  }
  for (const a of db.prepare<[], { user_name: string; auth_name: string }>('SELECT user_name, auth_name FROM auth_names').iterate()) {
    out({ t: 'dn', user: a.user_name, name: a.auth_name });
  }
  for (const r of db.prepare<[], { name: string; host: string; context: string }>('SELECT name, host, context FROM resources').iterate()) {
    out({ t: 'resource', name: r.name, host: r.host, context: r.context });
  }
  // an object a write still holds open (null: a mark whose object is gone, which the triggers never leave)
  for (const i of db.prepare<[], { path: string | null }>('SELECT e.path FROM intermediate_objects i LEFT JOIN entries e ON e.id = i.entry_id').iterate()) {
    out({ t: 'intermediate', path: i.path });
  }
  for (const q of db.prepare<[], { alias: string | null; sql: string }>('SELECT alias, sql FROM specific_queries').iterate()) {
    out({ t: 'specific query', alias: q.alias, sql: q.sql });
  }
  return lines.sort();
}

/** The whole-store tools of the embedded store. */
export class Admin {
  constructor(private readonly core: StoreCore) {}

  async dump(): Promise<string[]> {
    return this.core.read(() => dumpCatalog(this.core.db));
  }

  async fsck(opts: { repair?: boolean } = {}): Promise<FsckReport> {
    const { core } = this;
    // The write lock keeps other processes from placing a file between our
    // vault scan and catalog read (they place files inside their write transaction).
    const { report, files } = core.write(() => {
      const byId = new Map<string, string>();
      for (const r of core.q.allVaultIds.iterate()) byId.set(r.vault_id, r.path);
      const seen = new Set<string>();
      const orphanFiles: string[] = [];
      for (const f of core.vault.scan()) {
        if (f.id !== undefined && byId.has(f.id)) seen.add(f.id);
        else orphanFiles.push(f.file);
      }
      const missingFiles: string[] = [];
      for (const [id, path] of byId) if (!seen.has(id)) missingFiles.push(path);
      missingFiles.sort();
      orphanFiles.sort();
      // small objects' bytes are catalog rows (objects.ts): none can be missing, but a row no object owns is a leftover too
      const strays = core.q.strayObjectBytes.all();
      const catalogFile = core.db.name;
      let repaired = 0;
      if (opts.repair) {
        for (const f of orphanFiles) {
          core.vault.removeFile(f);
          repaired++;
        }
        for (const id of strays) repaired += core.q.deleteObjectBytes.run(id).changes;
      }
      for (const id of strays) orphanFiles.push(`${catalogFile}#object_bytes/${id}`);
      const abandoned = abandonedIntermediates(core, opts.repair ?? false);
      for (const path of abandoned.paths) orphanFiles.push(`${catalogFile}#intermediate${path}`);
      if (opts.repair) repaired += abandoned.paths.length;
      return { report: { missingFiles, orphanFiles, repaired }, files: abandoned.files };
    });
    for (const f of files) core.vault.removeFile(f);
    if (opts.repair) removeEndedHolderLocksOf(core);
    return report;
  }
}
