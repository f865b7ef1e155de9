/**
 * The catalog's SQLite schema and how a catalog file is opened: WAL, a busy
 * timeout so several processes can share one store, and the initial
 * collections (the root `/`, the zone's), admin user and public group.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.js';
import { ROOT_PATH } from '../paths.js';
import { openSqlite } from '../../sqlite-busy.js';
import { addResourceTable } from './resources.js';
import { addSpecificQueryTable } from './specific-queries.js';

/** The admin user every store has; owner of new entries by default. */
export const ADMIN_USER = 'rods';
/** The group every store has. */
export const PUBLIC_GROUP = 'public';
/** Default milliseconds a call waits for another process's write transaction. */
export const BUSY_TIMEOUT_MS = 15_000;

/** Access levels as stored: ordered integers. */
export const LEVELS = { read: 1, write: 2, own: 3 } as const;
/** Stored integer back to the level name. */
export const LEVEL_NAMES = [null, 'read', 'write', 'own'] as const;

/**
 * The triggers that drop a table's rows of an object (by `entry_id`) with
 * the object, and when the object gets other bytes, whichever statement
 * does either.
 */
function goWithObjectBytes(table: string): string {
  return `CREATE TRIGGER IF NOT EXISTS ${table}_removed AFTER DELETE ON entries WHEN OLD.kind = 'o' BEGIN
  DELETE FROM ${table} WHERE entry_id = OLD.id;
END;
CREATE TRIGGER IF NOT EXISTS ${table}_replaced AFTER UPDATE OF vault_id ON entries WHEN NEW.vault_id IS NOT OLD.vault_id BEGIN
  DELETE FROM ${table} WHERE entry_id = OLD.id;
END;`;
}

// One table for collections and objects: iRODS forbids both at one path, and a
// subtree move is then a single prefix update. `path` is unique with the
// binary collation, so `path > 'p/' AND path < 'p0'` is an index range over
// exactly the subtree of p ('0' follows '/' in ASCII).
const DDL = `
CREATE TABLE IF NOT EXISTS entries (
  id        INTEGER PRIMARY KEY,
  path      TEXT NOT NULL UNIQUE,
  parent_id INTEGER,
  kind      TEXT NOT NULL CHECK (kind IN ('c', 'o')),
  owner     TEXT NOT NULL,
  size      INTEGER NOT NULL DEFAULT 0,
  checksum  TEXT,
  vault_id  TEXT UNIQUE,
  inherit   INTEGER NOT NULL DEFAULT 0,
  modified  TEXT NOT NULL
);
-- (parent, path): a collection's children come out in path order, so a
-- paged listing or GenQuery reads one index range instead of sorting them
CREATE INDEX IF NOT EXISTS entries_parent_path ON entries (parent_id, path);
DROP INDEX IF EXISTS entries_parent;
CREATE TABLE IF NOT EXISTS avus (
  entry_id  INTEGER NOT NULL,
  attribute TEXT NOT NULL,
  value     TEXT NOT NULL,
  unit      TEXT NOT NULL,
  seq       INTEGER,
  created   TEXT NOT NULL DEFAULT '00000000000',
  modified  TEXT NOT NULL DEFAULT '00000000000',
  linked    TEXT NOT NULL DEFAULT '00000000000',
  PRIMARY KEY (entry_id, attribute, value, unit)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS principals (
  name      TEXT PRIMARY KEY,
  kind      TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  user_type TEXT,
  info      TEXT NOT NULL DEFAULT '',
  comment   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
  group_name TEXT NOT NULL,
  user_name  TEXT NOT NULL,
  PRIMARY KEY (group_name, user_name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_user ON members (user_name);
CREATE TABLE IF NOT EXISTS acl (
  entry_id INTEGER NOT NULL,
  name     TEXT NOT NULL,
  level    INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
  PRIMARY KEY (entry_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS acl_name ON acl (name);
CREATE TABLE IF NOT EXISTS passwords (
  name   TEXT PRIMARY KEY,
  secret TEXT NOT NULL
) WITHOUT ROWID;
-- Small objects' bytes (objects.ts, STORE_DEFAULTS.inlineMaxBytes), written in
-- the transaction that commits their entry: no vault file. \`vault_id\` is the
-- entry's at that commit, so a reader holding an older row finds nothing
-- rather than newer bytes. The triggers drop the bytes with the entry and
-- when the entry gets other bytes, whichever statement does it.
CREATE TABLE IF NOT EXISTS object_bytes (
  entry_id INTEGER PRIMARY KEY,
  vault_id TEXT NOT NULL,
  bytes    BLOB NOT NULL
);
${goWithObjectBytes('object_bytes')}
-- Objects a parallel put registered at its open (an intermediate replica in
-- iRODS terms), empty until that open's close commits their bytes, with the
-- process holding them open (process-holders.ts): a server that ends before
-- the close leaves them, and the next server start or fsck removes them
-- (intermediate-objects.ts). The triggers end the mark with the commit that
-- gives the object bytes, and with the object.
CREATE TABLE IF NOT EXISTS intermediate_objects (
  entry_id INTEGER PRIMARY KEY,
  vault_id TEXT NOT NULL,
  holder   TEXT NOT NULL
);
${goWithObjectBytes('intermediate_objects')}
CREATE TABLE IF NOT EXISTS auth_names (
  id        INTEGER PRIMARY KEY,
  user_name TEXT NOT NULL,
  auth_name TEXT NOT NULL,
  UNIQUE (user_name, auth_name)
);
`;

