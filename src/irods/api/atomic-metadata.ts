/**
 * ATOMIC_APPLY_METADATA_OPERATIONS_APN 20002: a batch of AVU additions and
 * removals on one item, all or none (python-irodsclient 1.1 and later
 * `metadata.apply_atomic_operations`, JSON in `BinBytesBuf_PI`).
 *
 * The facts, from iRODS 4.3.5 `plugins/api/src/atomic_apply_metadata_operations.cpp`
 * and `server/core/src/catalog_utilities.cpp`:
 * - Input `{"entity_name", "entity_type", "operations": [{"operation":
 *   "add"|"remove", "attribute", "value", "units"?}], "admin_mode"?}`; a
 *   buffer that is not JSON is `INPUT_ARG_NOT_WELL_FORMED_ERR`.
 * - The item is looked up as the client sees it (a GenQuery of its own):
 *   a missing name or type, an unknown type, or an item the client cannot
 *   see is `SYS_INVALID_INPUT_PARAM`.
 * - `admin_mode` needs a rodsadmin (`CAT_INSUFFICIENT_PRIVILEGE_LEVEL`) and
 *   skips the permission check; without it a data object or collection
 *   needs `modify_object` (write) or more, a user or resource a rodsadmin
 *   (`CAT_NO_ACCESS_PERMISSION`).
 * - The operations run in order in one transaction; the first bad one
 *   fails the whole batch: a missing or non-string field is
 *   `JSON_VALIDATION_ERROR`, an empty attribute or value
 *   `SYS_INVALID_INPUT_PARAM`, an operation other than add and remove
 *   `INVALID_OPERATION`. Adding an AVU the item has, or removing one it has
 *   not, changes nothing. Success answers `{}`.
 *
 * - A refusal answers, beside its code, a JSON error object in the reply's
 *   buffer: `{"operation", "operation_index", "error_message"}` (the
 *   operation `{}` and index 0 for a refusal of the whole input), which
 *   python-irodsclient 3.3.0's tests read (`meta_test.py`: "Entity does
 *   not exist [entity_name=...]").
 *
 * Where this server differs: a rodsadmin is
 * let in without `admin_mode` too, as for every other call here. This store
 * keeps no metadata on users and resources: for those a permitted batch is
 * `SYS_NOT_SUPPORTED`, as for `imeta` (706).
 *
 * @module
 */
import type { AvuChange } from '../../store/types.js';
import { LEVELS } from '../../store/embedded/schema.js';
import { storeCall } from '../admin/store-errors.js';
import { zonePath } from '../admin/targets.js';
import { localName } from '../admin/user-names.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import type { IrodsErrorName } from '../wire/error-codes.js';
import { IrodsError } from '../wire/irods-error.js';
import { bytesBufReply, jsonOfBytesBuf } from '../wire/json-bytes-buf.js';

/** iRODS 4.3.5 `api_plugin_number_data.h`. */
export const ATOMIC_APPLY_METADATA_OPERATIONS_APN = 20002;

const ENTITY_TYPES = ['data_object', 'collection', 'user', 'resource'] as const;
type EntityType = (typeof ENTITY_TYPES)[number];
const isEntityType = (t: string): t is EntityType => (ENTITY_TYPES as readonly string[]).includes(t);

/** A refusal with iRODS's error object in the reply (`make_error_object`): `op` and `index` name the failing operation. */
function refusal(code: IrodsErrorName, message: string, op: unknown = {}, index = 0): IrodsError {
  return new IrodsError(code, message, bytesBufReply({ operation: op, operation_index: index, error_message: message }));
}

/** The input's JSON; a buffer that holds none is refused with the error object too. */
function inputOf(req: ApiRequest): Record<string, unknown> {
  try {
    return jsonOfBytesBuf(req, 'INPUT_ARG_NOT_WELL_FORMED_ERR');
  } catch (err) {
    throw err instanceof IrodsError ? refusal(err.codeName, err.message) : err;
  }
}

/** An item the input names: a data object's or collection's path, and the client's level on it; a user or resource by name. */
type Entity = { type: EntityType; name: string } & ({ path: string; level: number } | { path?: undefined });

