/**
 * Creating and removing users and groups as an iRODS server does it for
 * `iadmin mkuser` / `mkgroup` / `rmuser` / `rmgroup`: with the principal come
 * its home collection `/<zone>/home/<name>` and its trash collection
 * `/<zone>/trash/home/<name>`, owned by it (iRODS 4.3.5 `core.re`
 * `acCreateUser` → `acCreateUserZoneCollections`, for groups too); removal
 * removes both when empty and fails with `CAT_COLLECTION_NOT_EMPTY` when one
 * is not (`acDeleteUserZoneCollections`, `db_del_coll_by_admin_op`). Each is
 * one catalog transaction, so a failure changes nothing.
 *
 * @module
 */
import { AlreadyExistsError, NotEmptyError } from '../../store/errors.js';
import { addAuthNameIn } from '../../store/embedded/auth-names.js';
import type { EmbeddedStore } from '../../store/embedded/store.js';
import { createCollectionIn } from '../../store/embedded/collections.js';
import { createPrincipalIn, removePrincipalIn } from '../../store/embedded/principals.js';
import { ADMIN_USER } from '../../store/embedded/schema.js';
import type { PrincipalType } from '../../store/types.js';

/** The collections that come with a principal, in the order iRODS creates them. */
export function homeCollections(store: EmbeddedStore, name: string): [home: string, trash: string] {
  return [`${store.zoneRoot}/home/${name}`, `${store.trashRoot}/home/${name}`];
}

/**
 * Creates a user of a type, or a group, with its home and trash
 * collections, and a user with `authName` (a distinguished name, as
 * `iadmin mkuser NAME TYPE DN` gives one; see `auth-names.ts`).
 * AlreadyExists when the name is taken or a leftover collection sits where
 * its home goes (iRODS refuses that too).
 */
export function createPrincipalWithHome(store: EmbeddedStore, name: string, type: PrincipalType, authName = ''): void {
  const core = store.protocolCore();
  const [home, trash] = homeCollections(store, name);
  core.write(() => {
    createPrincipalIn(core, name, type);
    if (authName !== '') addAuthNameIn(core, name, authName);
    for (const path of [home, trash]) {
      if (core.row(path)) throw new AlreadyExistsError(path, 'collection', `the home of ${name} would go there`);
    }
    createCollectionIn(core, home, name, false);
    // the trash's home level is made on demand; it belongs to the admin, as in iRODS
    createCollectionIn(core, `${store.trashRoot}/home`, ADMIN_USER, false);
    createCollectionIn(core, trash, name, false);
  });
}

/**
 * Removes a user or group (`kind`) with its memberships, ACL entries,
 * password, distinguished names, and its home and trash collections, which must be empty
 * (NotEmpty otherwise; collections already gone are fine).
 */
export function removePrincipalWithHome(store: EmbeddedStore, name: string, kind: 'user' | 'group'): void {
  const core = store.protocolCore();
  core.write(() => {
    for (const path of homeCollections(store, name)) {
      const row = core.row(path);
      if (!row || row.kind !== 'c') continue;
      if (core.q.firstChild.get(row.id)) throw new NotEmptyError(path);
      core.deleteRow(row);
    }
    removePrincipalIn(core, name, kind);
  });
}
