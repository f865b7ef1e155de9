/**
 * Prepared statements over the catalog schema of `schema.ts`: row-level
 * reads and writes with no rules of their own. The store's semantics
 * (existence checks, inheritance, errors) live in `store.ts`.
 *
 * @module
 */
import type Database from 'better-sqlite3';

/** A prepared statement returning rows of type `R`. */
type Stmt<R = unknown> = Database.Statement<unknown[], R>;

/** One row of `entries`. */
export interface EntryRow {
  id: number;
  path: string;
  parent_id: number | null;
  kind: 'c' | 'o';
  owner: string;
  size: number;
  checksum: string | null;
  vault_id: string | null;
  inherit: number;
  modified: string;
  /** When the entry was made (schema.ts `addEntryCreateTimes`); null in a row older than the column: read {@link createdOf}. */
  created: string | null;
}

/** When `row` was made: its create time, or for a row older than the column its modify time. */
export function createdOf(row: Pick<EntryRow, 'created' | 'modified'>): string {
  return row.created ?? row.modified;
}

/** {@link createdOf} in SQL, for the entries row named `alias`. */
export function createdSql(alias: string): string {
  return `coalesce(${alias}.created, ${alias}.modified)`;
}

/**
 * What most calls need of an entry: its row id, its kind and its
 * inheritance flag. Read without the row's strings (the path the caller
 * knows, owner, timestamp): turning those into JS strings cost more than
 * the index lookup itself, and a zone move looks up a dozen entries.
 */
export type EntryKey = Pick<EntryRow, 'id' | 'kind' | 'inherit'>;

/** What {@link toEntry} shows of an entry besides its path. */
export type EntryFacts = Pick<EntryRow, 'kind' | 'owner' | 'size' | 'checksum' | 'inherit' | 'modified'>;

/** A raw row of {@link Catalog.idAndParentKey}. */
export type IdAndParentKeyRow = [id: number | null, parentId: number | null, parentKind: EntryKey['kind'] | null, parentInherit: number | null];

/** A row of `intermediate_objects` (schema.ts) with the path of the object it marks. */
export interface IntermediateRow {
  holder: string;
  path: string;
}

/** One row of `principals`. */
export interface PrincipalRow {
  name: string;
  kind: 'user' | 'group';
  user_type: string | null;
  info: string;
  comment: string;
}

/** Bounds of the index range holding exactly the descendants of `path`. */
export function subtreeRange(path: string): [string, string] {
  return [`${path}/`, `${path}0`];
}

/**
 * Parameters of the paged statements: the index range `(max(lo, after), hi)`
 * (`after` is `lo` on a first page) and the most rows (-1: no limit).
 */
export interface PageParams {
  lo: string;
  hi: string;
  after: string;
  limit: number;
}

