/**
 * A descriptor's info (`GET_FILE_DESCRIPTOR_INFO_APN` 20000) and the close
 * of a replica (`REPLICA_CLOSE_APN` 20004): the API plugins a parallel
 * transfer of python-irodsclient 0.9 and later uses against a server of
 * 4.2.9 or later (this one reports 4.2.12) for objects over 32 MiB. Its
 * first thread opens the object and asks 20000 for the descriptor's
 * `replica_token` and `data_object_info.resource_hierarchy`; the other
 * threads open the object on connections of their own with those as the
 * keywords `replicaToken` and `resc_hier`, seek to their part and close it
 * with 20004 (`update_size`, `update_status`, `compute_checksum` and
 * `send_notification` false); the first thread closes last, with 673
 * (python-irodsclient 1.1.9 and 3.3.0 `parallel.py`, `data_object.py`).
 *
 * The facts of the server side, the same at 4.2.9, 4.2.12 and 4.3.5
 * (`plugins/api/src/get_file_descriptor_info.cpp`, `replica_close.cpp`):
 * - 20000 answers the descriptor's L1 entry as JSON (`to_json(l1desc)`):
 *   its open request, its data object's catalog facts (`data_object_info`),
 *   the byte and status fields, and `replica_token` (empty for a read; a
 *   write open has one). A buffer without a JSON `fd`, or an `fd` that is
 *   not an open descriptor, is `SYS_INVALID_INPUT_PARAM`.
 * - 20004 closes the descriptor. A buffer that is not JSON, or without an
 *   integer `fd`, is `SYS_INTERNAL_ERR`; an `fd` out of range or not open
 *   `BAD_INPUT_DESC_INDEX`; `compute_checksum` without `update_status`
 *   `USER_INCOMPATIBLE_PARAMS`. A read is just closed. A write updates the
 *   catalog as `update_size` and `update_status` say (both by default).
 *
 * Here a write's bytes become the object only at a catalog commit (see
 * `open-close.ts`), so a write closed through 20004 is committed, with its
 * MD5, whatever the flags, unless it is one part of a shared write (see
 * `shared-writes.ts`), whose bytes the first descriptor's close commits.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_RESOURCE, resourceOfVaultId } from '../../store/embedded/resources.js';
import type { ApiContext } from '../server/api.js';
import { IrodsError } from '../wire/irods-error.js';
import type { PiMessage } from '../wire/pi-values.js';
import { bytesBufReply } from '../wire/json-bytes-buf.js';
import { DescriptorTable, DESCRIPTOR_LIMIT, FIRST_DESCRIPTOR, OPEN_TYPE, type OpenFacts } from './descriptors.js';
import { irodsTime } from './irods-time.js';
import { closeDataObject } from './open-close.js';
import { WritableObject, type OpenObject } from './open-objects.js';
import { shareWrite, SharedWriteView } from './shared-writes.js';

/** Replica statuses (iRODS 4.3.5 `objInfo.h`): a write open's replica is intermediate until its close. */
const REPLICA_STATUS = { good: 1, intermediate: 2 } as const;

/** The descriptor number a JSON request names (`fd`); `invalid` when it names none (whether it is open the caller checks). */
function descriptorOf(json: Record<string, unknown>, invalid: 'SYS_INVALID_INPUT_PARAM' | 'SYS_INTERNAL_ERR'): number {
  const fd = json.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd)) throw new IrodsError(invalid, 'the JSON input needs "fd", an integer: the descriptor');
  return fd;
}

/** The answer of 20000: the open descriptor's L1 entry as JSON, in `BinBytesBuf_PI`. */
export function descriptorInfo(ctx: ApiContext, json: Record<string, unknown>): PiMessage {
  const fd = descriptorOf(json, 'SYS_INVALID_INPUT_PARAM');
  const table = DescriptorTable.of(ctx.connection);
  let obj: OpenObject;
  let facts: OpenFacts;
  try {
    obj = table.get(fd);
    facts = table.factsOf(fd);
  } catch (err) {
    // get_l1desc's own error is caught there and answered as bad input
    throw new IrodsError('SYS_INVALID_INPUT_PARAM', (err as Error).message);
  }
  if (obj instanceof WritableObject) {
    // the token a client asks for is to share the write: from now on the descriptor writes through the share
    obj = shareWrite(ctx.store.protocolCore(), obj, randomUUID());
    table.replace(fd, obj);
  }
  return bytesBufReply(l1Entry(ctx, obj, facts));
}