/**
 * Opens (creating when new) the catalog at `file` for `zone`; a call waits
 * up to `busyTimeoutMs` for another process's write transaction, and as long
 * for another process that is creating or opening the same catalog.
 */
export function openCatalog(file: string, zone: string, busyTimeoutMs = BUSY_TIMEOUT_MS): Database.Database {
  try {
    return openSqlite(file, busyTimeoutMs, (db) => setUpCatalog(db, zone));
  } catch (err) {
    throw new StoreUnavailableError(file, (err as Error).message);
  }
}

/** Pragmas, tables and the collections, users and groups every catalog has. */
function setUpCatalog(db: Database.Database, zone: string): void {
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode never corrupts; a power loss may drop the last
  // commits, which leaves only repairable orphan vault files.
  db.pragma('synchronous = NORMAL');
  db.transaction(() => {
    db.exec(DDL);
    addAvuSeq(db);
    addEntryCreateTimes(db);
    addAvuTimes(db);
    addPrincipalNotes(db);
    addSpecificQueryTable(db);
    addResourceTable(db);
    const now = new Date().toISOString();
    const zoneRoot = `/${zone}`;
    const insertColl = db.prepare(
      `INSERT OR IGNORE INTO entries (path, parent_id, kind, owner, modified, created)
       VALUES (?, (SELECT id FROM entries WHERE path = ?), 'c', ?, ?, ?)`,
    );
    const insertAcl = db.prepare(
      `INSERT OR IGNORE INTO acl (entry_id, name, level) SELECT id, ?, 3 FROM entries WHERE path = ?`,
    );
    for (const [path, parent, ownedBy = ADMIN_USER] of setupCollections(zoneRoot)) {
      if (insertColl.run(path, parent, ADMIN_USER, now, now).changes > 0) insertAcl.run(ownedBy, path);
    }
    addRootCollection(db, zoneRoot, now);
    db.prepare(`INSERT OR IGNORE INTO principals (name, kind, user_type) VALUES (?, 'user', 'rodsadmin')`).run(ADMIN_USER);
    db.prepare(`INSERT OR IGNORE INTO principals (name, kind, user_type) VALUES (?, 'group', NULL)`).run(PUBLIC_GROUP);
  }).immediate();
}

/**
 * The collections iRODS's catalog setup makes below `/` (iRODS 4.2.12
 * `scripts/irods/database_connect.py` `setup_catalog`, the same in 4.3.5),
 * each with its parent: the zone, its home and trash, the trash's home
 * level, and the homes (and trash homes) of the admin and of the public
 * group. All belong to the admin; the ACL entry each gets, `own`, is the
 * admin's, but the public ones' is public's (the third element). A catalog
 * made before the store kept the homes gets them at its next open.
 */
function setupCollections(zoneRoot: string): Array<[path: string, parent: string | null, ownedBy?: string]> {
  const trash = `${zoneRoot}/trash`;
  return [
    [zoneRoot, null],
    [`${zoneRoot}/home`, zoneRoot],
    [trash, zoneRoot],
    [`${trash}/home`, trash],
    [`${zoneRoot}/home/${PUBLIC_GROUP}`, `${zoneRoot}/home`, PUBLIC_GROUP],
    [`${trash}/home/${PUBLIC_GROUP}`, `${trash}/home`, PUBLIC_GROUP],
    [`${zoneRoot}/home/${ADMIN_USER}`, `${zoneRoot}/home`],
    [`${trash}/home/${ADMIN_USER}`, `${trash}/home`],
  ];
}