/** The catalog's statements, prepared once per store. */
export class Catalog {
  readonly entry: Stmt<EntryRow>;
  readonly entryKey: Stmt<EntryKey>;
  readonly entryFacts: Stmt<EntryFacts>;
  /**
   * The id of the entry at a path (null: none) and the key of the entry at
   * its parent path (nulls: none), as one raw row `[id, parent id, parent
   * kind, parent inherit]`: a create's open needs both, and two statements
   * cost more than the lookups in them.
   */
  readonly idAndParentKey: Database.Statement<[string, string], IdAndParentKeyRow>;
  /**
   * {@link idAndParentKey} and the kind of a principal (null: none), bound
   * as (path, parent path, owner): what a put's commit reads before writing,
   * in one statement instead of three.
   */
  readonly putFacts: Database.Statement<[string, string, string], [...IdAndParentKeyRow, PrincipalRow['kind'] | null]>;
  readonly insertEntry: Stmt;
  readonly updateObject: Stmt;
  /** Sets the modify time (ISO text) of the entry with an id. */
  readonly setModified: Database.Statement<[string, number]>;
  readonly firstChild: Stmt<{ id: number }>;
  readonly subtreePage: Database.Statement<[PageParams], EntryRow>;
  readonly childrenPage: Database.Statement<[PageParams & { parent: number }], EntryRow>;
  /** Plucked: one string per object, no row object. */
  readonly objectPathsPage: Database.Statement<[PageParams], string>;
  /** Plucked paths relative to `base`, cut by SQLite: fresh short strings, not slices pinning the full path. */
  readonly objectNamesPage: Database.Statement<[PageParams & { base: string }], string>;
  /** Object paths (relative to `base` when `base` is not null, cut as {@link objectNamesPage}) and checksums. */
  readonly objectChecksumsPage: Database.Statement<
    [PageParams & { base: string | null }],
    { path: string; checksum: string | null }
  >;
  readonly subtreeAclPage: Database.Statement<
    [PageParams],
    { path: string; name: string | null; level: number | null; kind: 'user' | 'group' | null }
  >;
  /** Vault ids of a path range's objects whose bytes are vault files (plucked). */
  readonly subtreeVaultIds: Database.Statement<[string, string], string>;
  /** Every object whose bytes are a vault file. */
  readonly allVaultIds: Stmt<{ vault_id: string; path: string }>;
  /** A small object's bytes kept in the catalog (plucked), given its entry id and vault id; none for a vault file's object. */
  readonly objectBytes: Database.Statement<[number, string], Buffer>;
  /** 1 when the entry's bytes are kept in the catalog (plucked), else 0. */
  readonly hasObjectBytes: Database.Statement<[number], number>;
  /** 1 when a resource of the name was made (resources.ts), else 0; every put to such a resource asks. */
  readonly resourceMade: Database.Statement<[string], number>;
  /** Keeps an object's bytes in the catalog: entry id, vault id, bytes. */
  readonly insertObjectBytes: Stmt;
  /** Catalog-kept bytes whose entry is gone, is no object, or has other bytes now: leftovers fsck reports (the triggers leave none). */
  readonly strayObjectBytes: Database.Statement<[], number>;
  readonly deleteObjectBytes: Stmt;
  /** Marks an object intermediate: entry id, vault id, holder (schema.ts `intermediate_objects`). */
  readonly insertIntermediate: Stmt;
  /** Every intermediate mark with the path of the object it marks (the triggers end a mark with its object, or with the object's bytes). */
  readonly intermediates: Database.Statement<[], IntermediateRow>;
  readonly deleteEntry: Stmt;
  readonly deleteSubtreeAvus: Stmt;
  readonly deleteSubtreeAcl: Stmt;
  readonly deleteSubtreeEntries: Stmt;
  readonly moveRoot: Stmt;
  readonly moveDescendants: Stmt;
  /** Moves the objects of a JSON list of `[src, dst, parent id]` in one statement; collections are left alone. */
  readonly moveObjectsAtOnce: Database.Statement<[{ moves: string; now: string }]>;
  readonly setInherit: Stmt;
  readonly setInheritSubtree: Stmt;
  readonly avus: Stmt<{ attribute: string; value: string; unit: string }>;
  /** Adds an AVU (`{ id, attribute, value, unit, now }`) with the times iRODS would give it; ignored when the entry has it. */
  readonly insertAvu: Database.Statement<[{ id: number; attribute: string; value: string; unit: string; now: string }]>;
  /** At most two AVUs of the entry with the attribute: entry id, attribute. */
  readonly avusOfAttribute: Stmt<{ value: string; unit: string }>;
  /** 1 when another entry holds the AVU (one meta row in iRODS): attribute, value, unit, entry id (plucked). */
  readonly avuShared: Database.Statement<[string, string, string, number], number>;
  /** `set` of the entry's only, unshared AVU of the attribute: new value and unit, modify time now (`{ id, attribute, value, unit, now }`). */
  readonly setAvuInPlace: Database.Statement<[{ id: number; attribute: string; value: string; unit: string; now: string }]>;
  /** Forgets the meta rows no entry links (`iadmin rum`). */
  readonly deleteUnusedAvus: Stmt;
  readonly deleteAvu: Stmt;
  readonly deleteAvusOf: Stmt;
  readonly deleteAttribute: Stmt;
  readonly acl: Stmt<{ name: string; level: number; kind: 'user' | 'group' | null }>;
  readonly aclLevel: Stmt<{ level: number }>;
  /** Entries of a path range. */
  readonly subtreeCount: Database.Statement<[string, string], number>;
  /** One principal's ACL entries of a path range, counted by level. */
  readonly subtreeLevelCounts: Database.Statement<[{ name: string; lo: string; hi: string }], { level: number; n: number }>;
  readonly upsertAcl: Stmt;
  readonly upsertAclSubtree: Stmt;
  /** A page of the entries of a path range where one principal's level is not the given one. */
  readonly subtreeLevelExceptionsPage: Database.Statement<
    [PageParams & { name: string; level: number }],
    { path: string; level: number }
  >;
  readonly deleteAcl: Stmt;
  readonly deleteAclSubtree: Stmt;
  readonly deleteAclOf: Stmt;
  readonly deleteAclName: Stmt;
  /** Removes one principal's entries on the paths of a JSON list (a chunk of moved objects). */
  readonly deleteAclAtPaths: Database.Statement<[{ name: string; paths: string }]>;
  /** Sets one principal's level on the paths of a JSON list. */
  readonly upsertAclAtPaths: Database.Statement<[{ name: string; level: number; paths: string }]>;
  /** One principal's level (0: none) at each existing path of a JSON list. */
  readonly levelsAtPaths: Database.Statement<[{ name: string; paths: string }], { path: string; level: number }>;
  /** How many entries exist at the paths of a JSON list (plucked). */
  readonly countAtPaths: Database.Statement<[string], number>;
  readonly copyAcl: Stmt;
  readonly principal: Stmt<PrincipalRow>;
  readonly principals: Stmt<PrincipalRow>;
  readonly insertPrincipal: Stmt;
  readonly deletePrincipal: Stmt;
  /** A group's member names as plain strings (plucked: no row object per member). */
  readonly memberNames: Database.Statement<[string], string>;
  /** 1 when a membership row exists (plucked), else 0. */
  readonly isMember: Database.Statement<[string, string], number>;
  /** The vault rows of the objects at a JSON list of paths, in one query. */
  readonly vaultRows: Database.Statement<[string], Pick<EntryRow, 'id' | 'path' | 'kind' | 'vault_id'>>;
  /** The path of the data object with an id and vault id (plucked). */
  readonly objectPathOf: Database.Statement<[number, string | null], string>;
  readonly insertMember: Stmt;
  readonly deleteMember: Stmt;
  readonly deleteMembersOf: Stmt;
  readonly deleteMembershipsOf: Stmt;

