/**
 * The iRODS error codes this server answers, by their iRODS names. Numbers
 * from iRODS 4.3.5 `rodsErrorTable.h`, each checked against python-irodsclient
 * 0.8.1 `irods/exception.py`: that client raises a KeyError for a code its
 * table lacks, so only codes it knows are listed here, but for one that the
 * iRODS version this server reports answers where it has no other (marked
 * below). Add a code here, with its number from both sources, before
 * answering it anywhere.
 *
 * @module
 */
export const IRODS_ERRORS = {
  SYS_HEADER_READ_LEN_ERR: -4000,
  SYS_HEADER_TPYE_LEN_ERR: -6000,
  SYS_EXCEED_CONNECT_CNT: -9000,
  SYS_UNMATCHED_API_NUM: -12000,
  SYS_NO_API_PRIV: -13000,
  SYS_API_INPUT_ERR: -14000,
  SYS_MALLOC_ERR: -16000,
  SYS_OUT_OF_FILE_DESC: -18000,
  SYS_FILE_DESC_OUT_OF_RANGE: -19000,
  SYS_BAD_FILE_DESCRIPTOR: -23000,
  SYS_INTERNAL_NULL_INPUT_ERR: -24000,
  SYS_INVALID_ZONE_NAME: -26000,
  SYS_INVALID_FILE_PATH: -31000,
  SYS_INVALID_RESC_INPUT: -32000,
  SYS_PATH_IS_NOT_A_FILE: -52000,
  SYS_NOT_SUPPORTED: -66000,
  SYS_PROXYUSER_NO_PRIV: -39000,
  SYS_RESC_DOES_NOT_EXIST: -78000,
  SYS_INVALID_PROTOCOL_TYPE: -85000,
  SYS_READ_MSG_BODY_LEN_ERR: -91000,
  SYS_CROSS_ZONE_MV_NOT_SUPPORTED: -109000,
  /** A put whose bytes are not the `dataSize` it announced (4.2.12 `finalize_utilities.cpp` `get_size_in_vault`; -27000 in 4.2.12 `rodsErrorTable.h`). */
  SYS_COPY_LEN_ERR: -27000,
  /**
   * Bad input to an API plugin, such as a JSON buffer without `fd` (4.2.9 to
   * 4.3.5 `get_file_descriptor_info.cpp`). Not in python-irodsclient 0.8.1's
   * table (the clients that call those APIs, 0.9 and later, know it).
   */
  SYS_INVALID_INPUT_PARAM: -130000,
  /** A JSON buffer `replica_close.cpp` cannot read (4.2.9 to 4.3.5); not in 0.8.1's table either. */
  SYS_INTERNAL_ERR: -154000,
  /** A replica a touch names that the object does not have (4.2.12 `plugins/api/src/touch.cpp`); not in 0.8.1's table. */
  SYS_REPLICA_DOES_NOT_EXIST: -164000,
  /** A touch of an object without a good replica, as while it is open for writing (same source); not in 0.8.1's table. */
  SYS_NO_GOOD_REPLICA: -166000,
  /** A JSON input missing a field or with one of the wrong type (4.3.5 `atomic_apply_metadata_operations.cpp`); not in 0.8.1's table. */
  JSON_VALIDATION_ERROR: -172000,
  USER_STRLEN_TOOLONG: -306000,
  USER_API_INPUT_ERR: -307000,
  USER_PACKSTRUCT_INPUT_ERR: -308000,
  USER_FILE_DOES_NOT_EXIST: -310000,
  OVERWRITE_WITHOUT_FORCE_FLAG: -312000,
  UNMATCHED_KEY_OR_INDEX: -313000,
  USER_CHKSUM_MISMATCH: -314000,
  USER__NULL_INPUT_ERR: -316000,
  USER_INPUT_PATH_ERR: -317000,
  USER_INVALID_USERNAME_FORMAT: -319000,
  USER_NO_RESC_INPUT_ERR: -321000,
  USER_MSG_TYPE_NO_SUPPORT: -326000,
  SAME_SRC_DEST_PATHS_ERR: -339000,
  BAD_INPUT_DESC_INDEX: -345000,
  CANT_RM_NON_EMPTY_HOME_COLL: -354000,
  CANT_UNREG_IN_VAULT_FILE: -355000,
  /**
   * A data object that is not there, where 4.2.9 and later have no other
   * answer (4.2.12 `touch.cpp`: a replica number for an object the touch
   * would create). Not in python-irodsclient 0.8.1's table (see
   * `noDataObject` in `objects/open-close.ts` for the calls that answer
   * 0.8.1's CAT_NO_ROWS_FOUND instead).
   */
  OBJ_PATH_DOES_NOT_EXIST: -358000,
  UNIX_FILE_OPEN_ERR: -510000,
  UNIX_FILE_READ_ERR: -512000,
  /**
   * A replica open for writing (iRODS 4.2.9 and later, `logical_locking.cpp`;
   * number from 4.2.12 `rodsErrorTable.h`). Not in python-irodsclient
   * 0.8.1's table: that client raises `KeyError: -405000`, which still
   * fails the call, and newer clients know the code.
   */
  INTERMEDIATE_REPLICA_ACCESS: -405000,
  /**
   * A data object with a replica open for writing, where the whole object
   * is locked rather than one replica (4.2.9 and later `logical_locking.cpp`
   * `try_lock_for_locked_data_object`; number from 4.2.12 and 4.3.5
   * `rodsErrorTable.h`). Not in python-irodsclient 0.8.1's table either.
   */
  LOCKED_DATA_OBJECT_ACCESS: -406000,
  /** A replica close that computes a checksum without updating the status (4.3.5 `replica_close.cpp`); not in 0.8.1's table. */
  USER_INCOMPATIBLE_PARAMS: -402000,
  UNIX_FILE_WRITE_ERR: -513000,
  UNIX_FILE_STAT_ERR: -516000,
  UNIX_FILE_LSEEK_ERR: -518000,
  UNIX_FILE_OPENDIR_ERR: -522000,
  UNIX_FILE_TRUNCATE_ERR: -529000,
  CAT_SQL_ERR: -806000,
  CAT_NO_ROWS_FOUND: -808000,
  CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME: -809000,
  CAT_INVALID_RESOURCE_NET_ADDR: -812000,
  CAT_UNKNOWN_COLLECTION: -814000,
  CAT_INVALID_ARGUMENT: -816000,
  CAT_UNKNOWN_FILE: -817000,
  CAT_NO_ACCESS_PERMISSION: -818000,
  CAT_SUCCESS_BUT_WITH_NO_INFO: -819000,
  CAT_INVALID_USER_TYPE: -820000,
  CAT_COLLECTION_NOT_EMPTY: -821000,
  CAT_UNKNOWN_TABLE: -823000,
  CAT_FAILED_TO_LINK_TABLES: -825000,
  CAT_INVALID_AUTHENTICATION: -826000,
  CAT_INVALID_USER: -827000,
  CAT_INVALID_ZONE: -828000,
  CAT_INVALID_GROUP: -829000,
  CAT_INSUFFICIENT_PRIVILEGE_LEVEL: -830000,
  CAT_INVALID_RESOURCE: -831000,
  CAT_NAME_EXISTS_AS_COLLECTION: -833000,
  CAT_NAME_EXISTS_AS_DATAOBJ: -834000,
  CAT_RESOURCE_NOT_EMPTY: -835000,
  CAT_NOT_A_DATAOBJ_AND_NOT_A_COLLECTION: -836000,
  CAT_RECURSIVE_MOVE: -837000,
  CAT_PASSWORD_EXPIRED: -840000,
  CAT_PASSWORD_ENCODING_ERROR: -850000,
  CAT_UNKNOWN_SPECIFIC_QUERY: -853000,
  PASSWORD_EXCEEDS_MAX_SIZE: -903000,
  /** A plugin API's input that is not JSON (4.3.5 `atomic_apply_metadata_operations.cpp`); not in 0.8.1's table. */
  INPUT_ARG_NOT_WELL_FORMED_ERR: -1084000,
  /** A touch's `reference` that names neither a data object nor a collection (4.2.12 `filesystem.cpp` `last_write_time`). */
  INVALID_OBJECT_TYPE: -1105000,
  /** A metadata operation other than add and remove (same source); not in 0.8.1's table. */
  INVALID_OPERATION: -1811000,
  /**
   * A forced put naming a resource the object has no replica on (4.2.12
   * `rsDataObjPut.cpp` `throw_if_force_put_to_new_resource`; -1803000 in
   * 4.2.12 `rodsErrorTable.h`). Not in python-irodsclient 0.8.1's table.
   */
  HIERARCHY_ERROR: -1803000,
} as const;

/** The name of one of {@link IRODS_ERRORS}. */
export type IrodsErrorName = keyof typeof IRODS_ERRORS;