/** The item the input names, checked to exist as the client sees it. */
async function entityOf(ctx: ApiContext, input: Record<string, unknown>): Promise<Entity> {
  const { entity_name: name, entity_type: type } = input;
  if (typeof name !== 'string' || typeof type !== 'string') throw refusal('SYS_INVALID_INPUT_PARAM', 'the input needs "entity_name" and "entity_type", strings');
  if (!isEntityType(type)) throw refusal('SYS_INVALID_INPUT_PARAM', `Invalid entity type specified [entity_type=${type}] (this server takes ${ENTITY_TYPES.join(', ')})`);
  const missing = (): IrodsError => refusal('SYS_INVALID_INPUT_PARAM', `Entity does not exist [entity_name=${name}]`);
  if (type === 'resource') {
    if (!ctx.store.resourceExists(name)) throw missing();
    return { type, name };
  }
  if (type === 'user') {
    if (!(await ctx.store.getPrincipal(localName(name, '', ctx.store.zone, 'SYS_INVALID_INPUT_PARAM')))) throw missing();
    return { type, name };
  }
  let path: string;
  try {
    path = zonePath(ctx, name);
  } catch {
    throw missing();
  }
  const found = ctx.store.protocolCore().read(() => ctx.access.level(ctx.user, path));
  // a GenQuery as the client: an item it may not read is not there
  if (!found || found.entry.kind !== (type === 'data_object' ? 'o' : 'c') || found.level < LEVELS.read) throw missing();
  return { type, name, path, level: found.level };
}

/** The operations of the input, checked in order as the server checks each before running it. */
function changesOf(input: Record<string, unknown>): AvuChange[] {
  const ops = input.operations;
  if (!Array.isArray(ops)) throw refusal('JSON_VALIDATION_ERROR', 'the input needs "operations", a list');
  return ops.map((op: unknown, i): AvuChange => {
    const bad = (code: 'JSON_VALIDATION_ERROR' | 'SYS_INVALID_INPUT_PARAM' | 'INVALID_OPERATION', what: string) =>
      refusal(code, `${what} (operation ${i}; no operation was applied)`, op, i);
    if (typeof op !== 'object' || op === null) throw bad('JSON_VALIDATION_ERROR', 'not a JSON object');
    const { attribute, value, units, operation } = op as Record<string, unknown>;
    if (typeof attribute !== 'string' || typeof value !== 'string') throw bad('JSON_VALIDATION_ERROR', '"attribute" and "value" must be strings');
    if (attribute === '' || value === '') throw bad('SYS_INVALID_INPUT_PARAM', `Empty metadata attribute name or value [attribute=${attribute}, value=${value}]`);
    if (units !== undefined && typeof units !== 'string') throw bad('JSON_VALIDATION_ERROR', '"units" must be a string');
    if (typeof operation !== 'string') throw bad('JSON_VALIDATION_ERROR', '"operation" must be a string');
    if (operation !== 'add' && operation !== 'remove') throw bad('INVALID_OPERATION', `Invalid metadata operation. (${JSON.stringify(operation.slice(0, 40))}; add or remove)`);
    return { op: operation, avu: { attribute, value, unit: units ?? '' } };
  });
}

async function handle(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  const input = inputOf(req);
  const entity = await entityOf(ctx, input);
  const admin = ctx.access.isAdmin(ctx.user);
  if (input.admin_mode === true) {
    if (!admin) throw refusal('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `User is not an administrator (admin_mode needs a rodsadmin; ${ctx.user.name} is not one)`);
  } else if (entity.path === undefined ? !admin : entity.level < LEVELS.write) {
    throw refusal('CAT_NO_ACCESS_PERMISSION', `User not allowed to modify metadata (${ctx.user.name}, ${entity.type} ${entity.name})`);
  }
  const changes = changesOf(input);
  if (entity.path === undefined) {
    throw refusal('SYS_NOT_SUPPORTED', `this store keeps metadata on collections and data objects only, not on ${entity.type}s such as ${entity.name}`);
  }
  const path = entity.path;
  await storeCall(() => ctx.store.applyMetadata(path, changes));
  ctx.log.debug({ path, operations: changes.length }, 'metadata changed atomically');
  return { status: 0, body: bytesBufReply({}) };
}

/** The routes of this module. */
export const atomicMetadataRoutes: ApiRoute[] = [{ api: ATOMIC_APPLY_METADATA_OPERATIONS_APN, name: 'ATOMIC_APPLY_METADATA_OPERATIONS_APN', handle }];