  constructor(readonly db: Database.Database) {
    const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.entry = p<EntryRow>('SELECT * FROM entries WHERE path = ?');
    this.entryKey = p<EntryKey>('SELECT id, kind, inherit FROM entries WHERE path = ?');
    this.entryFacts = p<EntryFacts>('SELECT kind, owner, size, checksum, inherit, modified FROM entries WHERE path = ?');
    // one row whatever exists: the lookups are left joins on a constant row
    const lookups = 'FROM (SELECT 1) LEFT JOIN entries e ON e.path = ? LEFT JOIN entries p ON p.path = ?';
    this.idAndParentKey = db.prepare<[string, string], IdAndParentKeyRow>(`SELECT e.id, p.id, p.kind, p.inherit ${lookups}`).raw();
    this.putFacts = db
      .prepare<[string, string, string], [...IdAndParentKeyRow, PrincipalRow['kind'] | null]>(
        `SELECT e.id, p.id, p.kind, p.inherit, o.kind ${lookups} LEFT JOIN principals o ON o.name = ?`,
      )
      .raw();
    // positional: binding ten values by name looks each name up on every run
    this.insertEntry = p(
      `INSERT INTO entries (path, parent_id, kind, owner, size, checksum, vault_id, inherit, modified, created)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateObject = p('UPDATE entries SET size = ?, checksum = ?, vault_id = ?, modified = ? WHERE id = ?');
    this.setModified = db.prepare<[string, number]>('UPDATE entries SET modified = ? WHERE id = ?');
    this.objectPathOf = db.prepare<[number, string | null], string>(`SELECT path FROM entries WHERE id = ? AND vault_id IS ? AND kind = 'o'`).pluck();
    this.firstChild = p<{ id: number }>('SELECT id FROM entries WHERE parent_id = ? LIMIT 1');
    // max(): the page's lower bound stays one index range bound, so each page starts where the last ended
    const range = 'path > max(@lo, @after) AND path < @hi';
    // the limit as a subquery, not a bare parameter: SQLite (3.53) made each run of a statement with
    // `LIMIT @limit` cost about 5 us more (measured, whatever the page held), which an empty zone's
    // listings paid several times per move; the plans are the same
    const limit = 'LIMIT (SELECT @limit)';
    this.subtreePage = db.prepare<[PageParams], EntryRow>(`SELECT * FROM entries WHERE ${range} ORDER BY path ${limit}`);
    this.childrenPage = db.prepare<[PageParams & { parent: number }], EntryRow>(
      `SELECT * FROM entries WHERE parent_id = @parent AND ${range} ORDER BY path ${limit}`,
    );
    this.objectPathsPage = db
      .prepare<[PageParams], string>(`SELECT path FROM entries WHERE ${range} AND kind = 'o' ORDER BY path ${limit}`)
      .pluck();
    this.objectNamesPage = db
      .prepare<[PageParams & { base: string }], string>(
        `SELECT substr(path, length(@base) + 2) FROM entries WHERE ${range} AND kind = 'o' ORDER BY path ${limit}`,
      )
      .pluck();
    // ORDER BY the column, not the result alias: the index order, so a page reads only its own rows
    this.objectChecksumsPage = db.prepare(
      `SELECT CASE WHEN @base IS NULL THEN path ELSE substr(path, length(@base) + 2) END AS path, checksum
       FROM entries WHERE ${range} AND kind = 'o' ORDER BY entries.path ${limit}`,
    );
    // the page's entries first, then their ACL rows (one row with a null name for an empty ACL)
    this.subtreeAclPage = db.prepare(
      `SELECT e.path, a.name, a.level, p.kind FROM
         (SELECT id, path FROM entries WHERE ${range} ORDER BY path ${limit}) e
       LEFT JOIN acl a ON a.entry_id = e.id LEFT JOIN principals p ON p.name = a.name
       ORDER BY e.path, a.name`,
    );
    const inFile = 'NOT EXISTS (SELECT 1 FROM object_bytes b WHERE b.entry_id = entries.id)';
    this.subtreeVaultIds = db
      .prepare<[string, string], string>(`SELECT vault_id FROM entries WHERE path > ? AND path < ? AND vault_id IS NOT NULL AND ${inFile}`)
      .pluck();
    this.allVaultIds = p<{ vault_id: string; path: string }>(`SELECT vault_id, path FROM entries WHERE vault_id IS NOT NULL AND ${inFile}`);
    this.objectBytes = db.prepare<[number, string], Buffer>('SELECT bytes FROM object_bytes WHERE entry_id = ? AND vault_id = ?').pluck();
    this.hasObjectBytes = db.prepare<[number], number>('SELECT EXISTS (SELECT 1 FROM object_bytes WHERE entry_id = ?)').pluck();
    this.resourceMade = db.prepare<[string], number>('SELECT EXISTS (SELECT 1 FROM resources WHERE name = ?)').pluck();
    this.insertObjectBytes = p('INSERT OR REPLACE INTO object_bytes (entry_id, vault_id, bytes) VALUES (?, ?, ?)');
    this.strayObjectBytes = db
      .prepare<[], number>(
        `SELECT b.entry_id FROM object_bytes b LEFT JOIN entries e ON e.id = b.entry_id
         WHERE e.id IS NULL OR e.kind <> 'o' OR e.vault_id IS NOT b.vault_id ORDER BY b.entry_id`,
      )
      .pluck();
    this.deleteObjectBytes = p('DELETE FROM object_bytes WHERE entry_id = ?');
    this.insertIntermediate = p('INSERT INTO intermediate_objects (entry_id, vault_id, holder) VALUES (?, ?, ?)');
    this.intermediates = p<IntermediateRow>(
      `SELECT i.holder, e.path FROM intermediate_objects i
       JOIN entries e ON e.id = i.entry_id AND e.vault_id IS i.vault_id AND e.kind = 'o' ORDER BY e.path`,
    );
    this.deleteEntry = p('DELETE FROM entries WHERE id = ?');
    const inSubtree = 'entry_id IN (SELECT id FROM entries WHERE path > ? AND path < ?)';
    this.deleteSubtreeAvus = p(`DELETE FROM avus WHERE ${inSubtree}`);
    this.deleteSubtreeAcl = p(`DELETE FROM acl WHERE ${inSubtree}`);
    this.deleteSubtreeEntries = p('DELETE FROM entries WHERE path > ? AND path < ?');
    this.moveRoot = p('UPDATE entries SET path = ?, parent_id = ?, modified = ? WHERE id = ?');
    // length() and substr() count characters the same way, whatever the script.
    this.moveDescendants = p(
      'UPDATE entries SET path = @dst || substr(path, length(@src) + 1) WHERE path > @lo AND path < @hi',
    );
    this.moveObjectsAtOnce = db.prepare(
      `UPDATE entries SET path = m.dst, parent_id = m.parent, modified = @now
       FROM (SELECT value ->> 0 AS src, value ->> 1 AS dst, value ->> 2 AS parent FROM json_each(@moves)) AS m
       WHERE entries.path = m.src AND entries.kind = 'o'`,
    );
    this.setInherit = p('UPDATE entries SET inherit = ? WHERE id = ?');
    this.setInheritSubtree = p("UPDATE entries SET inherit = ? WHERE path > ? AND path < ? AND kind = 'c'");
    this.avus = p<{ attribute: string; value: string; unit: string }>(
      'SELECT attribute, value, unit FROM avus WHERE entry_id = ? ORDER BY attribute, value, unit',
    );
    // seq: one past the last given (schema.ts addAvuSeq, whose trigger records it); writes are serialised, so two AVUs never share one
    // times: those of the meta row iRODS would reuse, a linked or unused one with this attribute, value and unit, else now (schema.ts addAvuTimes)
    this.insertAvu = p(
      `INSERT OR IGNORE INTO avus (entry_id, attribute, value, unit, seq, created, modified, linked)
       SELECT @id, @attribute, @value, @unit, (SELECT last + 1 FROM avu_seq),
         coalesce(m.created, u.created, @now), coalesce(m.modified, u.modified, @now), @now
       FROM (SELECT 1)
       -- any one row of the triple: they share their times (ordering them all made each add cost as much
       -- as the items holding the triple, and a thousand adds of one AVU their square)
       LEFT JOIN (SELECT created, modified FROM avus WHERE attribute = @attribute AND value = @value AND unit = @unit LIMIT 1) AS m
       LEFT JOIN avu_unused AS u ON u.attribute = @attribute AND u.value = @value AND u.unit = @unit`,
    );
    this.avusOfAttribute = p<{ value: string; unit: string }>('SELECT value, unit FROM avus WHERE entry_id = ? AND attribute = ? LIMIT 2');
    this.avuShared = db
      .prepare<[string, string, string, number], number>(
        'SELECT EXISTS (SELECT 1 FROM avus WHERE attribute = ? AND value = ? AND unit = ? AND entry_id <> ?)',
      )
      .pluck();
    this.setAvuInPlace = p(
      'UPDATE avus SET value = @value, unit = @unit, modified = @now WHERE entry_id = @id AND attribute = @attribute',
    );
    this.deleteUnusedAvus = p('DELETE FROM avu_unused');
    this.deleteAvu = p('DELETE FROM avus WHERE entry_id = ? AND attribute = ? AND value = ? AND unit = ?');
    this.deleteAvusOf = p('DELETE FROM avus WHERE entry_id = ?');
    this.deleteAttribute = p('DELETE FROM avus WHERE entry_id = ? AND attribute = ?');
    this.acl = p<{ name: string; level: number; kind: 'user' | 'group' | null }>(
      `SELECT a.name, a.level, p.kind FROM acl a LEFT JOIN principals p ON p.name = a.name
       WHERE a.entry_id = ? ORDER BY a.name`,
    );
    this.aclLevel = p<{ level: number }>('SELECT level FROM acl WHERE entry_id = ? AND name = ?');
    this.subtreeCount = db.prepare<[string, string], number>('SELECT count(*) FROM entries WHERE path > ? AND path < ?').pluck();
    // CROSS JOIN keeps the subtree's range the outer loop: a principal with access on millions of other entries costs nothing here
    this.subtreeLevelCounts = db.prepare(
      `SELECT a.level AS level, count(*) AS n FROM entries e CROSS JOIN acl a ON a.entry_id = e.id AND a.name = @name
       WHERE e.path > @lo AND e.path < @hi GROUP BY a.level`,
    );
    const levelOf = 'LEFT JOIN acl a ON a.entry_id = e.id AND a.name = @name';
    this.subtreeLevelExceptionsPage = db.prepare(
      `SELECT e.path, coalesce(a.level, 0) AS level FROM entries e ${levelOf}
       WHERE e.path > max(@lo, @after) AND e.path < @hi AND coalesce(a.level, 0) <> @level ORDER BY e.path ${limit}`,
    );
    this.upsertAcl = p(
      'INSERT INTO acl (entry_id, name, level) VALUES (?, ?, ?) ON CONFLICT (entry_id, name) DO UPDATE SET level = excluded.level',
    );
    this.upsertAclSubtree = p(
      `INSERT INTO acl (entry_id, name, level) SELECT id, @name, @level FROM entries WHERE path > @lo AND path < @hi
       ON CONFLICT (entry_id, name) DO UPDATE SET level = excluded.level`,
    );
    this.deleteAcl = p('DELETE FROM acl WHERE entry_id = ? AND name = ?');
    this.deleteAclSubtree = p(`DELETE FROM acl WHERE name = ? AND ${inSubtree}`);
    this.deleteAclOf = p('DELETE FROM acl WHERE entry_id = ?');
    this.deleteAclName = p('DELETE FROM acl WHERE name = ?');
    const atPaths = 'SELECT id FROM entries WHERE path IN (SELECT value FROM json_each(@paths))';
    this.deleteAclAtPaths = db.prepare(`DELETE FROM acl WHERE name = @name AND entry_id IN (${atPaths})`);
    this.upsertAclAtPaths = db.prepare(
      `INSERT INTO acl (entry_id, name, level) SELECT id, @name, @level FROM (${atPaths}) WHERE true
       ON CONFLICT (entry_id, name) DO UPDATE SET level = excluded.level`,
    );
    this.levelsAtPaths = db.prepare(
      `SELECT e.path, coalesce(a.level, 0) AS level FROM entries e LEFT JOIN acl a ON a.entry_id = e.id AND a.name = @name
       WHERE e.path IN (SELECT value FROM json_each(@paths))`,
    );
    this.countAtPaths = db
      .prepare<[string], number>('SELECT count(*) FROM entries WHERE path IN (SELECT value FROM json_each(?))')
      .pluck();
    this.copyAcl = p('INSERT OR REPLACE INTO acl (entry_id, name, level) SELECT ?, name, level FROM acl WHERE entry_id = ?');
    this.principal = p<PrincipalRow>('SELECT * FROM principals WHERE name = ?');
    this.principals = p<PrincipalRow>('SELECT * FROM principals WHERE kind = ? ORDER BY name');
    this.insertPrincipal = p('INSERT INTO principals (name, kind, user_type) VALUES (?, ?, ?)');
    this.deletePrincipal = p('DELETE FROM principals WHERE name = ?');
    this.memberNames = db
      .prepare<[string], string>('SELECT user_name FROM members WHERE group_name = ? ORDER BY user_name')
      .pluck();
    this.isMember = db
      .prepare<[string, string], number>('SELECT EXISTS (SELECT 1 FROM members WHERE group_name = ? AND user_name = ?)')
      .pluck();
    this.vaultRows = db.prepare(`SELECT id, path, kind, vault_id FROM entries WHERE path IN (SELECT value FROM json_each(?))`);
    this.insertMember = p('INSERT OR IGNORE INTO members (group_name, user_name) VALUES (?, ?)');
    this.deleteMember = p('DELETE FROM members WHERE group_name = ? AND user_name = ?');
    this.deleteMembersOf = p('DELETE FROM members WHERE group_name = ?');
    this.deleteMembershipsOf = p('DELETE FROM members WHERE user_name = ?');
  }
}