/** A descriptor's entry as iRODS's `to_json(l1desc)` writes it. */
function l1Entry(ctx: ApiContext, obj: OpenObject, facts: OpenFacts): Record<string, unknown> {
  const { request } = facts;
  const writing = facts.openType !== OPEN_TYPE.read;
  const info = dataObjectInfo(ctx, obj.path, writing);
  return {
    l3descInx: 0,
    in_use: true,
    operation_type: request.oprType,
    open_type: facts.openType,
    operation_status: 0,
    data_object_input_replica_flag: 0,
    data_object_input: {
      object_path: request.objPath,
      create_mode: request.createMode,
      open_flags: request.openFlags,
      offset: request.offset,
      data_size: request.dataSize,
      number_of_threads: request.numThreads,
      operation_type: request.oprType,
      special_collection: null,
      condition_input: [...request.keywords].map(([key, value]) => ({ key, value })),
    },
    data_object_info: info,
    other_data_object_info: null,
    copies_needed: 0,
    bytes_written: writing ? obj.size : 0,
    data_size: request.dataSize,
    replica_status: info.replica_status,
    checksum_flag: 0,
    source_l1_descriptor_index: 0,
    checksum: '',
    remote_l1_descriptor_index: 0,
    stage_flag: 0,
    purge_cache_flag: 0,
    lock_file_descriptor: 0,
    replication_data_object_info: null,
    remote_zone_host: null,
    in_pdmo: '',
    // a read has none; a write's is its share's (shared-writes.ts)
    replica_token: obj instanceof SharedWriteView ? obj.shared.token : '',
  };
}

/** `data_object_info` of the object at `path` from its catalog row (a new object, not yet committed here, has none). */
function dataObjectInfo(ctx: ApiContext, path: string, writing: boolean): Record<string, unknown> & { replica_status: number } {
  const core = ctx.store.protocolCore();
  const row = core.read(() => core.row(path));
  const vaultId = row?.vault_id ?? null;
  const resource = vaultId ? resourceOfVaultId(vaultId) : DEFAULT_RESOURCE;
  const time = row ? irodsTime(row.modified) : '';
  return {
    object_path: path,
    resource_name: resource,
    resource_hierarchy: resource,
    data_type: 'generic',
    data_size: row?.size ?? 0,
    checksum: row?.checksum ?? '',
    version: '',
    // as GenQuery's DATA_PATH gives it
    file_path: vaultId ? core.vault.filePath(vaultId) : '',
    data_owner_name: row?.owner ?? ctx.user.name,
    data_owner_zone: ctx.store.zone,
    replica_number: 0,
    is_replica_current: !writing,
    replica_status: writing ? REPLICA_STATUS.intermediate : REPLICA_STATUS.good,
    status_string: '',
    data_id: row?.id ?? 0,
    collection_id: row?.parent_id ?? 0,
    data_map_id: 0,
    flags: 0,
    data_comments: '',
    data_mode: '',
    data_expiry: '00000000000',
    data_create: time,
    data_modify: time,
    data_access: '',
    data_access_index: 0,
    write_flag: writing ? 1 : 0,
    destination_resource_name: '',
    backup_resource_name: '',
    sub_path: '',
    special_collection: null,
    registering_user_id: 0,
    other_flags: 0,
    condition_input: [],
    in_pdmo: '',
    next: null,
    resource_id: 0,
  };
}

/** The flags of a replica close, each true unless the JSON says false (`compute_checksum`: false unless it says true). */
function closeFlag(json: Record<string, unknown>, name: string, otherwise: boolean): boolean {
  const v = json[name];
  if (v === undefined) return otherwise;
  if (typeof v !== 'boolean') throw new IrodsError('SYS_INTERNAL_ERR', `"${name}" must be true or false`);
  return v;
}

/** 20004: closes the descriptor the JSON names (see the module's facts). */
export function replicaClose(ctx: ApiContext, json: Record<string, unknown>): void | Promise<void> {
  const fd = descriptorOf(json, 'SYS_INTERNAL_ERR');
  if (fd < FIRST_DESCRIPTOR || fd >= DESCRIPTOR_LIMIT) throw new IrodsError('BAD_INPUT_DESC_INDEX', `descriptor ${fd} is out of range (${FIRST_DESCRIPTOR} to ${DESCRIPTOR_LIMIT - 1})`);
  const table = DescriptorTable.of(ctx.connection);
  table.get(fd);
  const updateStatus = closeFlag(json, 'update_status', true);
  if (closeFlag(json, 'compute_checksum', false) && !updateStatus) {
    throw new IrodsError('USER_INCOMPATIBLE_PARAMS', 'a checksum cannot be computed without updating the replica status (update_status false)');
  }
  closeFlag(json, 'update_size', true);
  return closeDataObject(ctx, { l1descInx: fd, len: 0, whence: 0, oprType: 0, offset: 0, bytesWritten: 0, keywords: new Map() });
}