/**
 * `/`, the root collection, as iRODS's catalog setup makes it (iRODS 4.2.12
 * and 4.3.5 `scripts/irods/database_connect.py` `setup_catalog`): a
 * collection row whose parent is itself (`parent_coll_name` `/`: GenQuery
 * then lists `/` among the children of `/`, as a real server does in
 * python-irodsclient issue #571, 2024, which does not name the server's
 * version), owned by the zone's admin, with one ACL entry: the
 * admin's own (1200). Public gets nothing on it: with the strict ACL policy
 * of iRODS's default `core.re` (4.2.12 and 4.3.5
 * `packaging/core.re.template`: `acAclPolicy {msiAclPolicy("STRICT"); }`),
 * only rodsadmins see it in GenQuery and stat it. It is the zone
 * collection's parent. A catalog made before the store kept `/` gets it at
 * its next open, after its own collections (their ids stay).
 */
function addRootCollection(db: Database.Database, zoneRoot: string, now: string): void {
  const made = db
    .prepare(`INSERT OR IGNORE INTO entries (path, parent_id, kind, owner, modified, created) VALUES (?, NULL, 'c', ?, ?, ?)`)
    .run(ROOT_PATH, ADMIN_USER, now, now);
  if (made.changes > 0) {
    const id = Number(made.lastInsertRowid);
    db.prepare('UPDATE entries SET parent_id = id WHERE id = ?').run(id);
    db.prepare('INSERT INTO acl (entry_id, name, level) VALUES (?, ?, ?)').run(id, ADMIN_USER, LEVELS.own);
  }
  db.prepare(`UPDATE entries SET parent_id = (SELECT id FROM entries WHERE path = ?) WHERE path = ? AND parent_id IS NULL`).run(ROOT_PATH, zoneRoot);
}

/**
 * `principals.info` and `comment`: what iRODS keeps of a user or group in
 * `R_USER_MAIN.user_info` and `r_comment` (`iadmin moduser NAME info|comment`;
 * python-irodsclient `users.modify`). A catalog made before the columns gets
 * them here, empty.
 */
function addPrincipalNotes(db: Database.Database): void {
  for (const column of ['info', 'comment']) addColumnUnlessThere(db, 'principals', column, "TEXT NOT NULL DEFAULT ''");
}

/**
 * Adds `column` (declared `decl`) to `table` of a catalog made before the
 * column was kept; says whether it did, so the caller fills it in for the
 * rows already there.
 */
