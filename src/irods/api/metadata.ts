/**
 * MOD_AVU_METADATA_AN 706: `imeta add|adda|set|rm|rmw|cp` on collections and
 * data objects (`ModAVUMetadataInp_PI`: `arg0` the operation, `arg1` the item
 * type flag, `arg2` the path, `arg3`…`arg5` attribute, value, unit; for `cp`
 * two flags then two paths). Changing metadata needs write on the item
 * (iRODS 4.3.5 `db_plugin.cpp`: `create metadata`, `modify metadata` and
 * `delete metadata` rank below `modify object`); `cp` needs read on its
 * source (`read metadata`). A `rodsadmin` may do all; the admin mode
 * (`adda`, or the `irodsAdmin` keyword) is for `rodsadmin`s only.
 *
 * @module
 */
import { NotFoundError } from '../../store/errors.js';
import type { Avu, MetadataOp } from '../../store/types.js';
import { copyAvus, removeAvusLike } from '../admin/avu-ops.js';
import { storeCall } from '../admin/store-errors.js';
import { metadataTarget } from '../admin/targets.js';
import type { ApiContext, ApiReply, ApiRequest, ApiRoute } from '../server/api.js';
import { keyValues, text, type PiNode } from '../wire/pi-values.js';
import { IrodsError } from '../wire/irods-error.js';

/** iRODS 4.3.5 `apiNumberData.h`. */
export const MOD_AVU_METADATA_AN = 706;
/** The keyword asking for admin mode (iRODS `ADMIN_KW`). */
const ADMIN_KW = 'irodsAdmin';

/** What the store answers when an AVU to remove or copy is not there: a server's statement touching no rows. */
const noRows = (err: { code: string }) => (err instanceof NotFoundError && err.what === 'metadata' ? 'CAT_SUCCESS_BUT_WITH_NO_INFO' : undefined);

/** `arg<i>` of the request, '' when absent. */
const arg = (body: PiNode | null, i: number) => text(body, `arg${i}`);

/** A required argument; `CAT_INVALID_ARGUMENT` naming it when empty (iRODS checks these before anything else). */
function required(body: PiNode | null, i: number, what: string): string {
  const v = arg(body, i);
  if (v === '') throw new IrodsError('CAT_INVALID_ARGUMENT', `the ${what} (arg${i}) is empty`);
  return v;
}

async function modifyAvus(body: PiNode | null, op: MetadataOp | 'rmw', ctx: ApiContext): Promise<void> {
  const flag = required(body, 1, 'item type');
  const name = required(body, 2, 'item name');
  const avu: Avu = { attribute: required(body, 3, 'attribute'), value: required(body, 4, 'value'), unit: arg(body, 5) };
  const path = await metadataTarget(ctx, flag, name, 'write');
  if (op === 'rmw') await storeCall(() => removeAvusLike(ctx.store, path, avu), noRows);
  else await storeCall(() => ctx.store.modifyMetadata(path, op, avu), noRows);
}

async function copyAll(body: PiNode | null, ctx: ApiContext): Promise<void> {
  const fromFlag = required(body, 1, 'source item type');
  const toFlag = required(body, 2, 'target item type');
  const from = await metadataTarget(ctx, fromFlag, required(body, 3, 'source item name'), 'read');
  const to = await metadataTarget(ctx, toFlag, required(body, 4, 'target item name'), 'write');
  await storeCall(() => copyAvus(ctx.store, from, to), noRows);
}

async function handle(req: ApiRequest, ctx: ApiContext): Promise<ApiReply> {
  const body = req.body;
  const op = arg(body, 0);
  if ((op === 'adda' || keyValues(body).has(ADMIN_KW)) && !ctx.access.isAdmin(ctx.user)) {
    throw new IrodsError('CAT_INSUFFICIENT_PRIVILEGE_LEVEL', `the admin mode of imeta needs a rodsadmin; ${ctx.user.name} is not one`);
  }
  switch (op) {
    case 'add':
    case 'adda':
      await modifyAvus(body, 'add', ctx);
      break;
    case 'set':
    case 'rm':
    case 'rmw':
      await modifyAvus(body, op, ctx);
      break;
    case 'cp':
      await copyAll(body, ctx);
      break;
    case 'mod':
    case 'addw':
    case 'rmi':
      throw new IrodsError('SYS_NOT_SUPPORTED', `imeta ${op} is not served by this store; use add, set, rm, rmw or cp`);
    default:
      throw new IrodsError('CAT_INVALID_ARGUMENT', `unknown metadata operation ${JSON.stringify(op.slice(0, 40))} (add, adda, set, rm, rmw, cp)`);
  }
  ctx.log.debug({ op, path: arg(body, op === 'cp' ? 4 : 2) }, 'metadata changed');
  return {};
}

/** The routes of this module. */
export const metadataRoutes: ApiRoute[] = [{ api: MOD_AVU_METADATA_AN, name: 'MOD_AVU_METADATA_AN', handle }];
