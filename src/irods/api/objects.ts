/**
 * The data object APIs: create 601, open 602, read 675, write 676, seek 674,
 * close 673, unlink 615, rename 627 (objects and collections), checksum 629,
 * stat 633, copy 696 and truncate 652 (API numbers of iRODS 4.3.5
 * `apiNumberData.h`; python-irodsclient 0.8.1 copies with 696 and truncates
 * with 652), and the plugin APIs of parallel transfers: a descriptor's info
 * 20000 and replica close 20004 (`api_plugin_number_data.h`, 4.2.9 to
 * 4.3.5; `replica-access.ts`). The work is in `../objects/`.
 *
 * An open answers its descriptor and nothing else: there is no parallel
 * transfer portal here (the `numThreads` field is not looked at; the
 * keyword of that name marks a client-side parallel transfer, see
 * `open-close.ts`), so every byte goes
 * through the connection with read and write, as with an iRODS server that
 * answers a portal request with zero threads.
 *
 * @module
 */
import { closeDataObject, openDataObject, readDataObject, seekDataObject, writeDataObject } from '../objects/open-close.js';
import { checksumDataObject, copyDataObject, statPath, truncateDataObject, unlinkDataObject } from '../objects/object-ops.js';
import { renameEntry } from '../objects/rename.js';
import { descriptorInfo, replicaClose } from '../objects/replica-access.js';
import { jsonOfBytesBuf } from '../wire/json-bytes-buf.js';
import { dataObjCopyInp, dataObjInp, openedDataObjInp } from '../objects/requests.js';
import type { ApiReply, ApiRoute } from '../server/api.js';
import { STRUCT_AND_BYTES } from '../server/api-inputs.js';
import { encodePi } from '../wire/xml.js';
import { BoundedCache } from '../../bounded-cache.js';

const OK: ApiReply = Object.freeze({ status: 0 });

/** The reply whose status is `n`: at once when `n` is there, else when it is. */
function statusReply(n: number | Promise<number>): ApiReply | Promise<ApiReply> {
  return typeof n === 'number' ? { status: n } : n.then((status) => ({ status }));
}

/** Packed seek replies by offset: a put's seeks are all to 0. */
const lseekReplies = new BoundedCache<number, Buffer>(64);

/** A seek's `fileLseekOut_PI` (numbers only, so one packing fits every client), packed once per offset among the last few. */
function lseekOut(offset: number): Buffer {
  return lseekReplies.get(offset) ?? lseekReplies.set(offset, encodePi({ name: 'fileLseekOut_PI', fields: { offset } }));
}

/** The routes of this module. */
export const objectRoutes: ApiRoute[] = [
  {
    api: 20000,
    name: 'GET_FILE_DESCRIPTOR_INFO_APN',
    handle: (req, ctx) => ({ status: 0, body: descriptorInfo(ctx, jsonOfBytesBuf(req, 'SYS_INVALID_INPUT_PARAM')) }),
  },
  {
    api: 20004,
    name: 'REPLICA_CLOSE_APN',
    handle: (req, ctx) => {
      const closing = replicaClose(ctx, jsonOfBytesBuf(req, 'SYS_INTERNAL_ERR'));
      return closing ? closing.then(() => OK) : OK;
    },
  },
  {
    api: 601,
    name: 'DATA_OBJ_CREATE_AN',
    handle: (req, ctx) => statusReply(openDataObject(ctx, dataObjInp(req), true)),
  },
  {
    api: 602,
    name: 'DATA_OBJ_OPEN_AN',
    handle: (req, ctx) => statusReply(openDataObject(ctx, dataObjInp(req), false)),
  },
  {
    api: 675,
    name: 'DATA_OBJ_READ_AN',
    handle: async (req, ctx) => {
      const { bytes, sent } = await readDataObject(ctx, openedDataObjInp(req));
      return { status: bytes.length, bs: bytes, sent };
    },
  },
  {
    api: 676,
    name: 'DATA_OBJ_WRITE_AN',
    inputs: STRUCT_AND_BYTES,
    handle: (req, ctx) => statusReply(writeDataObject(ctx, openedDataObjInp(req), req.bsParts ?? req.bs)),
  },
  {
    api: 674,
    name: 'DATA_OBJ_LSEEK_AN',
    handle: (req, ctx) => ({ packed: lseekOut(seekDataObject(ctx, openedDataObjInp(req))) }),
  },
  {
    api: 673,
    name: 'DATA_OBJ_CLOSE_AN',
    handle: (req, ctx) => {
      const closing = closeDataObject(ctx, openedDataObjInp(req));
      return closing ? closing.then(() => OK) : OK;
    },
  },
  {
    api: 615,
    name: 'DATA_OBJ_UNLINK_AN',
    handle: async (req, ctx) => {
      await unlinkDataObject(ctx, dataObjInp(req));
      return { status: 0 };
    },
  },
  {
    api: 627,
    name: 'DATA_OBJ_RENAME_AN',
    handle: async (req, ctx) => {
      const { src, dest } = dataObjCopyInp(req);
      await renameEntry(ctx, src, dest);
      return { status: 0 };
    },
  },
  {
    api: 629,
    name: 'DATA_OBJ_CHKSUM_AN',
    handle: async (req, ctx) => ({ status: 0, body: await checksumDataObject(ctx, dataObjInp(req)) }),
  },
  {
    api: 633,
    name: 'OBJ_STAT_AN',
    handle: async (req, ctx) => statPath(ctx, dataObjInp(req)),
  },
  {
    api: 696,
    name: 'DATA_OBJ_COPY_AN',
    handle: async (req, ctx) => {
      const { src, dest } = dataObjCopyInp(req);
      return { status: 0, body: await copyDataObject(ctx, src, dest) };
    },
  },
  {
    api: 652,
    name: 'DATA_OBJ_TRUNCATE_AN',
    handle: async (req, ctx) => {
      await truncateDataObject(ctx, dataObjInp(req));
      return { status: 0 };
    },
  },
];