function addColumnUnlessThere(db: Database.Database, table: string, column: string, decl: string): boolean {
  const has = db.prepare(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`).pluck().get(table, column) as number;
  if (has > 0) return false;
  db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
  return true;
}

/**
 * `entries.created`: when a collection or data object was made, as iRODS
 * 4.2.12 keeps `create_ts` in `R_COLL_MAIN` and `R_DATA_MAIN`: set by the
 * insert only (`db_plugin.cpp` writes it nowhere else), so a rename, a move
 * to the trash, an overwrite or a touch changes the modify time alone. A row
 * of a catalog made before the column keeps null there, which reads as its
 * modify time: the only time the catalog knew.
 */
function addEntryCreateTimes(db: Database.Database): void {
  addColumnUnlessThere(db, 'entries', 'created', 'TEXT');
}

/**
 * `avus.seq`: AVUs numbered in the order they were added, as iRODS numbers
 * them from a sequence (`meta_id`); the protocol server answers it as
 * `META_*_ATTR_ID`, and clients sort by it to see AVUs in that order
 * (python-irodsclient 0.8.1 `test/meta_test.py`). A catalog made before the
 * column gets it here, its AVUs numbered in key order.
 */
function addAvuSeq(db: Database.Database): void {
  if (addColumnUnlessThere(db, 'avus', 'seq', 'INTEGER')) {
    db.exec(`UPDATE avus SET seq = n.seq FROM
      (SELECT entry_id, attribute, value, unit, row_number() OVER (ORDER BY entry_id, attribute, value, unit) AS seq FROM avus) AS n
      WHERE avus.entry_id = n.entry_id AND avus.attribute = n.attribute AND avus.value = n.value AND avus.unit = n.unit`);
  }
  db.exec('CREATE INDEX IF NOT EXISTS avus_seq ON avus (seq)');
  // The last number given, kept apart from the AVUs: iRODS never gives a
  // meta id twice, so a deleted AVU's number must not come back with the next.
  db.exec('CREATE TABLE IF NOT EXISTS avu_seq (one INTEGER PRIMARY KEY CHECK (one = 1), last INTEGER NOT NULL)');
  db.exec('INSERT OR IGNORE INTO avu_seq (one, last) SELECT 1, coalesce(max(seq), 0) FROM avus');
  db.exec('CREATE TRIGGER IF NOT EXISTS avus_seq_taken AFTER INSERT ON avus BEGIN UPDATE avu_seq SET last = max(last, NEW.seq); END');
}

/**
 * AVU times, as iRODS 4.2.12 keeps them. There an AVU is a row of
 * `R_META_MAIN` (attribute, value, unit, `create_ts`, `modify_ts`) that
 * items link to through `R_OBJT_METAMAP` (which has its own `create_ts` and
 * `modify_ts`, the time of linking); GenQuery's `META_DATA_CREATE_TIME` /
 * `META_DATA_MODIFY_TIME` (604/605) and `META_COLL_*` (614/615) read the
 * meta row's (4.2.12 `plugins/database/src/general_query_setup.cpp`,
 * `r_data_meta_main` / `r_coll_meta_main` are `R_META_MAIN`). Facts from
 * 4.2.12 `plugins/database/src/db_plugin.cpp`:
 * - adding (`db_add_avu_metadata_op`, `findOrInsertAVU`/`findAVU`) reuses
 *   any meta row with the same attribute, value and unit, also one no item
 *   links any more, and makes a new one (both times now) only when none
 *   exists; the link gets now. The API 20002 does the same
 *   (`plugins/api/src/atomic_apply_metadata_operations.cpp`, `get_meta_id`).
 * - removing (`db_del_avu_metadata_op`, and an item's removal) deletes the
 *   link only: the meta row stays, times and all, until `iadmin rum`
 *   (`db_del_unused_avus_op`, `removeAVUs`).
 * - `set` (`db_set_avu_metadata_op`): when the item has exactly one AVU of
 *   the attribute and no other item links its row, that row is updated in
 *   place: new value and unit, `modify_ts` now, `create_ts` and id kept, the
 *   link untouched; otherwise the item's AVUs of the attribute are removed
 *   and the new one added as above.
 * - copying (`db_copy_avu_metadata_op`) links the target to the source's
 *   meta rows: their times, a new link time.
 *
 * Here an AVU is a row of the item it is on, so each `avus` row carries the
 * times its meta row would show (`created`, `modified`) and its link's
 * (`linked`), all iRODS time strings (11-digit seconds). Rows of equal
 * attribute, value and unit stand for one shared meta row: an added AVU
 * takes the times of such a row when one exists. `avu_unused` keeps the
 * meta rows no item links any more (a trigger fills it when the last row of
 * a triple goes, whatever statement removes it; adding the triple again
 * takes its times back and empties it; `iadmin rum` empties it all).
 *
 * A catalog made before the times gets them here: each existing AVU's meta
 * times are the earliest modify time of the items holding that triple (an
 * AVU is added after its item is made, and equal triples share one meta
 * row, so one time for all), its link time its own item's modify time. The
 * catalog knew no better; the open time would claim AVUs newer than they are.
 */
function addAvuTimes(db: Database.Database): void {
  const added = ['created', 'modified', 'linked'].filter((c) => addColumnUnlessThere(db, 'avus', c, "TEXT NOT NULL DEFAULT '00000000000'"));
  db.exec('CREATE INDEX IF NOT EXISTS avus_avu ON avus (attribute, value, unit)');
  if (added.length > 0) {
    const secs = (iso: string) => `printf('%011d', CAST(strftime('%s', ${iso}) AS INTEGER))`;
    db.exec(`UPDATE avus SET linked = ${secs('e.modified')} FROM entries AS e WHERE e.id = avus.entry_id`);
    db.exec(`UPDATE avus SET created = t.first, modified = t.first FROM
      (SELECT attribute, value, unit, min(linked) AS first FROM avus GROUP BY attribute, value, unit) AS t
      WHERE avus.attribute = t.attribute AND avus.value = t.value AND avus.unit = t.unit`);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS avu_unused (
    attribute TEXT NOT NULL,
    value     TEXT NOT NULL,
    unit      TEXT NOT NULL,
    created   TEXT NOT NULL,
    modified  TEXT NOT NULL,
    PRIMARY KEY (attribute, value, unit)
  ) WITHOUT ROWID`);
  db.exec(`CREATE TRIGGER IF NOT EXISTS avus_unlinked AFTER DELETE ON avus
    WHEN NOT EXISTS (SELECT 1 FROM avus WHERE attribute = OLD.attribute AND value = OLD.value AND unit = OLD.unit) BEGIN
    INSERT OR IGNORE INTO avu_unused (attribute, value, unit, created, modified) VALUES (OLD.attribute, OLD.value, OLD.unit, OLD.created, OLD.modified);
  END`);
  db.exec(`CREATE TRIGGER IF NOT EXISTS avus_relinked AFTER INSERT ON avus BEGIN
    DELETE FROM avu_unused WHERE attribute = NEW.attribute AND value = NEW.value AND unit = NEW.unit;
  END`);
}
