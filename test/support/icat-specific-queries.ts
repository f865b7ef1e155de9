/**
 * The specific queries of a fresh iRODS 4.2.12 zone, as tests expect them:
 * written down here from iRODS 4.2.12 `plugins/database/src/icatSysInserts.sql`
 * and `scripts/irods/database_upgrade.py`, apart from the store's own list,
 * so that a test compares the two.
 *
 * @module
 */
import { INITIAL_SPECIFIC_QUERIES } from '../../src/store/embedded/specific-queries.js';

/** Their aliases, in the order a fresh 4.2.12 zone registers them (its inserts, then its upgrade steps). */
export const ALIASES_4_2_12 = [
  'ls',
  'lsl',
  'ShowCollAcls',
  'listQueryByAliasLike',
  'findQueryByAlias',
  'ilsLACollections',
  'ilsLADataObjects',
  'listSharedCollectionsOwnedByUser',
  'listSharedCollectionsSharedWithUser',
  'listUserACLForDataObjViaGroup',
  'listUserACLForCollectionViaGroup',
  'DataObjInCollReCur',
  'listGroupsForUser',
];

/** The SQL the store registers under `alias`. */
export const sqlOf = (alias: string): string => INITIAL_SPECIFIC_QUERIES.find((q) => q.alias === alias)!.sql;
